//! The ingest job: list → (shard) → skip objects the ledger has seen unchanged → fetch and
//! decode the rest (rayon, in parallel across and within objects) → stage → commit each month
//! (in parallel) and the rejects → the months' rollups → ledger.
//!
//! Safe to rerun, to kill, and to run as many workers at once: every commit is a Delta
//! transaction that merges by `request_id` (so reading an object twice adds nothing), the ledger
//! is appended last (so a run killed before it is redone by the next one), and commits that
//! raced another worker's are recomputed (see [`crate::dataset::retry`]).

mod batch;
mod run_dir;
pub mod shard;

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::dataset::invocations::{MonthChange, MonthCommit, commit_month};
use crate::dataset::ledger::{self, Ledger, LedgerEntry};
use crate::dataset::migrate::is_old_layout;
use crate::dataset::rejects::commit_rejects;
use crate::dataset::retry::{RetryPolicy, retry_conflicts};
use crate::dataset::rollup::{Refresh, refresh_months};
use crate::dataset::stage::{Staged, StagedDay, Stager};
use crate::dataset::{Dataset, DatasetError, Table};
use crate::decode::buffer::with_thread_buffer;
use crate::decode::envelope::{ApiEvent, decode_api_events};
use crate::decode::{DecodeOptions, ObjectBytes, ObjectKind, ObjectSummary, decode_object};
use crate::normalize::ProfileMap;
use crate::pause::pause_point;
use crate::pricing::PriceBookInUse;
use crate::rows::Decoded;
use crate::rows::SourceFormat;
use crate::source::cloudwatch::{CloudWatchError, LogGroupTarget, filter_events};
use crate::source::{Body, DateWindow, Location, SourceObject, Sources};
use batch::Batcher;
use run_dir::RunDir;
use shard::Shard;

/// Decoded slices in flight between the decoders and the stager.
const CHANNEL_SLICES: usize = 8;
/// Months committed at once.
const MONTH_COMMITS: usize = 4;
/// The tables a run writes (the rollups at its end), each opened or created before it reads
/// anything.
const RUN_TABLES: [Table; 5] = [
    Table::Invocations,
    Table::Rejects,
    Table::Ledger,
    Table::DailyUsage,
    Table::LatencyHistogram,
];

/// What an ingest needs besides its objects.
#[derive(Clone, Copy, Debug)]
pub struct IngestOptions<'a> {
    pub profiles: &'a ProfileMap,
    /// Prices every row of the months the ingest touches.
    pub prices: &'a PriceBookInUse,
    /// Draw a progress bar on stderr (only shown on a terminal).
    pub progress: bool,
    /// Forget everything ingested before and rebuild the dataset from these objects.
    pub full_refresh: bool,
    /// Keep only records whose event falls in this window.
    pub window: Option<DateWindow>,
    /// How to fetch objects that are not local files.
    pub sources: &'a Sources,
    /// Only the objects (and log groups) of this shard.
    pub shard: Option<Shard>,
    /// How often a commit that lost a race is recomputed.
    pub retry: RetryPolicy,
}

/// An object that could not be read at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedObject {
    pub uri: Arc<str>,
    pub error: String,
}

/// What one month gained in a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MonthIngest {
    /// Objects that contributed rows.
    pub objects: u64,
    pub commit: MonthCommit,
    /// What bringing the month's rollups up to date did.
    pub rollup: Refresh,
}

/// The outcome of an ingest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IngestReport {
    /// Objects read, by what they turned out to be.
    pub objects_by_kind: BTreeMap<String, u64>,
    pub objects_read: u64,
    /// Objects skipped because the ledger has them at the same version.
    pub objects_unchanged: u64,
    /// Listed objects skipped because they belong to the dataset itself (its tables, reports).
    pub objects_in_dataset: u64,
    /// Objects read again because their version changed; their earlier rows were replaced.
    pub objects_changed: u64,
    /// Records left out because their event time is outside `--since`/`--until`.
    pub outside_window: u64,
    /// CloudWatch log groups read through the API.
    pub log_groups_read: u64,
    pub failed: Vec<FailedObject>,
    pub months: BTreeMap<String, MonthIngest>,
    pub decoded_rows: u64,
    pub rejects: u64,
    pub noise_events: u64,
}

