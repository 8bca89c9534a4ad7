//! Staging: decoded rows are buffered and spilled to local Parquet files, one directory per UTC
//! day (`month=YYYY-MM/day=YYYY-MM-DD/`), so a run's memory is bounded however many rows it
//! decodes, and a month can be committed a day at a time. Each day being staged keeps one file
//! open and gains small row groups as rows arrive, so a day is a few files however many flushes
//! fed it (up to [`OPEN_DAYS`] days are open at once; the least recently fed is closed first).
//! Staged files are private to the run; [`super::invocations`] merges them into the table.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::arrow::ArrowWriter;
use rayon::prelude::*;

use super::DatasetError;
use super::batch::{invocations_batch, rejects_batch};
use super::write::staging_properties;
use crate::rows::schema::{INVOCATION_BASE_SCHEMA, MONTH, REJECT_SCHEMA};
use crate::rows::{Decoded, Invocation, Reject};

/// Rows held in memory before they are written to staging files.
const FLUSH_ROWS: usize = 64 * 1024;
/// Days with an open staging file; each holds at most one row group of
/// [`super::write::staging_properties`] in memory.
const OPEN_DAYS: usize = 32;

/// What a run staged for one UTC day.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StagedDay {
    /// The day's staged files, in the order they were written.
    pub files: Vec<PathBuf>,
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
pub struct Stager {
    dir: PathBuf,
    invocations: Vec<Invocation>,
    rejects: Vec<Reject>,
    next_file: u64,
    window: Option<Range<i64>>,
    staged: Staged,
    /// The open file of each day being staged, with the flush that last wrote to it.
    open: BTreeMap<String, (ArrowWriter<File>, u64)>,
    flushes: u64,
    limits: Limits,
}

/// When a stager writes and closes files.
#[derive(Clone, Copy, Debug)]
struct Limits {
    flush_rows: usize,
    open_days: usize,
}

/// Where a flush encodes its rows.
#[derive(Clone, Copy, Debug)]
enum Threads {
    /// On the calling thread.
    Caller,
    /// On the rayon pool, a day per task.
    Pool,
}

const LIMITS: Limits = Limits {
    flush_rows: FLUSH_ROWS,
    open_days: OPEN_DAYS,
};

impl std::fmt::Debug for Stager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stager")
            .field("dir", &self.dir)
            .field("open_days", &self.open.keys().collect::<Vec<_>>())
            .field("staged", &self.staged)
            .finish_non_exhaustive()
    }
}

impl Stager {
    /// A stager writing under `dir`, which must not exist yet or be empty, keeping only the
    /// records whose event time (ms since the epoch) is inside `window` (all without one).
    pub fn new(dir: PathBuf, window: Option<Range<i64>>) -> Result<Self, DatasetError> {
        Stager::with_limits(dir, window, LIMITS)
    }

