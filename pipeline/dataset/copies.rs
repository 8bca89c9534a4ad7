//! One copy of each request: which of a span's staged rows are kept.
//!
//! A request can reach a run more than once (S3 delivery and CloudWatch both on, an object
//! re-read after it changed, Firehose retries). The run keeps the preferred copy
//! ([`COPY_PREFERENCE`], then the smallest source URI and line), whatever order the copies were
//! decoded in. One pass over the four key columns of the span's staged files, with a hash table
//! of its request ids (split by hash between the cores), yields a keep-mask per file; the rows
//! are then streamed once, in file order, without sorting. (A window function over the span
//! did the same in DataFusion, but it sorted every column of every row, and took most of a
//! commit.)

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fs::File;
use std::hash::BuildHasher;
use std::ops::Range;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use arrow::datatypes::Int64Type;
use hashbrown::{DefaultHashBuilder, HashTable};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};

use super::DatasetError;

/// Delivery paths, most preferred first: native S3 delivery carries the complete record, then
/// Firehose, the CloudWatch Logs API and a CloudWatch export; anything else (a CLI page) last.
pub const COPY_PREFERENCE: [&str; 4] = [
    "s3_native",
    "firehose",
    "cloudwatch_logs",
    "cloudwatch_export",
];

/// The rank of a `source_format` in [`COPY_PREFERENCE`] (lower is preferred).
fn copy_rank(format: &str) -> u8 {
    COPY_PREFERENCE
        .iter()
        .position(|f| *f == format)
        .unwrap_or(COPY_PREFERENCE.len()) as u8
}

/// [`copy_rank`] in SQL, of the column `{alias}source_format`.
pub fn copy_rank_sql(alias: &str) -> String {
    let whens: String = COPY_PREFERENCE
        .iter()
        .enumerate()
        .map(|(rank, format)| format!(" WHEN '{format}' THEN {rank}"))
        .collect();
    format!(
        "(CASE {alias}source_format{whens} ELSE {} END)",
        COPY_PREFERENCE.len()
    )
}

/// Rows read from staged files at a time.
const BATCH_ROWS: usize = 8 * 1024;

/// The key columns the choice reads.
const KEY_COLUMNS: [&str; 4] = ["request_id", "source_format", "source", "source_line"];

/// Per staged file, per row: whether the row is kept.
type KeepMasks = Vec<Vec<bool>>;

/// Where a copy is, and what ranks it.
#[derive(Clone, Copy, Debug)]
struct Copy {
    rank: u8,
    /// Index into the partition's interned sources.
    source: u32,
    line: i64,
    file: u32,
    row: u32,
}

/// The staged rows of a span and the copy of each request it keeps.
#[derive(Debug)]
pub struct SpanCopies {
    files: Vec<PathBuf>,
    /// Whether each row is the kept copy of its request.
    keep: KeepMasks,
    /// The kept copies, partitioned by the hash of their request id.
    partitions: Vec<Partition>,
    hasher: DefaultHashBuilder,
}