impl IngestReport {
    /// Rows that were new to the dataset.
    pub fn new_rows(&self) -> u64 {
        self.months.values().map(|m| m.commit.inserted).sum()
    }

    /// Rejects as a fraction of everything record-bearing this run decoded (0 when nothing was).
    pub fn reject_ratio(&self) -> f64 {
        let total = self.decoded_rows + self.rejects;
        if total == 0 {
            0.0
        } else {
            self.rejects as f64 / total as f64
        }
    }

    /// Objects that were classified as noise and skipped.
    pub fn objects_skipped(&self) -> u64 {
        self.objects_by_kind
            .iter()
            .filter(|(kind, _)| kind.starts_with("noise:"))
            .map(|(_, n)| n)
            .sum()
    }
}

/// Errors that stop an ingest.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    #[error("decoding thread panicked")]
    Panicked,
    #[error("--full-refresh rebuilds the whole dataset and cannot run as one shard of several")]
    RefreshOfShard,
}

fn kind_name(kind: ObjectKind) -> String {
    match kind {
        ObjectKind::Log(format) => format!("log:{}", format.as_str()),
        ObjectKind::Noise(noise) => format!("noise:{}", noise.as_str()),
        ObjectKind::Unrecognized => "unrecognized".to_owned(),
    }
}

/// Whether `object` lies under the dataset's root (a directory or an S3 prefix).
fn inside_dataset(object: &SourceObject, root: &url::Url) -> bool {
    match (&object.location, root.scheme()) {
        (Location::File(path), "file") => root
            .to_file_path()
            .is_ok_and(|dir| std::path::absolute(path).is_ok_and(|path| path.starts_with(dir))),
        (Location::S3 { .. }, "s3") => object.uri.starts_with(root.as_str()),
        _ => false,
    }
}