    fn with_limits(
        dir: PathBuf,
        window: Option<Range<i64>>,
        limits: Limits,
    ) -> Result<Self, DatasetError> {
        fs::create_dir_all(&dir).map_err(|e| DatasetError::io(&dir, e))?;
        Ok(Stager {
            dir,
            invocations: Vec::new(),
            rejects: Vec::new(),
            next_file: 0,
            window,
            staged: Staged::default(),
            open: BTreeMap::new(),
            flushes: 0,
            limits,
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
        if self.invocations.len() + self.rejects.len() >= self.limits.flush_rows {
            self.flush(Threads::Caller)?;
        }
        Ok(())
    }

    /// Writes what is buffered and returns what was staged. Called once decoding is over, so
    /// the days' files are encoded and closed on the rayon pool, which is then idle (while
    /// decoding goes on, `add` flushes on the staging thread alone: the pool's threads may be
    /// waiting for it to take their rows).
    pub fn finish(mut self) -> Result<Staged, DatasetError> {
        self.flush(Threads::Pool)?;
        std::mem::take(&mut self.open)
            .into_values()
            .collect::<Vec<_>>()
            .into_par_iter()
            .try_for_each(|(writer, _)| writer.close().map(drop))?;
        Ok(self.staged)
    }

    fn flush(&mut self, threads: Threads) -> Result<(), DatasetError> {
        let mut by_day: BTreeMap<String, Vec<Invocation>> = BTreeMap::new();
        for invocation in self.invocations.drain(..) {
            by_day.entry(invocation.day()).or_default().push(invocation);
        }
        self.flushes += 1;
        for (day, rows) in &by_day {
            let month = day[..7].to_owned();
            if !self.open.contains_key(day) {
                let dir = self.dir.join(format!("{MONTH}={month}/day={day}"));
                let path = self.next_path(&dir)?;
                let file = File::create(&path).map_err(|e| DatasetError::io(&path, e))?;
                let writer = ArrowWriter::try_new(
                    file,
                    Arc::clone(&INVOCATION_BASE_SCHEMA),
                    Some(staging_properties()),
                )?;
                self.open.insert(day.clone(), (writer, 0));
                let staged = self.staged.months.entry(month.clone()).or_default();
                staged.days.entry(day.clone()).or_default().files.push(path);
            }
            let staged = self.staged.months.entry(month).or_default();
            staged.days.entry(day.clone()).or_default().rows += rows.len() as u64;
            staged
                .sources
                .extend(rows.iter().map(|r| Arc::clone(&r.origin.source)));
        }
        let flushes = self.flushes;
        let writes: Vec<(&mut ArrowWriter<File>, &[Invocation])> = self
            .open
            .iter_mut()
            .filter_map(|(day, (writer, last_flush))| {
                let rows = by_day.get(day)?;
                *last_flush = flushes;
                Some((writer, rows.as_slice()))
            })
            .collect();
        let write = |(writer, rows): (&mut ArrowWriter<File>, &[Invocation])| {
            writer.write(&invocations_batch(rows)?)?;
            Ok::<_, DatasetError>(())
        };
        match threads {
            Threads::Caller => writes.into_iter().try_for_each(write)?,
            Threads::Pool => writes.into_par_iter().try_for_each(write)?,
        }
        while self.open.len() > self.limits.open_days {
            let stalest = self
                .open
                .iter()
                .min_by_key(|(_, (_, last_flush))| *last_flush)
                .map(|(day, _)| day.clone())
                .expect("more days than the limit are open");
            let (writer, _) = self.open.remove(&stalest).expect("it is open");
            writer.close()?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::test_rows::decoded;
    use crate::rows::SourceFormat::S3Native;

    #[test]
    fn a_day_fed_by_many_flushes_stays_one_file_until_it_is_the_stalest_of_too_many() {
        let work = tempfile::tempdir().unwrap();
        let limits = Limits {
            flush_rows: 2,
            open_days: 2,
        };
        let mut stager = Stager::with_limits(work.path().to_owned(), None, limits).unwrap();
        // Each slice is one flush: days 01 and 02 fed twice stay open; day 03 opens a third
        // file and closes day 01 (the stalest), which the last slice opens again.
        for (n, days) in [["01", "02"], ["01", "02"], ["03", "02"], ["01", "03"]]
            .iter()
            .enumerate()
        {
            let rows: Vec<(String, String)> = days
                .iter()
                .map(|day| (format!("r{n}-{day}"), format!("2026-10-{day}T10:00:00Z")))
                .collect();
            let rows: Vec<_> = rows
                .iter()
                .map(|(id, time)| (id.as_str(), time.as_str(), S3Native))
                .collect();
            stager.add(decoded("s3://b/o", &rows)).unwrap();
        }
        let staged = stager.finish().unwrap();
        let days = &staged.months["2026-10"].days;
        let files_and_rows: Vec<(&str, usize, u64)> = days
            .iter()
            .map(|(day, staged)| (&day[8..], staged.files.len(), staged.rows))
            .collect();
        assert_eq!(files_and_rows, [("01", 2, 3), ("02", 1, 3), ("03", 1, 2)]);
        for (day, staged) in days {
            let rows: usize = staged
                .files
                .iter()
                .map(|path| {
                    let file = File::open(path).unwrap();
                    parquet::file::reader::SerializedFileReader::new(file)
                        .map(|r| {
                            use parquet::file::reader::FileReader;
                            r.metadata().file_metadata().num_rows() as usize
                        })
                        .unwrap()
                })
                .sum();
            assert_eq!(
                rows as u64, staged.rows,
                "{day}: every staged row is in a file"
            );
        }
    }
}