impl SpanCopies {
    /// Reads the key columns of `files` (staged Parquet, base columns) and chooses one copy of
    /// each request. The requests are split by the hash of their id between one thread per
    /// core; each reads every file's keys and decides for its own requests.
    pub fn choose(files: Vec<PathBuf>) -> Result<SpanCopies, DatasetError> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        SpanCopies::choose_in(files, cores)
    }

    /// [`SpanCopies::choose`] with the requests split into `parts` partitions.
    fn choose_in(files: Vec<PathBuf>, parts: usize) -> Result<SpanCopies, DatasetError> {
        let hasher = DefaultHashBuilder::default();
        let chosen: Vec<Result<(Partition, KeepMasks), DatasetError>> =
            std::thread::scope(|scope| {
                let threads: Vec<_> = (0..parts)
                    .map(|part| {
                        let (files, hasher) = (&files, &hasher);
                        scope.spawn(move || Partition::choose(files, hasher, part, parts))
                    })
                    .collect();
                threads
                    .into_iter()
                    .map(|t| {
                        t.join()
                            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                    })
                    .collect()
            });
        let mut partitions = Vec::with_capacity(parts);
        let mut keep: Option<KeepMasks> = None;
        for outcome in chosen {
            let (partition, masks) = outcome?;
            partitions.push(partition);
            // A row is kept unless the partition of its request dropped it.
            keep = Some(match keep {
                None => masks,
                Some(mut keep) => {
                    for (kept, mask) in keep.iter_mut().zip(masks) {
                        kept.iter_mut().zip(mask).for_each(|(k, m)| *k &= m);
                    }
                    keep
                }
            });
        }
        Ok(SpanCopies {
            files,
            keep: keep.unwrap_or_default(),
            partitions,
            hasher,
        })
    }

    /// Rows staged, copies included.
    pub fn rows(&self) -> u64 {
        self.keep.iter().map(|rows| rows.len() as u64).sum()
    }

    /// How many staged files the span has.
    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    /// Requests, each counted once.
    pub fn requests(&self) -> u64 {
        self.partitions.iter().map(|p| p.kept.len() as u64).sum()
    }

    /// Whether the span holds a copy of `request_id`.
    pub fn holds(&self, request_id: &str) -> bool {
        let hash = self.hasher.hash_one(request_id);
        let partition = &self.partitions[(hash % self.partitions.len() as u64) as usize];
        partition.find(hash, request_id).is_some()
    }

    /// The staged files split into at most `parts` groups (indexes into the files) of about
    /// the same number of rows, for writers working in parallel.
    pub fn split(&self, parts: usize) -> Vec<Vec<usize>> {
        let mut by_size: Vec<usize> = (0..self.files.len()).collect();
        by_size.sort_by_key(|&f| std::cmp::Reverse(self.keep[f].len()));
        let mut groups: Vec<(u64, Vec<usize>)> = vec![(0, Vec::new()); parts.max(1)];
        for file in by_size {
            let lightest = groups
                .iter_mut()
                .min_by_key(|(rows, _)| *rows)
                .expect("there is at least one group");
            lightest.0 += self.keep[file].len() as u64;
            lightest.1.push(file);
        }
        groups
            .into_iter()
            .map(|(_, mut files)| {
                files.sort_unstable();
                files
            })
            .filter(|files| !files.is_empty())
            .collect()
    }

    /// Calls `each` with the kept rows of the given files (all columns), in file order.
    pub fn for_each_kept(
        &self,
        files: &[usize],
        mut each: impl FnMut(RecordBatch) -> Result<(), DatasetError>,
    ) -> Result<(), DatasetError> {
        for &file in files {
            let keep = &self.keep[file];
            let mut offset = 0;
            for batch in read(&self.files[file], None)? {
                let batch = batch?;
                let mask = BooleanArray::from(keep[offset..offset + batch.num_rows()].to_vec());
                offset += batch.num_rows();
                let kept = arrow::compute::filter_record_batch(&batch, &mask)?;
                if kept.num_rows() > 0 {
                    each(kept)?;
                }
            }
            if offset != keep.len() {
                return Err(DatasetError::Invalid(format!(
                    "staged file {} changed while it was read",
                    self.files[file].display()
                )));
            }
        }
        Ok(())
    }
}

/// The requests of one hash partition: each kept copy, its id in one arena.
#[derive(Debug, Default)]
struct Partition {
    /// The kept copy of each request, with the place of its id in `ids`.
    kept: HashTable<(Range<u32>, Copy)>,
    ids: String,
    sources: Sources,
}

impl Partition {
    /// Decides for the requests whose id hashes to `part` of `parts`. Returns the partition and
    /// a keep-mask per file that is false only for the rows it dropped.
    fn choose(
        files: &[PathBuf],
        hasher: &DefaultHashBuilder,
        part: usize,
        parts: usize,
    ) -> Result<(Partition, KeepMasks), DatasetError> {
        let mut partition = Partition::default();
        let mut keep: KeepMasks = Vec::with_capacity(files.len());
        for (file, path) in files.iter().enumerate() {
            keep.push(Vec::new());
            for batch in read(path, Some(&KEY_COLUMNS))? {
                let batch = batch?;
                let ids = key_column(&batch, "request_id")?.as_string::<i32>();
                let formats = key_column(&batch, "source_format")?.as_string::<i32>();
                let from = key_column(&batch, "source")?.as_string::<i32>();
                let lines = key_column(&batch, "source_line")?.as_primitive::<Int64Type>();
                for i in 0..batch.num_rows() {
                    let row = keep[file].len() as u32;
                    keep[file].push(true);
                    let id = ids.value(i);
                    let hash = hasher.hash_one(id);
                    if hash % parts as u64 != part as u64 {
                        continue;
                    }
                    let copy = Copy {
                        rank: copy_rank(formats.value(i)),
                        source: partition.sources.intern(from.value(i)),
                        line: lines.value(i),
                        file: file as u32,
                        row,
                    };
                    if let Some(dropped) = partition.offer(hash, id, copy, hasher) {
                        keep[dropped.file as usize][dropped.row as usize] = false;
                    }
                }
            }
        }
        Ok((partition, keep))
    }