/// Ingests `objects` into `dataset`.
pub async fn ingest(
    objects: Vec<SourceObject>,
    dataset: &Dataset,
    options: IngestOptions<'_>,
) -> Result<IngestReport, IngestError> {
    let started = Instant::now();
    if options.full_refresh && options.shard.is_some_and(|s| s.count() > 1) {
        return Err(IngestError::RefreshOfShard);
    }
    // The dataset may sit under an input prefix (`run s3://logs/ --data s3://logs/ledger/`): its
    // tables, logs and reports are never input.
    let (objects, in_dataset): (Vec<SourceObject>, Vec<SourceObject>) = objects
        .into_iter()
        .partition(|o| !inside_dataset(o, dataset.root()));
    if !in_dataset.is_empty() {
        tracing::info!(
            objects = in_dataset.len(),
            dataset = %dataset.root(),
            "skipped the listed objects inside the dataset"
        );
    }
    let objects_listed = objects.len() as u64;
    let objects: Vec<SourceObject> = match options.shard {
        Some(shard) => objects
            .into_iter()
            .filter(|o| shard.holds(&o.uri))
            .collect(),
        None => objects,
    };
    let log_groups: Vec<&LogGroupTarget> = options
        .sources
        .log_groups
        .iter()
        .filter(|g| options.shard.is_none_or(|s| s.holds(&g.uri())))
        .collect();
    if is_old_layout(dataset).await? {
        return Err(DatasetError::OldLayout {
            root: dataset.root().to_string(),
        }
        .into());
    }
    let opened = RUN_TABLES.map(|table| async move {
        retry_conflicts(&dataset.table_location(table), options.retry, || async {
            dataset.open_or_create(table).await.map(drop)
        })
        .await
    });
    futures::future::try_join_all(opened).await?;
    if options.full_refresh {
        clear_data(dataset).await?;
    }
    let ledger_table = dataset.open(Table::Ledger, None).await?;
    let group_uris: Vec<String> = log_groups.iter().map(|g| g.uri()).collect();
    let uris: Vec<&str> = objects
        .iter()
        .map(|o| &*o.uri)
        .chain(group_uris.iter().map(String::as_str))
        .collect();
    let ledger = Ledger::load(&ledger_table, &uris).await?;
    let objects_in_shard = objects.len() as u64;
    let (todo, unchanged) = partition_by_ledger(objects, &ledger);
    tracing::info!(
        target: "ingest_planned",
        listed = objects_listed,
        in_shard = objects_in_shard,
        unchanged,
        to_read = todo.len(),
        "planned"
    );
    let plan_time = started.elapsed();

    let temp_dir = std::env::temp_dir();
    let (work, abandoned) =
        RunDir::create_in(&temp_dir).map_err(|e| DatasetError::io(&temp_dir, e))?;
    if !abandoned.is_empty() {
        tracing::info!(
            target: "run_dirs_removed",
            removed = abandoned.len(),
            first = %abandoned[0].display(),
            "removed the working directories of runs that were killed"
        );
    }
    // Shared with the fetcher task, which outlives no borrow.
    let listed = Arc::new(todo);
    let window = options.window.map(|w| w.ms_range());
    let mut stager = Stager::new(work.path().join("staged"), window)?;
    let now_ms = chrono::Utc::now().timestamp_millis();
    let mut failed = Vec::new();
    let mut group_entries = Vec::new();
    for target in log_groups {
        match stage_log_group(target, &ledger, &mut stager, options, now_ms).await {
            Ok(entry) => group_entries.push(entry),
            Err(LogGroupError::Read(error)) => failed.push(FailedObject {
                uri: Arc::from(target.uri()),
                error: error.to_string(),
            }),
            Err(LogGroupError::Stage(error)) => return Err(error.into()),
        }
    }
    let (staged, outcomes) = tokio::task::block_in_place(|| {
        decode_all(Arc::clone(&listed), options.sources, stager, options)
    })?;
    let fetch_decode_time = started.elapsed() - plan_time;
    tracing::info!(
        target: "objects_decoded",
        objects = listed.len(),
        rows = staged.rows(),
        rejects = staged.rejects,
        seconds = fetch_decode_time.as_secs_f64(),
        "decoded"
    );
    pause_point("staged");

    // A changed object that was read again replaces its earlier rows, in every month they were;
    // one that could not be read keeps them.
    let replaced: Vec<&LedgerEntry> = listed
        .iter()
        .zip(&outcomes)
        .filter(|(_, outcome)| outcome.is_ok())
        .filter_map(|(object, _)| ledger.get(&object.uri))
        .collect();
    let mut months: BTreeMap<String, (BTreeMap<String, StagedDay>, Vec<String>)> = BTreeMap::new();
    for entry in &replaced {
        for month in &entry.months {
            months
                .entry(month.clone())
                .or_default()
                .1
                .push(entry.uri.clone());
        }
    }
    for (month, staged_month) in &staged.months {
        months.entry(month.clone()).or_default().0 = staged_month.days.clone();
    }
    let mut report = IngestReport {
        objects_unchanged: unchanged,
        objects_in_dataset: in_dataset.len() as u64,
        objects_changed: replaced.len() as u64,
        rejects: staged.rejects,
        noise_events: staged.noise_events,
        decoded_rows: staged.rows(),
        outside_window: staged.outside_window,
        log_groups_read: group_entries.len() as u64,
        failed,
        ..IngestReport::default()
    };
    let work_dir = work.path();
    let runtime = tokio::runtime::Handle::current();
    let commit_one =
        |(month, (days, replaced)): (&String, &(BTreeMap<String, StagedDay>, Vec<String>))| {
            let change = MonthChange {
                month,
                days,
                replaced,
            };
            let commit = runtime.block_on(commit_month(
                dataset,
                change,
                options.prices,
                work_dir,
                options.retry,
            ))?;
            tracing::info!(
                target: "month_committed",
                month = change.month,
                inserted = commit.inserted,
                updated = commit.updated,
                deleted = commit.deleted,
                files_read = commit.files_read,
                files_skipped = commit.files_skipped,
                version = commit.version,
                "committed"
            );
            pause_point("month-committed");
            Ok::<_, DatasetError>((month.clone(), commit))
        };
    // The rejects are another table: they are committed while the months are.
    let replaced_uris: Vec<String> = replaced.iter().map(|e| e.uri.clone()).collect();
    let rejects_commit = async {
        commit_rejects(
            dataset,
            staged.rejects_dir.as_deref(),
            &replaced_uris,
            options.retry,
        )
        .await?;
        pause_point("rejects-committed");
        Ok::<_, DatasetError>(())
    };
    // Each month is committed on a thread of its own (at most MONTH_COMMITS at once), the rejects
    // on another. As futures of this one task, a month choosing its copies or encoding its files
    // held up the others: the commit phase took as long on two cores as on one.
    let pending = Mutex::new(months.iter());
    let (commits, rejects_committed) = tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            let rejects = scope.spawn(|| runtime.block_on(rejects_commit));
            let committers: Vec<_> = (0..MONTH_COMMITS.min(months.len()))
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let next = pending
                                .lock()
                                .expect("no committer panics holding it")
                                .next();
                            let Some(month) = next else { break done };
                            done.push(commit_one(month));
                        }
                    })
                })
                .collect();
            let commits: Vec<_> = committers.into_iter().flat_map(joined).collect();
            (commits, joined(rejects))
        })
    });
    for outcome in commits {
        let (month, commit) = outcome?;
        let staged_month = staged.months.get(&month);
        report.months.insert(
            month,
            MonthIngest {
                objects: staged_month.map_or(0, |m| m.sources.len() as u64),
                commit,
                rollup: Refresh::default(),
            },
        );
    }
    rejects_committed?;
    let committed: Vec<String> = report.months.keys().cloned().collect();
    for (month, refresh) in refresh_months(dataset, &committed, options.retry).await? {
        tracing::info!(
            target: "rollup_refreshed",
            month,
            rollup_files_read = refresh.files_read,
            rollup_rows = refresh.rows,
            rollup_rebuilt = refresh.rebuilt,
            "rollups refreshed"
        );
        if let Some(ingest) = report.months.get_mut(&month) {
            ingest.rollup = refresh;
        }
    }
    pause_point("rollups-refreshed");

    let months_of = months_by_source(&staged);
    let mut entries = group_entries;
    for (object, outcome) in listed.iter().zip(outcomes) {
        match outcome {
            Ok(summary) => {
                report.objects_read += 1;
                *report
                    .objects_by_kind
                    .entry(kind_name(summary.kind))
                    .or_default() += 1;
                entries.push(ledger_entry(object, &summary, &months_of, now_ms));
            }
            Err(error) => report.failed.push(FailedObject {
                uri: Arc::clone(&object.uri),
                error: error.to_string(),
            }),
        }
    }
    // A blind append conflicts with nothing, but a network fault can still interrupt it: it is
    // retried on a fresh table (an append that landed before the fault is then repeated, which
    // is harmless: the entry in force of a URI is its newest, and the copies are equal).
    let ledger_location = dataset.table_location(Table::Ledger);
    retry_conflicts(&ledger_location, options.retry, || async {
        let table = dataset.open(Table::Ledger, None).await?;
        ledger::append(table, &entries).await.map(drop)
    })
    .await?;
    tracing::info!(
        target: "ingest_finished",
        plan_seconds = plan_time.as_secs_f64(),
        fetch_decode_seconds = fetch_decode_time.as_secs_f64(),
        commit_seconds = (started.elapsed() - plan_time - fetch_decode_time).as_secs_f64(),
        "finished"
    );
    Ok(report)
}

