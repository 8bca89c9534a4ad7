//! Committing a run's rows into one month of the `invocations` table.
//!
//! A month gains rows a span of UTC days at a time (a day, or consecutive days that hold few
//! rows together), each span as if through a Delta MERGE keyed on `request_id`: a request the
//! month does not hold yet is inserted, and one it holds is replaced only by a preferred copy.
//! So each request is stored once, and which copy is kept does not depend on arrival order
//! ([`super::copies`]). The run's own copies of a span's requests are reduced to one first.
//!
//! Copies of one request carry the same record timestamp (every delivery path carries the
//! record verbatim; only a record without one falls back to its framing's time, which is
//! seconds to minutes off). So a span's merge reads only the stored rows within
//! [`COPY_SKEW_MS`] of it: the target scan skips every other file by its `timestamp`
//! statistics, memory is bounded by [`MERGE_ROWS`] (or one day's rows, if more), and a nightly
//! increment costs the day's requests, not the month already stored.
//!
//! Most spans hold only requests the month has never seen (a night's new requests). A cheap
//! check streams just the request ids of the span's stored files; when none of the span's
//! requests is there, its rows stream from staging through pricing into new files (a writer
//! per core) and are committed as a MERGE that matched nothing, declaring the same read
//! predicate. Only a span that meets stored copies runs the real MERGE, which holds the span's
//! stored files in memory while it decides which to rewrite.
//!
//! Either commit records what it read: when another writer committed files that could hold rows
//! of the same days (by partition and file statistics) since the snapshot it read, Delta refuses
//! the commit and the loser recomputes it from the new snapshot ([`super::retry`]), finding the
//! winner's rows. Writers of different months or far-apart days never wait for each other.
//!
//! After a run's commits its months' rollups are brought up to date together
//! ([`super::rollup::refresh_months`]): a nightly insert sums just its new files into them.
//!
//! Every row records the SHA-256 of the price book that priced it (`price_book_sha256`). A month
//! that holds rows priced with another book than the run's is repriced whole first, in one
//! commit, so a month is always priced with one book when its writers share a book.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::datatypes::SchemaRef;
use datafusion::prelude::{Expr, ParquetReadOptions, SessionContext, col, lit};
use datafusion::scalar::ScalarValue;
use deltalake::DeltaTable;
use deltalake::kernel::transaction::CommitBuilder;
use deltalake::kernel::{Action, Add};
use deltalake::protocol::{DeltaOperation, MergePredicate};
use deltalake::writer::{DeltaWriter, RecordBatchWriter};
use futures::StreamExt;
use object_store::ObjectStoreExt;
use parquet::arrow::ArrowWriter;

use super::batch::conform;
use super::copies::{SpanCopies, copy_rank_sql};
use super::read::register_snapshot;
use super::retry::{RetryPolicy, is_conflict, retry_conflicts};
use super::rollup::refresh_month;
use super::stage::StagedDay;
use super::tables::{data_files, file_month, invocations_table_schema};
use super::write::{Landing, dataset_properties, land_file, staging_properties};
use super::{Dataset, DatasetError, Table, session};
use crate::pause::pause_point;
use crate::rows::PriceRows;
use crate::rows::schema::{INVOCATION_BASE_SCHEMA, MONTH, PRICE_BOOK};

/// How far apart in time two copies of one request may be: a span's merge matches stored rows
/// this much before and after the span.
pub const COPY_SKEW_MS: i64 = 86_400_000;

/// Rows one merge takes: consecutive days are merged together up to this many (a day with more
/// is merged alone). A backfill of sparse days takes few commits; a merge's sort and join stay
/// within memory.
pub const MERGE_ROWS: u64 = 400_000;

/// What the commits of a month did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MonthCommit {
    /// Requests the month did not hold before.
    pub inserted: u64,
    /// Requests replaced by a preferred copy.
    pub updated: u64,
    /// Rows removed because the object they came from changed (its new rows are inserted).
    pub deleted: u64,
    /// Rows repriced because the month held rows priced with another book.
    pub repriced: Option<u64>,
    /// Stored data files the merges read, and those they skipped by partition and statistics.
    pub files_read: u64,
    pub files_skipped: u64,
    /// The table version the last commit created (the version read, when there was nothing to
    /// do).
    pub version: u64,
}

