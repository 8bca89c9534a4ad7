//! The ingest job: list → decode (rayon, in parallel across and within objects) → stage →
//! commit month by month. Safe to rerun: committing is idempotent, and leftovers of a run that
//! died are cleared before the next one starts.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::mpsc::sync_channel;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::dataset::commit::{MonthCommit, commit_month, commit_rejects};
use crate::dataset::stage::{Staged, Stager};
use crate::dataset::{DatasetError, Layout};
use crate::decode::{DecodeOptions, Decoded, ObjectKind, decode_object};
use crate::normalize::ProfileMap;
use crate::pricing::PriceBookInUse;
use crate::source::{SourceObject, local};

/// Decoded slices in flight between the decoders and the stager.
const CHANNEL_SLICES: usize = 8;

/// What an ingest needs besides its objects.
#[derive(Clone, Copy, Debug)]
pub struct IngestOptions<'a> {
    pub profiles: &'a ProfileMap,
    /// Prices every row of the months the ingest touches.
    pub prices: &'a PriceBookInUse,
    /// Draw a progress bar on stderr (only shown on a terminal).
    pub progress: bool,
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
    /// Rows decoded this run, duplicates included.
    pub decoded_rows: u64,
    /// Objects that contributed rows.
    pub objects: u64,
    pub commit: MonthCommit,
}

/// The outcome of an ingest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IngestReport {
    /// Objects read, by what they turned out to be.
    pub objects_by_kind: BTreeMap<String, u64>,
    pub objects_read: u64,
    pub failed: Vec<FailedObject>,
    pub months: BTreeMap<String, MonthIngest>,
    pub decoded_rows: u64,
    pub rejects: u64,
    pub noise_events: u64,
}

impl IngestReport {
    /// Rows that were new to the dataset.
    pub fn new_rows(&self) -> u64 {
        self.months
            .values()
            .map(|m| m.commit.rows_after.saturating_sub(m.commit.rows_before))
            .sum()
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
}

fn kind_name(kind: ObjectKind) -> String {
    match kind {
        ObjectKind::Log(format) => format!("log:{}", format.as_str()),
        ObjectKind::Noise(noise) => format!("noise:{}", noise.as_str()),
        ObjectKind::Unrecognized => "unrecognized".to_owned(),
    }
}

/// Ingests `objects` into the dataset at `layout`.
pub async fn ingest(
    objects: Vec<SourceObject>,
    layout: &Layout,
    options: IngestOptions<'_>,
) -> Result<IngestReport, IngestError> {
    clear_leftovers(layout)?;
    let staging = layout
        .staging_dir()
        .join(format!("run-{}", std::process::id()));
    let (staged, mut report) = tokio::task::block_in_place(|| {
        decode_all(objects, Stager::new(staging.clone())?, options)
    })?;

    for (month, staged_month) in &staged.months {
        let commit = commit_month(layout, month, Some(&staged_month.dir), options.prices).await?;
        report.months.insert(
            month.clone(),
            MonthIngest {
                decoded_rows: staged_month.rows,
                objects: staged_month.sources.len() as u64,
                commit,
            },
        );
    }
    if let Some(dir) = &staged.rejects_dir {
        commit_rejects(layout, dir).await?;
    }
    clear_leftovers(layout)?;
    Ok(report)
}

/// Removes what a run that died left in `_staging/` and `_tmp/`. Never touches visible data.
fn clear_leftovers(layout: &Layout) -> Result<(), DatasetError> {
    for dir in [layout.staging_dir(), layout.tmp_dir()] {
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(DatasetError::io(&dir, e));
            }
            _ => {}
        }
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

/// Decodes every object on the rayon pool while this thread stages what they yield.
fn decode_all(
    mut objects: Vec<SourceObject>,
    mut stager: Stager,
    options: IngestOptions<'_>,
) -> Result<(Staged, IngestReport), IngestError> {
    // Largest first, so one big object does not start last and run alone.
    objects.sort_by(|a, b| {
        b.size_bytes
            .cmp(&a.size_bytes)
            .then_with(|| a.uri.cmp(&b.uri))
    });
    let bar = progress_bar(&objects, options.progress);
    let (sender, receiver) = sync_channel::<Decoded>(CHANNEL_SLICES);
    let decode_options = DecodeOptions {
        profiles: options.profiles,
    };

    let (outcomes, staged) = std::thread::scope(|scope| {
        let decoder = scope.spawn(|| {
            objects
                .par_iter()
                .map_with(sender, |sender, object| {
                    let open = || local::open(&object.path);
                    let outcome =
                        decode_object(&object.uri, &object.name, &open, decode_options, &mut |d| {
                            // A closed channel means staging failed; that error is reported below.
                            let _ = sender.send(d);
                        });
                    bar.inc(object.size_bytes);
                    (Arc::clone(&object.uri), outcome)
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
    bar.finish_and_clear();

    let mut report = IngestReport {
        rejects: staged.rejects,
        noise_events: staged.noise_events,
        decoded_rows: staged.months.values().map(|m| m.rows).sum(),
        ..IngestReport::default()
    };
    for (uri, outcome) in outcomes {
        match outcome {
            Ok(summary) => {
                report.objects_read += 1;
                *report
                    .objects_by_kind
                    .entry(kind_name(summary.kind))
                    .or_default() += 1;
            }
            Err(error) => report.failed.push(FailedObject {
                uri,
                error: error.to_string(),
            }),
        }
    }
    report.failed.sort_by(|a, b| a.uri.cmp(&b.uri));
    Ok((staged, report))
}