/// What a scoped thread returned; its panic goes on in the caller.
fn joined<T>(thread: std::thread::ScopedJoinHandle<'_, T>) -> T {
    thread
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// How far back from a log group's watermark a run reads again, for events that reach
/// CloudWatch late; deduplication makes the overlap harmless.
const LOG_GROUP_OVERLAP_MS: i64 = 15 * 60 * 1000;

#[derive(Debug)]
enum LogGroupError {
    Read(CloudWatchError),
    Stage(DatasetError),
}

/// Reads a log group from its watermark (or the window's start) up to now (or the window's end)
/// into the stager, and returns its new ledger entry (the watermark is the entry's version).
async fn stage_log_group(
    target: &LogGroupTarget,
    ledger: &Ledger,
    stager: &mut Stager,
    options: IngestOptions<'_>,
    now_ms: i64,
) -> Result<LedgerEntry, LogGroupError> {
    let uri = target.uri();
    let watermark = ledger.get(&uri).and_then(|e| e.version.parse::<i64>().ok());
    let start_ms = match (options.window, watermark) {
        (Some(window), _) => window.ms_range().start,
        (None, Some(watermark)) => watermark - LOG_GROUP_OVERLAP_MS,
        (None, None) => 0,
    };
    let end_ms = options.window.map_or(now_ms, |w| w.ms_range().end);
    let client = options
        .sources
        .cloudwatch
        .as_ref()
        .expect("a client comes with every log group");
    let mut entry = LedgerEntry {
        uri: uri.clone(),
        size_bytes: 0,
        version: String::new(),
        kind: format!("log:{}", SourceFormat::CloudWatchLogs.as_str()),
        records: 0,
        rejects: 0,
        months: Vec::new(),
        ingested_at_ms: now_ms,
    };
    let mut months = std::collections::BTreeSet::new();
    let mut newest = watermark.unwrap_or(0);
    let mut staging_error = None;
    // Each page is decoded and staged as it arrives: a log group is never held in memory whole.
    let read = filter_events(client, target, start_ms, end_ms, |page| {
        let events: Vec<ApiEvent> = page
            .into_iter()
            .map(|e| ApiEvent {
                source: Arc::from(format!(
                    "cwlogs://{}/{}/{}",
                    target.group, e.stream, e.event_id
                )),
                timestamp_ms: e.timestamp_ms,
                message: e.message,
            })
            .collect();
        entry.size_bytes += events.iter().map(|e| e.message.len() as u64).sum::<u64>();
        newest = events.iter().map(|e| e.timestamp_ms).fold(newest, i64::max);
        let decoded = decode_api_events(&events, options.profiles);
        entry.records += decoded.invocations.len() as u64;
        entry.rejects += decoded.rejects.len() as u64;
        months.extend(decoded.invocations.iter().map(|i| i.month()));
        if staging_error.is_none()
            && let Err(error) = stager.add(decoded)
        {
            staging_error = Some(error);
        }
    })
    .await;
    if let Some(error) = staging_error {
        return Err(LogGroupError::Stage(error));
    }
    read.map_err(LogGroupError::Read)?;
    entry.months = months.into_iter().collect();
    entry.version = newest.to_string();
    Ok(entry)
}

/// Splits `objects` into those to read and the number the ledger has at the same version.
fn partition_by_ledger(objects: Vec<SourceObject>, ledger: &Ledger) -> (Vec<SourceObject>, u64) {
    let (unchanged, todo): (Vec<SourceObject>, Vec<SourceObject>) = objects
        .into_iter()
        .partition(|o| ledger.get(&o.uri).is_some_and(|e| e.version == o.version));
    (todo, unchanged.len() as u64)
}

fn months_by_source(staged: &Staged) -> BTreeMap<Arc<str>, Vec<String>> {
    let mut months: BTreeMap<Arc<str>, Vec<String>> = BTreeMap::new();
    for (month, staged_month) in &staged.months {
        for source in &staged_month.sources {
            months
                .entry(Arc::clone(source))
                .or_default()
                .push(month.clone());
        }
    }
    months
}

fn ledger_entry(
    object: &SourceObject,
    summary: &ObjectSummary,
    months_of: &BTreeMap<Arc<str>, Vec<String>>,
    now_ms: i64,
) -> LedgerEntry {
    LedgerEntry {
        uri: object.uri.to_string(),
        size_bytes: object.size_bytes,
        version: object.version.clone(),
        kind: kind_name(summary.kind),
        records: summary.invocations,
        rejects: summary.rejects,
        months: months_of.get(&object.uri).cloned().unwrap_or_default(),
        ingested_at_ms: now_ms,
    }
}

/// `--full-refresh`: every table emptied in one commit each (older versions stay readable
/// with `--as-of` until `maintain` vacuums them).
async fn clear_data(dataset: &Dataset) -> Result<(), DatasetError> {
    for table in RUN_TABLES {
        dataset
            .open(table, None)
            .await?
            .delete()
            .await
            .map_err(|e| DatasetError::delta(dataset.table_location(table), e))?;
    }
    Ok(())
}

fn progress_bar(objects: &[SourceObject], enabled: bool) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let total: u64 = objects.iter().map(|o| o.size_bytes).sum();
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
        )
        .expect("the template is valid"),
    );
    bar
}