impl MonthCommit {
    fn absorb(&mut self, next: MonthCommit) {
        self.inserted += next.inserted;
        self.updated += next.updated;
        self.deleted += next.deleted;
        self.repriced = next.repriced.or(self.repriced);
        self.files_read += next.files_read;
        self.files_skipped += next.files_skipped;
        self.version = self.version.max(next.version);
    }
}

/// The rows a run brings to one month.
#[derive(Clone, Copy, Debug)]
pub struct MonthChange<'a> {
    pub month: &'a str,
    /// The run's staged Parquet files (base columns) of each UTC day, by `YYYY-MM-DD`.
    pub days: &'a BTreeMap<String, StagedDay>,
    /// Sources whose rows in the month are replaced (objects that changed since last read).
    pub replaced: &'a [String],
}

/// The source row `s` is preferred over the target row `t` (see [`super::copies`]).
fn preferred_over_target() -> String {
    let (s, t) = (copy_rank_sql("s."), copy_rank_sql("t."));
    format!(
        "({s} < {t} OR ({s} = {t} AND (s.source < t.source \
         OR (s.source = t.source AND s.source_line < t.source_line))))"
    )
}

/// `'a', 'b'` for an SQL `IN` list.
pub(crate) fn sql_list(values: &[String]) -> String {
    let quoted: Vec<String> = values
        .iter()
        .map(|v| format!("'{}'", v.replace('\'', "''")))
        .collect();
    quoted.join(", ")
}

fn quoted_columns(schema: &SchemaRef, prefix: &str) -> String {
    let names: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| format!("{prefix}\"{}\"", f.name()))
        .collect();
    names.join(", ")
}

fn month_location(dataset: &Dataset, month: &str) -> String {
    format!(
        "{}{MONTH}={month}",
        dataset.table_location(Table::Invocations)
    )
}

/// Applies `change` to its month with the run's price book, retrying each commit on conflicts:
/// the replaced sources' rows are deleted, the month is repriced if another book priced it,
/// then each span of days is committed. Each commit is complete on its own, so a run stopped
/// between them leaves a table that its rerun completes. `work_dir` is private to the run
/// (the priced rows are written there first). The month's rollups are left to the caller
/// ([`super::rollup::refresh_months`]), which refreshes every month it committed at once.
pub async fn commit_month(
    dataset: &Dataset,
    change: MonthChange<'_>,
    prices: &dyn PriceRows,
    work_dir: &Path,
    policy: RetryPolicy,
) -> Result<MonthCommit, DatasetError> {
    let month = change.month;
    let location = month_location(dataset, month);
    let mut commit = MonthCommit::default();
    if !change.replaced.is_empty() {
        commit.absorb(
            retry_conflicts(&location, policy, || async {
                let table = dataset.open(Table::Invocations, None).await?;
                delete_replaced(table, month, change.replaced).await
            })
            .await?,
        );
    }
    commit.absorb(
        retry_conflicts(&location, policy, || async {
            let table = dataset.open(Table::Invocations, None).await?;
            if priced_with_another_book(&table, month, prices.sha256()).await? {
                reprice_rows(table, month, prices, work_dir).await
            } else {
                Ok(MonthCommit {
                    version: table.version().unwrap_or(0),
                    ..MonthCommit::default()
                })
            }
        })
        .await?,
    );
    for days in spans(change.days, MERGE_ROWS) {
        let (first, last) = (days[0].0, days[days.len() - 1].0);
        let span = DaySpan::of(first)?.through(DaySpan::of(last)?);
        let started = Instant::now();
        let files = days.iter().flat_map(|(_, day)| day.files.iter().cloned());
        let copies = tokio::task::block_in_place(|| SpanCopies::choose(files.collect()))?;
        let span_commit = retry_conflicts(&location, policy, || async {
            let table = dataset.open(Table::Invocations, None).await?;
            commit_span(table, month, span, &copies, prices, work_dir).await
        })
        .await?;
        tracing::debug!(
            target: "span_committed",
            first = first.as_str(),
            last = last.as_str(),
            rows = copies.rows(),
            requests = copies.requests(),
            inserted = span_commit.inserted,
            updated = span_commit.updated,
            seconds = started.elapsed().as_secs_f64(),
            "span committed"
        );
        commit.absorb(span_commit);
    }
    Ok(commit)
}

