//! Staging: decoded rows are buffered and spilled to local Parquet files, one directory per UTC
//! day (`month=YYYY-MM/day=YYYY-MM-DD/`), so a run's memory is bounded however many rows it
//! decodes, and a month can be committed a day at a time. Staged files are private to the run;
//! [`super::invocations`] merges them into the table.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::arrow::ArrowWriter;

use super::DatasetError;
use super::batch::{invocations_batch, rejects_batch};
use super::write::staging_properties;
use crate::rows::schema::{INVOCATION_BASE_SCHEMA, MONTH, REJECT_SCHEMA};
use crate::rows::{Decoded, Invocation, Reject};

/// Rows held in memory before they are written to staging files.
const FLUSH_ROWS: usize = 64 * 1024;

/// What a run staged for one UTC day.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StagedDay {
    /// Directory of the day's staged files.
    pub dir: PathBuf,
    /// Rows staged (before deduplication).
    pub rows: u64,
}

/// What a run staged for one month.
#[derive(Debug, Default)]
pub struct StagedMonth {
    /// Each UTC day's staged files, by day (`YYYY-MM-DD`).
    pub days: BTreeMap<String, StagedDay>,
    /// Objects that contributed rows.
    pub sources: BTreeSet<Arc<str>>,
}

/// Everything a run staged.
#[derive(Debug, Default)]
pub struct Staged {
    pub months: BTreeMap<String, StagedMonth>,
    /// Directory of the staged rejects, if there were any.
    pub rejects_dir: Option<PathBuf>,
    pub rejects: u64,
    pub noise_events: u64,
    /// Records dropped because their event time is outside the run's window.
    pub outside_window: u64,
}

impl Staged {
    /// Rows staged (before deduplication), over every month and day.
    pub fn rows(&self) -> u64 {
        self.months
            .values()
            .flat_map(|month| month.days.values())
            .map(|day| day.rows)
            .sum()
    }
}

/// Buffers decoded rows and writes them to staging files.
#[derive(Debug)]
pub struct Stager {
    dir: PathBuf,
    invocations: Vec<Invocation>,
    rejects: Vec<Reject>,
    next_file: u64,
    window: Option<Range<i64>>,
    staged: Staged,
}

impl Stager {
    /// A stager writing under `dir`, which must not exist yet or be empty, keeping only the
    /// records whose event time (ms since the epoch) is inside `window` (all without one).
    pub fn new(dir: PathBuf, window: Option<Range<i64>>) -> Result<Self, DatasetError> {
        fs::create_dir_all(&dir).map_err(|e| DatasetError::io(&dir, e))?;
        Ok(Stager {
            dir,
            invocations: Vec::new(),
            rejects: Vec::new(),
            next_file: 0,
            window,
            staged: Staged::default(),
        })
    }

    /// Takes one decoded slice.
    pub fn add(&mut self, decoded: Decoded) -> Result<(), DatasetError> {
        self.staged.noise_events += decoded.noise_events;
        self.staged.rejects += decoded.rejects.len() as u64;
        let decoded_rows = decoded.invocations.len();
        let kept: Vec<Invocation> = match &self.window {
            Some(window) => decoded
                .invocations
                .into_iter()
                .filter(|i| window.contains(&i.timestamp_ms))
                .collect(),
            None => decoded.invocations,
        };
        self.staged.outside_window += (decoded_rows - kept.len()) as u64;
        self.invocations.extend(kept);
        self.rejects.extend(decoded.rejects);
        if self.invocations.len() + self.rejects.len() >= FLUSH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes what is buffered and returns what was staged.
    pub fn finish(mut self) -> Result<Staged, DatasetError> {
        self.flush()?;
        Ok(self.staged)
    }

    fn flush(&mut self) -> Result<(), DatasetError> {
        let mut by_day: BTreeMap<String, Vec<Invocation>> = BTreeMap::new();
        for invocation in self.invocations.drain(..) {
            by_day.entry(invocation.day()).or_default().push(invocation);
        }
        for (day, rows) in by_day {
            let month = day[..7].to_owned();
            let dir = self.dir.join(format!("{MONTH}={month}/day={day}"));
            let batch = invocations_batch(&rows)?;
            let path = self.next_path(&dir)?;
            write_file(&path, batch, &INVOCATION_BASE_SCHEMA)?;
            let staged = self.staged.months.entry(month).or_default();
            let staged_day = staged.days.entry(day).or_default();
            staged_day.dir = dir;
            staged_day.rows += rows.len() as u64;
            staged
                .sources
                .extend(rows.iter().map(|r| Arc::clone(&r.origin.source)));
        }
        if !self.rejects.is_empty() {
            let dir = self.dir.join("rejects");
            let batch = rejects_batch(&self.rejects)?;
            let path = self.next_path(&dir)?;
            write_file(&path, batch, &REJECT_SCHEMA)?;
            self.staged.rejects_dir = Some(dir);
            self.rejects.clear();
        }
        Ok(())
    }

    fn next_path(&mut self, dir: &Path) -> Result<PathBuf, DatasetError> {
        fs::create_dir_all(dir).map_err(|e| DatasetError::io(dir, e))?;
        self.next_file += 1;
        Ok(dir.join(format!("part-{:06}.parquet", self.next_file)))
    }
}

fn write_file(
    path: &Path,
    batch: arrow::array::RecordBatch,
    schema: &arrow::datatypes::SchemaRef,
) -> Result<(), DatasetError> {
    let file = File::create(path).map_err(|e| DatasetError::io(path, e))?;
    let mut writer = ArrowWriter::try_new(file, Arc::clone(schema), Some(staging_properties()))?;
    writer.write(&batch)?;
    writer.close()?;
    Ok(())
}