    fn find(&self, hash: u64, id: &str) -> Option<&(Range<u32>, Copy)> {
        self.kept.find(hash, |(at, _)| {
            &self.ids[at.start as usize..at.end as usize] == id
        })
    }

    /// Keeps `copy` if its request has no copy yet or a less preferred one; returns the copy
    /// that is dropped, if any.
    fn offer(
        &mut self,
        hash: u64,
        id: &str,
        copy: Copy,
        hasher: &DefaultHashBuilder,
    ) -> Option<Copy> {
        let ids = &self.ids;
        let held = self.kept.find_mut(hash, |(at, _)| {
            &ids[at.start as usize..at.end as usize] == id
        });
        match held {
            Some((_, held)) if self.sources.prefers(&copy, held) => {
                Some(std::mem::replace(held, copy))
            }
            Some(_) => Some(copy),
            None => {
                let start = self.ids.len() as u32;
                self.ids.push_str(id);
                let at = start..self.ids.len() as u32;
                let ids = &self.ids;
                self.kept.insert_unique(hash, (at, copy), |(at, _)| {
                    hasher.hash_one(&ids[at.start as usize..at.end as usize])
                });
                None
            }
        }
    }
}

/// Every source URI of a partition once, so that a copy holds a number, not a string.
#[derive(Debug, Default)]
struct Sources {
    index: HashMap<Box<str>, u32>,
    uris: Vec<Box<str>>,
    /// The last source interned: rows of one object come together.
    last: Option<u32>,
}

impl Sources {
    fn intern(&mut self, uri: &str) -> u32 {
        if let Some(last) = self.last
            && *self.uris[last as usize] == *uri
        {
            return last;
        }
        let i = match self.index.get(uri) {
            Some(&i) => i,
            None => {
                let i = self.uris.len() as u32;
                self.uris.push(uri.into());
                self.index.insert(uri.into(), i);
                i
            }
        };
        self.last = Some(i);
        i
    }

    /// Whether `a` is preferred over `b`: lower rank, then smaller source URI, then line.
    fn prefers(&self, a: &Copy, b: &Copy) -> bool {
        let order = a
            .rank
            .cmp(&b.rank)
            .then_with(|| self.uris[a.source as usize].cmp(&self.uris[b.source as usize]))
            .then_with(|| a.line.cmp(&b.line));
        order == Ordering::Less
    }
}