/// Reprices every row of `month` with `prices`, from the stored token counts.
pub async fn reprice_month(
    dataset: &Dataset,
    month: &str,
    prices: &dyn PriceRows,
    work_dir: &Path,
    policy: RetryPolicy,
) -> Result<MonthCommit, DatasetError> {
    let commit = retry_conflicts(&month_location(dataset, month), policy, || async {
        let table = dataset.open(Table::Invocations, None).await?;
        reprice_rows(table, month, prices, work_dir).await
    })
    .await?;
    refresh_month(dataset, month, policy).await?;
    Ok(commit)
}

/// The months the table holds rows of, sorted.
pub async fn stored_months(dataset: &Dataset) -> Result<Vec<String>, DatasetError> {
    let table = dataset.open(Table::Invocations, None).await?;
    let ctx = session()?;
    register_snapshot(&ctx, &table, "stored").await?;
    strings(
        &ctx,
        &format!("SELECT DISTINCT CAST({MONTH} AS VARCHAR) AS month FROM stored ORDER BY month"),
    )
    .await
}

/// The non-null values of the first column of `sql`'s result, as strings.
async fn strings(ctx: &SessionContext, sql: &str) -> Result<Vec<String>, DatasetError> {
    let mut values = Vec::new();
    for batch in ctx.sql(sql).await?.collect().await? {
        let column = arrow::compute::cast(batch.column(0), &arrow::datatypes::DataType::Utf8)?;
        values.extend(
            column
                .as_string::<i32>()
                .iter()
                .flatten()
                .map(str::to_owned),
        );
    }
    Ok(values)
}

/// Whether `month` holds a row priced with another book than `sha256`. The files of a month
/// priced with one book are skipped by their statistics, so this reads no data in the usual
/// case.
async fn priced_with_another_book(
    table: &DeltaTable,
    month: &str,
    sha256: &str,
) -> Result<bool, DatasetError> {
    if !holds_files_of(table, month)? {
        return Ok(false);
    }
    let ctx = session()?;
    register_snapshot(&ctx, table, "target").await?;
    let sql = format!(
        "SELECT 1 FROM target WHERE {MONTH} = '{month}' AND {PRICE_BOOK} <> '{sha256}' LIMIT 1"
    );
    Ok(count_rows(&ctx, &sql).await? > 0)
}

/// Whether the snapshot has any data file of `month`. A month that has none (every month's
/// first run) has no rows to look through: the queries that would are skipped, which in a run
/// of small months cost as much as committing them.
fn holds_files_of(table: &DeltaTable, month: &str) -> Result<bool, DatasetError> {
    Ok(data_files(table)?
        .iter()
        .any(|file| file_month(&file).as_deref() == Some(month)))
}

/// Consecutive days grouped so that each group holds at most `budget` rows, or one day.
fn spans(days: &BTreeMap<String, StagedDay>, budget: u64) -> Vec<Vec<(&String, &StagedDay)>> {
    let mut spans: Vec<Vec<(&String, &StagedDay)>> = Vec::new();
    let mut rows = 0;
    for day in days {
        match spans.last_mut() {
            Some(span) if rows + day.1.rows <= budget => span.push(day),
            _ => {
                spans.push(vec![day]);
                rows = 0;
            }
        }
        rows += day.1.rows;
    }
    spans
}

/// The UTC days `[start, end)` a merge commits, in milliseconds since the epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct DaySpan {
    start_ms: i64,
    end_ms: i64,
}

impl DaySpan {
    fn of(day: &str) -> Result<DaySpan, DatasetError> {
        let date = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .map_err(|_| DatasetError::Invalid(format!("not a day: {day:?}")))?;
        let start_ms = date
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc()
            .timestamp_millis();
        Ok(DaySpan {
            start_ms,
            end_ms: start_ms + 86_400_000,
        })
    }

    /// From the start of `self` to the end of `last`.
    fn through(self, last: DaySpan) -> DaySpan {
        DaySpan {
            start_ms: self.start_ms,
            end_ms: last.end_ms,
        }
    }