type Outcome = Result<ObjectSummary, std::io::Error>;

/// Compressed bytes that may be fetched and not yet decoded, in KiB: bounds memory however
/// large the objects are (an object larger than this is fetched alone).
const FETCH_BUDGET_KIB: u32 = 256 * 1024;
/// Objects fetched at once.
const FETCH_CONCURRENCY: usize = 8;

/// A fetched object on its way to a decoder, holding its share of the fetch budget (none for a
/// local file, which is read as it is decoded).
type Fetched = (usize, std::io::Result<Body>, Option<OwnedSemaphorePermit>);

/// Compressed bytes of local files one decoding task takes in turn: small files are decoded in
/// runs, so that their rows reach the stager in a few batches rather than one message each.
const RUN_BYTES: u64 = 1 << 20;

/// Cuts the files, in the order given, into runs of about [`RUN_BYTES`] (a larger file is a run
/// of its own).
fn runs_of_files(files: Vec<(usize, Body)>, objects: &[SourceObject]) -> Vec<Vec<(usize, Body)>> {
    let mut runs = Vec::new();
    let mut run = Vec::new();
    let mut run_bytes = 0;
    for (index, body) in files {
        run_bytes += objects[index].size_bytes;
        run.push((index, body));
        if run_bytes >= RUN_BYTES {
            runs.push(std::mem::take(&mut run));
            run_bytes = 0;
        }
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

thread_local! {
    /// The bytes of the last small file this thread read, kept for the next.
    static FILE_BYTES: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Decodes one object's body: whole when it is in memory or a small file, else streamed.
fn decode_body(
    object: &SourceObject,
    body: &Body,
    options: DecodeOptions<'_>,
    emit: &mut dyn FnMut(Decoded),
) -> std::io::Result<ObjectSummary> {
    with_thread_buffer(&FILE_BYTES, |buffer| {
        let bytes = match body.whole(buffer)? {
            Some(whole) => ObjectBytes::Whole(whole),
            None => ObjectBytes::Stream(&|| body.open()),
        };
        decode_object(&object.uri, &object.name, bytes, options, emit)
    })
}

/// Fetches objects on the async runtime (bounded concurrency and bytes in flight) and decodes
/// them on the rayon pool while this thread stages what they yield; when every object is a local
/// file, the decoders open the files themselves. Returns the outcome of each object, in the
/// order given.
fn decode_all(
    objects: Arc<Vec<SourceObject>>,
    sources: &Sources,
    mut stager: Stager,
    options: IngestOptions<'_>,
) -> Result<(Staged, Vec<Outcome>), IngestError> {
    // Largest first, so one big object does not start last and run alone.
    let mut order: Vec<usize> = (0..objects.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&objects[a], &objects[b]);
        b.size_bytes
            .cmp(&a.size_bytes)
            .then_with(|| a.uri.cmp(&b.uri))
    });
    let bar = progress_bar(&objects, options.progress);
    // Local files need no fetching: the decoders take them straight from the list, in runs of
    // small files. Handing each one over from the async runtime cost two thread wake-ups per
    // object, a tenth of an ingest of small objects on two cores.
    let local_bodies: Option<Vec<(usize, Body)>> = order
        .iter()
        .map(|&index| Some((index, objects[index].local_body()?)))
        .collect();
    let (fetched, fetcher) = if let Some(bodies) = local_bodies {
        let local = runs_of_files(bodies, &objects)
            .into_par_iter()
            .with_max_len(1)
            .flat_map_iter(|run| run.into_iter().map(|(index, body)| (index, Ok(body), None)));
        (rayon::iter::Either::Left(local), None)
    } else {
        let (fetched_tx, mut fetched_rx) = tokio::sync::mpsc::channel(FETCH_CONCURRENCY);
        let fetcher = tokio::runtime::Handle::current().spawn(fetch_all(
            Arc::clone(&objects),
            order,
            sources.clone(),
            fetched_tx,
        ));
        let fetched = std::iter::from_fn(move || fetched_rx.blocking_recv()).par_bridge();
        (rayon::iter::Either::Right(fetched), Some(fetcher))
    };
    let (sender, receiver) = sync_channel::<Decoded>(CHANNEL_SLICES);
    let decode_options = DecodeOptions {
        normalizer: options.profiles,
    };

    let (outcomes, staged) = std::thread::scope(|scope| {
        let decoder = scope.spawn(|| {
            fetched
                .map_with(Batcher::new(sender), |batcher, (index, body, _permit)| {
                    let object = &objects[index];
                    let outcome = body.and_then(|body| {
                        decode_body(object, &body, decode_options, &mut |d| batcher.add(d))
                    });
                    bar.inc(object.size_bytes);
                    (index, outcome)
                })
                .collect::<Vec<_>>()
        });
        let mut staging_error = None;
        for decoded in receiver {
            if let Err(error) = stager.add(decoded) {
                staging_error = Some(error);
                break;
            }
        }
        let outcomes = decoder.join().map_err(|_| IngestError::Panicked)?;
        match staging_error {
            Some(error) => Err(IngestError::from(error)),
            None => Ok((outcomes, stager.finish()?)),
        }
    })?;
    if let Some(fetcher) = fetcher {
        fetcher.abort();
    }
    bar.finish_and_clear();
    let mut in_order: Vec<Option<Outcome>> = (0..objects.len()).map(|_| None).collect();
    for (index, outcome) in outcomes {
        in_order[index] = Some(outcome);
    }
    Ok((
        staged,
        in_order
            .into_iter()
            .map(|o| o.expect("every object has an outcome"))
            .collect(),
    ))
}

/// Fetches the objects in `order`, a few at a time and within [`FETCH_BUDGET_KIB`].
async fn fetch_all(
    objects: Arc<Vec<SourceObject>>,
    order: Vec<usize>,
    sources: Sources,
    fetched: tokio::sync::mpsc::Sender<Fetched>,
) {
    let budget = Arc::new(Semaphore::new(FETCH_BUDGET_KIB as usize));
    let fetches = futures::stream::iter(order).map(|index| {
        let (objects, sources, budget) =
            (Arc::clone(&objects), sources.clone(), Arc::clone(&budget));
        async move {
            let object = &objects[index];
            let kib = match object.location {
                Location::File(_) => 0,
                Location::S3 { .. } => u32::try_from(object.size_bytes.div_ceil(1024))
                    .unwrap_or(u32::MAX)
                    .min(FETCH_BUDGET_KIB),
            };
            let permit = budget
                .acquire_many_owned(kib)
                .await
                .expect("the budget is never closed");
            (index, sources.fetch(object).await, Some(permit))
        }
    });
    let mut fetches = fetches.buffer_unordered(FETCH_CONCURRENCY);
    while let Some(item) = fetches.next().await {
        if fetched.send(item).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_files_are_decoded_in_runs_and_large_ones_alone() {
        const KIB: u64 = 1024;
        // (file sizes, in the order given; the runs, as indexes)
        let cases: &[(&[u64], &[&[usize]])] = &[
            (&[], &[]),
            (&[10 * KIB], &[&[0]]),
            (&[3 * RUN_BYTES, RUN_BYTES, 10 * KIB], &[&[0], &[1], &[2]]),
            (
                &[600 * KIB, 600 * KIB, 100 * KIB, 100 * KIB, 100 * KIB],
                &[&[0, 1], &[2, 3, 4]],
            ),
            (&[RUN_BYTES - 1, 1, 1], &[&[0, 1], &[2]]),
        ];
        for (sizes, expected) in cases {
            let objects: Vec<SourceObject> = sizes
                .iter()
                .enumerate()
                .map(|(i, &size_bytes)| SourceObject {
                    uri: Arc::from(format!("file:///{i}")),
                    name: i.to_string(),
                    location: Location::File(format!("/{i}").into()),
                    size_bytes,
                    version: String::new(),
                })
                .collect();
            let files = objects
                .iter()
                .enumerate()
                .map(|(i, o)| (i, o.local_body().unwrap()))
                .collect();
            let runs: Vec<Vec<usize>> = runs_of_files(files, &objects)
                .into_iter()
                .map(|run| run.into_iter().map(|(i, _)| i).collect())
                .collect();
            assert_eq!(runs, *expected, "{sizes:?}");
        }
    }
}