fn read(path: &Path, columns: Option<&[&str]>) -> Result<ParquetRecordBatchReader, DatasetError> {
    let file = File::open(path).map_err(|e| DatasetError::io(path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)?.with_batch_size(BATCH_ROWS);
    let builder = match columns {
        Some(columns) => {
            let mask = ProjectionMask::columns(builder.parquet_schema(), columns.iter().copied());
            builder.with_projection(mask)
        }
        None => builder,
    };
    Ok(builder.build()?)
}

fn key_column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a dyn Array, DatasetError> {
    batch
        .column_by_name(name)
        .map(|c| c.as_ref())
        .ok_or_else(|| DatasetError::Invalid(format!("staged rows have no column {name}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::test_rows;

    #[test]
    fn copies_rank_by_delivery_path_then_source_then_line() {
        /// Two copies `(source_format, source, line)`; whether the first is preferred.
        type Case<'a> = ((&'a str, &'a str, i64), (&'a str, &'a str, i64), bool);
        let cases: &[Case] = &[
            (("s3_native", "s3://z", 9), ("firehose", "s3://a", 1), true),
            (("firehose", "s3://a", 1), ("s3_native", "s3://z", 9), false),
            (
                ("cloudwatch_logs", "b", 1),
                ("cloudwatch_export", "a", 1),
                true,
            ),
            (("cloudwatch_export", "b", 1), ("cli_page", "a", 1), true),
            (("s3_native", "s3://a", 7), ("s3_native", "s3://b", 1), true),
            (("s3_native", "s3://a", 2), ("s3_native", "s3://a", 3), true),
            (
                ("s3_native", "s3://a", 3),
                ("s3_native", "s3://a", 3),
                false,
            ),
        ];
        for (a, b, expected) in cases {
            let mut sources = Sources::default();
            let copy = |(format, source, line): (&str, &str, i64), sources: &mut Sources| Copy {
                rank: copy_rank(format),
                source: sources.intern(source),
                line,
                file: 0,
                row: 0,
            };
            let (x, y) = (copy(*a, &mut sources), copy(*b, &mut sources));
            assert_eq!(sources.prefers(&x, &y), *expected, "{a:?} over {b:?}");
        }
    }

    #[test]
    fn the_rank_in_sql_follows_the_preference() {
        assert_eq!(
            copy_rank_sql("s."),
            "(CASE s.source_format WHEN 's3_native' THEN 0 WHEN 'firehose' THEN 1 \
             WHEN 'cloudwatch_logs' THEN 2 WHEN 'cloudwatch_export' THEN 3 ELSE 4 END)"
        );
    }

    /// The rows `SpanCopies` keeps of `files`, as `request_id format source:line`, sorted.
    fn kept(files: Vec<PathBuf>, parts: usize) -> Vec<String> {
        let copies = SpanCopies::choose_in(files, parts).unwrap();
        let all: Vec<usize> = (0..copies.files.len()).collect();
        let mut kept = Vec::new();
        copies
            .for_each_kept(&all, |batch| {
                let column = |name| {
                    batch
                        .column_by_name(name)
                        .unwrap()
                        .as_string::<i32>()
                        .clone()
                };
                let (ids, formats, sources) = (
                    column("request_id"),
                    column("source_format"),
                    column("source"),
                );
                let lines = batch.column_by_name("source_line").unwrap();
                let lines = lines.as_primitive::<Int64Type>();
                for i in 0..batch.num_rows() {
                    kept.push(format!(
                        "{} {} {}:{}",
                        ids.value(i),
                        formats.value(i),
                        sources.value(i),
                        lines.value(i)
                    ));
                }
                Ok(())
            })
            .unwrap();
        kept.sort();
        assert_eq!(copies.requests(), kept.len() as u64);
        kept
    }

    #[test]
    fn each_request_keeps_its_preferred_copy_whatever_the_file_order() {
        use crate::rows::SourceFormat::{CloudWatchExport, CloudWatchLogs, S3Native};
        let time = "2026-10-05T10:00:00Z";
        let work = tempfile::tempdir().unwrap();
        let objects = [
            test_rows::decoded(
                "cwlogs://g/s",
                &[("r1", time, CloudWatchLogs), ("r2", time, CloudWatchLogs)],
            ),
            test_rows::decoded(
                "s3://b/native",
                &[("r1", time, S3Native), ("r3", time, S3Native)],
            ),
            test_rows::decoded(
                "s3://b/export",
                &[
                    ("r2", time, CloudWatchExport),
                    ("r3", time, S3Native),
                    ("r3", time, S3Native),
                ],
            ),
        ];
        let mut files = Vec::new();
        for (n, object) in objects.into_iter().enumerate() {
            let staged = test_rows::stage(&work.path().join(n.to_string()), object);
            files.extend(
                staged
                    .months
                    .into_values()
                    .flat_map(|m| m.days.into_values())
                    .flat_map(|d| d.files),
            );
        }
        let expected = [
            "r1 s3_native s3://b/native:1",
            "r2 cloudwatch_logs cwlogs://g/s:2",
            "r3 s3_native s3://b/export:2",
        ];
        for parts in 1..=3 {
            assert_eq!(kept(files.clone(), parts), expected, "{parts} partitions");
        }
        files.reverse();
        assert_eq!(kept(files, 2), expected, "the files in reverse");
    }

    #[test]
    fn files_split_into_groups_of_about_the_same_rows() {
        let copies = SpanCopies {
            files: vec![PathBuf::new(); 5],
            keep: [50, 10, 40, 30, 20]
                .iter()
                .map(|&n| vec![true; n])
                .collect(),
            partitions: Vec::new(),
            hasher: DefaultHashBuilder::default(),
        };
        assert_eq!(copies.split(2), [vec![0, 1, 4], vec![2, 3]]);
        assert_eq!(copies.split(1), [vec![0, 1, 2, 3, 4]]);
        assert_eq!(copies.split(9).len(), 5);
    }
}