    /// SQL selecting the stored rows of `month` within [`COPY_SKEW_MS`] of the span, its
    /// columns prefixed with `alias` (`t.` or nothing), in the form delta-rs records a MERGE's
    /// read predicate.
    fn stored_rows_sql(self, month: &str, alias: &str) -> String {
        let time = |ms: i64| {
            let at = chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
            format!(
                "arrow_cast('{}', 'Timestamp(Microsecond, Some(\"UTC\"))')",
                at.format("%Y-%m-%dT%H:%M:%S%.6f")
            )
        };
        format!(
            "{alias}{MONTH} = '{month}' AND {alias}timestamp >= {} AND {alias}timestamp < {}",
            time(self.start_ms - COPY_SKEW_MS),
            time(self.end_ms + COPY_SKEW_MS)
        )
    }

    /// The merge condition: the same request, stored in `month` within [`COPY_SKEW_MS`] of the
    /// span. Its target-only terms are what the merge's scan prunes files with, and what its
    /// commit declares it read.
    fn merge_condition(self, month: &str) -> Expr {
        let micros = |ms: i64| {
            lit(ScalarValue::TimestampMicrosecond(
                Some(ms * 1000),
                Some(Arc::from("UTC")),
            ))
        };
        col(format!("t.{MONTH}"))
            .eq(lit(month))
            .and(col("t.timestamp").gt_eq(micros(self.start_ms - COPY_SKEW_MS)))
            .and(col("t.timestamp").lt(micros(self.end_ms + COPY_SKEW_MS)))
            .and(col("t.request_id").eq(col("s.request_id")))
    }
}

/// Runs `sql` (base columns of `month`), prices the rows and writes them in the table's schema
/// to the local file `path`. Returns the rows written.
async fn write_priced(
    ctx: &SessionContext,
    sql: &str,
    month: &str,
    prices: &dyn PriceRows,
    path: &Path,
) -> Result<u64, DatasetError> {
    let mut writer = LocalFile::create(path)?;
    let mut stream = ctx.sql(sql).await?.execute_stream().await?;
    while let Some(batch) = stream.next().await {
        writer.write(&table_rows(&batch?, month, prices)?)?;
    }
    writer.close()
}

/// The kept rows of `copies`, priced, written in the table's schema to the local file `path`.
fn write_kept_priced(
    copies: &SpanCopies,
    month: &str,
    prices: &dyn PriceRows,
    path: &Path,
) -> Result<u64, DatasetError> {
    let mut writer = LocalFile::create(path)?;
    let all: Vec<usize> = (0..copies.file_count()).collect();
    copies.for_each_kept(&all, |batch| {
        writer.write(&table_rows(&batch, month, prices)?)
    })?;
    writer.close()
}

/// A local Parquet file in the table's schema, written fast (it is read once, by this run).
struct LocalFile {
    writer: ArrowWriter<std::fs::File>,
    rows: u64,
}

impl LocalFile {
    fn create(path: &Path) -> Result<LocalFile, DatasetError> {
        let file = std::fs::File::create(path).map_err(|e| DatasetError::io(path, e))?;
        let schema = invocations_table_schema();
        let writer = ArrowWriter::try_new(file, schema, Some(staging_properties()))?;
        Ok(LocalFile { writer, rows: 0 })
    }

    fn write(&mut self, rows: &RecordBatch) -> Result<(), DatasetError> {
        self.rows += rows.num_rows() as u64;
        Ok(self.writer.write(rows)?)
    }

    fn close(self) -> Result<u64, DatasetError> {
        self.writer.close()?;
        Ok(self.rows)
    }
}

/// `base` (base columns of `month`) priced, with the price book and the month: a batch in the
/// table's schema.
fn table_rows(
    base: &RecordBatch,
    month: &str,
    prices: &dyn PriceRows,
) -> Result<RecordBatch, DatasetError> {
    let schema = invocations_table_schema();
    let base = conform(base, &INVOCATION_BASE_SCHEMA)?;
    let priced = prices.price(&base)?;
    let n = priced.num_rows();
    let mut columns = priced.columns().to_vec();
    columns.push(constant(prices.sha256(), n));
    columns.push(constant(month, n));
    let mut fields: Vec<arrow::datatypes::FieldRef> =
        priced.schema().fields().iter().cloned().collect();
    fields.push(Arc::new(schema.field_with_name(PRICE_BOOK)?.clone()));
    fields.push(Arc::new(schema.field_with_name(MONTH)?.clone()));
    let rows = RecordBatch::try_new(Arc::new(arrow::datatypes::Schema::new(fields)), columns)?;
    Ok(conform(&rows, &schema)?)
}

fn constant(value: &str, rows: usize) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
        value, rows,
    )))
}

/// Commits the kept rows of a span: as plain inserts when the month holds none of their
/// requests within the span's margin, else through a MERGE (from a local file of the priced
/// rows, in `work_dir`).
async fn commit_span(
    table: DeltaTable,
    month: &str,
    span: DaySpan,
    copies: &SpanCopies,
    prices: &dyn PriceRows,
    work_dir: &Path,
) -> Result<MonthCommit, DatasetError> {
    let started = Instant::now();
    let holds = holds_any_request(&table, month, span, copies).await?;
    tracing::debug!(
        target: "span_checked",
        start_ms = span.start_ms,
        holds,
        seconds = started.elapsed().as_secs_f64(),
        "checked for stored copies"
    );
    if !holds {
        return insert_span(table, month, span, copies, prices).await;
    }
    let path = work_dir.join(format!("priced-{month}-{}.parquet", span.start_ms));
    tokio::task::block_in_place(|| write_kept_priced(copies, month, prices, &path))?;
    pause_point("merge-source-written");
    let merged = merge_span(table, month, span, &path).await;
    std::fs::remove_file(&path).map_err(|e| DatasetError::io(&path, e))?;
    merged
}

/// Whether the month holds, within the span's margin, any request of `copies`. Streams the
/// request ids of the stored files the span's statistics do not rule out.
async fn holds_any_request(
    table: &DeltaTable,
    month: &str,
    span: DaySpan,
    copies: &SpanCopies,
) -> Result<bool, DatasetError> {
    if !holds_files_of(table, month)? {
        return Ok(false);
    }
    let ctx = session()?;
    register_snapshot(&ctx, table, "target").await?;
    let sql = format!(
        "SELECT request_id FROM target WHERE {}",
        span.stored_rows_sql(month, "")
    );
    let mut stored = ctx.sql(&sql).await?.execute_stream().await?;
    while let Some(batch) = stored.next().await {
        let batch = batch?;
        let ids = arrow::compute::cast(batch.column(0), &arrow::datatypes::DataType::Utf8)?;
        if ids
            .as_string::<i32>()
            .iter()
            .flatten()
            .any(|id| copies.holds(id))
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Writers that encode a span's new files in parallel.
fn span_writers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Adds the kept rows of `copies` as new files, in a commit that declares it read the span:
/// Delta then refuses it if another writer added rows to the span meanwhile (they could be the
/// same requests), exactly as it would refuse the MERGE this stands for. Nothing of the month
/// is read or rewritten: the staged rows stream through pricing into the table's files, one
/// writer per core, each holding the row group it is encoding.
async fn insert_span(
    table: DeltaTable,
    month: &str,
    span: DaySpan,
    copies: &SpanCopies,
    prices: &dyn PriceRows,
) -> Result<MonthCommit, DatasetError> {
    let location = table.table_url().to_string();
    let delta = |e| DatasetError::delta(&location, e);
    let runtime = tokio::runtime::Handle::current();
    let written: Vec<Result<(Vec<Add>, u64), DatasetError>> = tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            let writers: Vec<_> = copies
                .split(span_writers())
                .into_iter()
                .map(|files| {
                    let (table, runtime) = (&table, &runtime);
                    scope.spawn(move || {
                        let mut writer = RecordBatchWriter::for_table(table)
                            .map_err(delta)?
                            .with_writer_properties(dataset_properties());
                        let schema = writer.arrow_schema();
                        let mut rows = 0u64;
                        copies.for_each_kept(&files, |batch| {
                            let batch = conform(&table_rows(&batch, month, prices)?, &schema)?;
                            rows += batch.num_rows() as u64;
                            runtime.block_on(writer.write(batch)).map_err(delta)
                        })?;
                        let adds = runtime.block_on(writer.flush()).map_err(delta)?;
                        Ok((adds, rows))
                    })
                })
                .collect();
            writers
                .into_iter()
                .map(|w| {
                    w.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        })
    });
    let mut adds = Vec::new();
    let mut inserted = 0;
    for outcome in written {
        let (files, rows) = outcome?;
        adds.extend(files);
        inserted += rows;
    }
    let operation = DeltaOperation::Merge {
        predicate: Some(span.stored_rows_sql(month, "")),
        merge_predicate: Some(
            span.stored_rows_sql(month, "t.") + " AND t.request_id = s.request_id",
        ),
        matched_predicates: Vec::new(),
        not_matched_predicates: vec![MergePredicate {
            action_type: "insert".to_owned(),
            predicate: None,
        }],
        not_matched_by_source_predicates: Vec::new(),
    };
    pause_point("span-files-written");
    let snapshot = table.snapshot().map_err(delta)?;
    let committed = CommitBuilder::default()
        .with_actions(adds.iter().cloned().map(Action::Add).collect())
        .build(Some(snapshot), table.log_store(), operation)
        .await;
    match committed {
        Ok(committed) => Ok(MonthCommit {
            inserted,
            version: committed.version(),
            ..MonthCommit::default()
        }),
        Err(error) => {
            let error = delta(error);
            if is_conflict(&error) {
                // Refused, so nothing refers to the new files: remove them (a file left behind
                // would be vacuumed by `maintain`).
                let store = table.log_store().object_store(None);
                for add in &adds {
                    if let Ok(path) = object_store::path::Path::from_url_path(&add.path) {
                        let _ = store.delete(&path).await;
                    }
                }
            }
            Err(error)
        }
    }
}

async fn merge_span(
    table: DeltaTable,
    month: &str,
    span: DaySpan,
    priced: &Path,
) -> Result<MonthCommit, DatasetError> {
    let location = table.table_url().to_string();
    let ctx = session()?;
    let source = ctx
        .read_parquet(priced.display().to_string(), ParquetReadOptions::default())
        .await?;
    let schema = invocations_table_schema();
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let (table, metrics) = table
        .merge(source, span.merge_condition(month))
        .with_source_alias("s")
        .with_target_alias("t")
        .with_writer_properties(dataset_properties())
        .when_matched_update(|update| {
            names
                .iter()
                .fold(update.predicate(preferred_over_target()), |update, name| {
                    update.update(name.as_str(), format!("s.\"{name}\""))
                })
        })
        .and_then(|merge| {
            merge.when_not_matched_insert(|insert| {
                names.iter().fold(insert, |insert, name| {
                    insert.set(name.as_str(), format!("s.\"{name}\""))
                })
            })
        })
        .map_err(|e| DatasetError::delta(&location, e))?
        .await
        .map_err(|e| DatasetError::delta(&location, e))?;
    Ok(MonthCommit {
        inserted: metrics.num_target_rows_inserted as u64,
        updated: metrics.num_target_rows_updated as u64,
        files_read: metrics.num_target_files_scanned as u64,
        files_skipped: metrics.num_target_files_skipped_during_scan as u64,
        version: table.version().unwrap_or(0),
        ..MonthCommit::default()
    })
}

async fn delete_replaced(
    table: DeltaTable,
    month: &str,
    replaced: &[String],
) -> Result<MonthCommit, DatasetError> {
    let location = table.table_url().to_string();
    let (table, metrics) = table
        .delete()
        .with_predicate(format!(
            "{MONTH} = '{month}' AND source IN ({})",
            sql_list(replaced)
        ))
        .with_writer_properties(dataset_properties())
        .await
        .map_err(|e| DatasetError::delta(&location, e))?;
    Ok(MonthCommit {
        deleted: metrics.num_deleted_rows.unwrap_or(0) as u64,
        version: table.version().unwrap_or(0),
        ..MonthCommit::default()
    })
}

/// Reprices every stored row of `month` with `prices` and overwrites the month with them in one
/// commit. The rows stream through a local file; nothing is sorted, the stored rows being
/// unique already. Overwriting the partition reads it, so a concurrent commit to the month
/// conflicts.
async fn reprice_rows(
    table: DeltaTable,
    month: &str,
    prices: &dyn PriceRows,
    work_dir: &Path,
) -> Result<MonthCommit, DatasetError> {
    let ctx = session()?;
    register_snapshot(&ctx, &table, "target").await?;
    let base = quoted_columns(&INVOCATION_BASE_SCHEMA, "");
    let rows = format!("SELECT {base} FROM target WHERE {MONTH} = '{month}'");
    let path = work_dir.join(format!("repriced-{month}.parquet"));
    let repriced = write_priced(&ctx, &rows, month, prices, &path).await?;
    let predicate = format!("{MONTH} = '{month}'");
    let table = land_file(table, &ctx, &path, Landing::ReplaceWhere(predicate)).await?;
    std::fs::remove_file(&path).map_err(|e| DatasetError::io(&path, e))?;
    Ok(MonthCommit {
        repriced: Some(repriced),
        version: table.version().unwrap_or(0),
        ..MonthCommit::default()
    })
}

async fn count_rows(ctx: &SessionContext, sql: &str) -> Result<u64, DatasetError> {
    let frame = ctx.sql(sql).await?;
    Ok(frame.count().await? as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::test_rows::{decoded, stage};
    use crate::pricing::PriceBookInUse;
    use crate::rows::{Decoded, SourceFormat};

    /// Stages `decoded` and commits its one month.
    async fn commit(dataset: &Dataset, decoded: Decoded) -> MonthCommit {
        let work = tempfile::tempdir().unwrap();
        let staged = stage(&work.path().join("staged"), decoded);
        let (month, staged) = staged.months.iter().next().unwrap();
        let change = MonthChange {
            month,
            days: &staged.days,
            replaced: &[],
        };
        let prices = PriceBookInUse::built_in();
        commit_month(
            dataset,
            change,
            &prices,
            work.path(),
            RetryPolicy::default(),
        )
        .await
        .unwrap()
    }

    async fn stored(dataset: &Dataset) -> Vec<String> {
        let table = dataset.open(Table::Invocations, None).await.unwrap();
        let ctx = session().unwrap();
        register_snapshot(&ctx, &table, "t").await.unwrap();
        strings(
            &ctx,
            "SELECT request_id || ' ' || source_format || ' ' || source FROM t ORDER BY 1",
        )
        .await
        .unwrap()
    }

    #[test]
    fn consecutive_days_are_merged_together_up_to_the_row_budget() {
        /// Rows per day (days numbered from 01), the budget, the expected groups of days.
        type Case<'a> = (&'a [u64], u64, &'a [&'a [&'a str]]);
        let cases: &[Case] = &[
            (
                &[100, 100, 300, 50],
                250,
                &[&["01", "02"], &["03"], &["04"]],
            ),
            (&[10, 10, 10], 1_000, &[&["01", "02", "03"]]),
            (&[500], 250, &[&["01"]]),
            (&[], 250, &[]),
        ];
        for (rows, budget, expected) in cases {
            let days: BTreeMap<String, StagedDay> = rows
                .iter()
                .enumerate()
                .map(|(i, rows)| {
                    let staged = StagedDay {
                        files: Vec::new(),
                        rows: *rows,
                    };
                    (format!("{:02}", i + 1), staged)
                })
                .collect();
            let grouped: Vec<Vec<&str>> = spans(&days, *budget)
                .iter()
                .map(|span| span.iter().map(|(day, _)| day.as_str()).collect())
                .collect();
            assert_eq!(&grouped, expected, "{rows:?} within {budget}");
        }
    }

    /// An empty `invocations` table in a directory removed when dropped.
    async fn empty_table() -> (tempfile::TempDir, Dataset) {
        let dir = tempfile::tempdir().unwrap();
        let dataset = Dataset::local(dir.path()).unwrap();
        dataset.open_or_create(Table::Invocations).await.unwrap();
        (dir, dataset)
    }

    /// Stages `decoded` (one day) and chooses its copies.
    fn staged_day(decoded: Decoded, work: &Path) -> SpanCopies {
        let staged = stage(&work.join("staged"), decoded);
        let files = staged
            .months
            .into_values()
            .flat_map(|m| m.days.into_values());
        SpanCopies::choose(files.flat_map(|d| d.files).collect()).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_writers_inserting_the_same_request_from_one_snapshot_cannot_both_commit() {
        use SourceFormat::{CloudWatchExport, S3Native};
        let (dir, dataset) = empty_table().await;
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        let time = "2026-10-05T10:00:00Z";
        let native = staged_day(
            decoded("file:///a", &[("r1", time, S3Native)]),
            first.path(),
        );
        let export = staged_day(
            decoded("file:///b", &[("r1", time, CloudWatchExport)]),
            second.path(),
        );
        let span = DaySpan::of("2026-10-05").unwrap();
        let prices = PriceBookInUse::built_in();
        // Both read the empty month, so both would insert.
        let one = dataset.open(Table::Invocations, None).await.unwrap();
        let other = dataset.open(Table::Invocations, None).await.unwrap();
        assert!(
            !holds_any_request(&one, "2026-10", span, &native)
                .await
                .unwrap()
        );
        assert!(
            !holds_any_request(&other, "2026-10", span, &export)
                .await
                .unwrap()
        );
        insert_span(one, "2026-10", span, &native, &prices)
            .await
            .unwrap();
        let lost = insert_span(other, "2026-10", span, &export, &prices)
            .await
            .unwrap_err();
        assert!(super::super::retry::is_conflict(&lost), "{lost}");
        // The loser's files are gone with its commit.
        let month_dir = dir.path().join("invocations/month=2026-10");
        assert_eq!(std::fs::read_dir(&month_dir).unwrap().count(), 1);
        // Redone from a fresh snapshot, the loser finds the request and merges instead.
        let fresh = dataset.open(Table::Invocations, None).await.unwrap();
        let redone = commit_span(fresh, "2026-10", span, &export, &prices, second.path())
            .await
            .unwrap();
        assert_eq!((redone.inserted, redone.updated), (0, 0));
        assert_eq!(stored(&dataset).await, ["r1 s3_native file:///a"]);
    }

    /// A far-away day does not conflict: writers of different days do not wait for each other.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn inserts_into_days_far_apart_both_commit() {
        use SourceFormat::S3Native;
        let (_dir, dataset) = empty_table().await;
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        let early = decoded("file:///a", &[("r1", "2026-10-02T10:00:00Z", S3Native)]);
        let late = decoded("file:///b", &[("r2", "2026-10-20T10:00:00Z", S3Native)]);
        let early = staged_day(early, first.path());
        let late = staged_day(late, second.path());
        let prices = PriceBookInUse::built_in();
        let one = dataset.open(Table::Invocations, None).await.unwrap();
        let other = dataset.open(Table::Invocations, None).await.unwrap();
        let early_span = DaySpan::of("2026-10-02").unwrap();
        insert_span(one, "2026-10", early_span, &early, &prices)
            .await
            .unwrap();
        let late_span = DaySpan::of("2026-10-20").unwrap();
        insert_span(other, "2026-10", late_span, &late, &prices)
            .await
            .unwrap();
        assert_eq!(stored(&dataset).await.len(), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_day_merge_reads_only_the_stored_days_around_it_and_keeps_the_preferred_copy() {
        use SourceFormat::{CloudWatchExport, S3Native};
        let (_dir, dataset) = empty_table().await;
        // Three nights, one file each.
        for (night, time) in [
            (1, "2026-10-01T10:00:00Z"),
            (2, "2026-10-05T10:00:00Z"),
            (3, "2026-10-09T10:00:00Z"),
        ] {
            let source = format!("file:///export/night{night}");
            let id = format!("r{night}");
            let first = commit(
                &dataset,
                decoded(&source, &[(id.as_str(), time, CloudWatchExport)]),
            )
            .await;
            assert_eq!((first.inserted, first.files_read), (1, 0), "night {night}");
        }
        // The native copy of night 2's request, and a new request the same day, a minute before
        // midnight: only night 2's file is read, the native copy wins, the export copy goes.
        let native = commit(
            &dataset,
            decoded(
                "file:///native/a",
                &[
                    ("r2", "2026-10-05T10:00:00Z", S3Native),
                    ("r4", "2026-10-05T23:59:00Z", S3Native),
                ],
            ),
        )
        .await;
        assert_eq!(
            (native.inserted, native.updated, native.files_read),
            (1, 1, 1),
            "{native:?}"
        );
        assert_eq!(native.files_skipped, 2, "{native:?}");
        // Copies a day apart across midnight still meet.
        let late = commit(
            &dataset,
            decoded(
                "file:///export/late",
                &[("r4", "2026-10-06T00:00:30Z", CloudWatchExport)],
            ),
        )
        .await;
        assert_eq!((late.inserted, late.updated), (0, 0), "{late:?}");
        assert_eq!(
            stored(&dataset).await,
            [
                "r1 cloudwatch_export file:///export/night1",
                "r2 s3_native file:///native/a",
                "r3 cloudwatch_export file:///export/night3",
                "r4 s3_native file:///native/a",
            ]
        );
    }
}
