//! The ledger of ingested objects: what each object was (URI, size, version), when it was read
//! and what it yielded. A rerun skips an object whose version is unchanged and re-ingests one
//! whose version changed, replacing its rows; the ledger is what makes ingest incremental.
//!
//! The ledger is written last in a run, after the months and rejects it describes: a run that
//! dies before that simply reads its objects again, which deduplication makes harmless.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use arrow::array::{
    Array, ArrayRef, AsArray, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef, TimestampMillisecondType};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::schema::timestamp_type;
use super::write::{AtomicFile, dataset_properties};
use super::{DatasetError, Layout};

/// One ingested object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerEntry {
    pub uri: String,
    pub size_bytes: u64,
    /// ETag for S3 objects, `<size>-<mtime ns>` for local files.
    pub version: String,
    /// What the object turned out to be (`log:s3_native`, `noise:empty`, ...).
    pub kind: String,
    pub records: u64,
    pub rejects: u64,
    /// Months the object's records fell in, sorted.
    pub months: Vec<String>,
    pub ingested_at_ms: i64,
}

/// Columns of `ledger/objects.parquet`.
pub static LEDGER_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("uri", DataType::Utf8, false),
        Field::new("size_bytes", DataType::Int64, false),
        Field::new("version", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("records", DataType::Int64, false),
        Field::new("rejects", DataType::Int64, false),
        Field::new("months", DataType::Utf8, false),
        Field::new("ingested_at", timestamp_type(), false),
    ]))
});

/// Every object ingested so far, by URI.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    entries: BTreeMap<String, LedgerEntry>,
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl Ledger {
    /// Reads the dataset's ledger (empty when there is none yet).
    pub fn load(layout: &Layout) -> Result<Ledger, DatasetError> {
        let path = layout.ledger_file();
        if !path.is_file() {
            return Ok(Ledger::default());
        }
        let file = File::open(&path).map_err(|e| DatasetError::io(&path, e))?;
        let mut entries = BTreeMap::new();
        for batch in ParquetRecordBatchReaderBuilder::try_new(file)?.build()? {
            let batch = batch?;
            let text = |i: usize| batch.column(i).as_string::<i32>().clone();
            let int = |i: usize| batch.column(i).as_primitive::<Int64Type>().clone();
            let (uri, version, kind, months) = (text(0), text(2), text(3), text(6));
            let (size, records, rejects) = (int(1), int(4), int(5));
            let at = batch
                .column(7)
                .as_primitive::<TimestampMillisecondType>()
                .clone();
            for row in 0..batch.num_rows() {
                let entry = LedgerEntry {
                    uri: uri.value(row).to_owned(),
                    size_bytes: size.value(row).max(0) as u64,
                    version: version.value(row).to_owned(),
                    kind: kind.value(row).to_owned(),
                    records: records.value(row).max(0) as u64,
                    rejects: rejects.value(row).max(0) as u64,
                    months: months
                        .value(row)
                        .split(',')
                        .filter(|m| !m.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    ingested_at_ms: if at.is_null(row) { 0 } else { at.value(row) },
                };
                entries.insert(entry.uri.clone(), entry);
            }
        }
        Ok(Ledger { entries })
    }

    /// The entry of `uri`, if it was ingested.
    pub fn get(&self, uri: &str) -> Option<&LedgerEntry> {
        self.entries.get(uri)
    }

    /// Records (or replaces) an entry.
    pub fn insert(&mut self, entry: LedgerEntry) {
        self.entries.insert(entry.uri.clone(), entry);
    }

    /// True when nothing was ingested yet.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Writes the ledger over `ledger/objects.parquet` atomically.
    pub fn save(&self, layout: &Layout) -> Result<(), DatasetError> {
        let entries: Vec<&LedgerEntry> = self.entries.values().collect();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(
                entries
                    .iter()
                    .map(|e| Some(e.uri.as_str()))
                    .collect::<StringArray>(),
            ),
            Arc::new(
                entries
                    .iter()
                    .map(|e| Some(to_i64(e.size_bytes)))
                    .collect::<Int64Array>(),
            ),
            Arc::new(
                entries
                    .iter()
                    .map(|e| Some(e.version.as_str()))
                    .collect::<StringArray>(),
            ),
            Arc::new(
                entries
                    .iter()
                    .map(|e| Some(e.kind.as_str()))
                    .collect::<StringArray>(),
            ),
            Arc::new(
                entries
                    .iter()
                    .map(|e| Some(to_i64(e.records)))
                    .collect::<Int64Array>(),
            ),
            Arc::new(
                entries
                    .iter()
                    .map(|e| Some(to_i64(e.rejects)))
                    .collect::<Int64Array>(),
            ),
            Arc::new(
                entries
                    .iter()
                    .map(|e| Some(e.months.join(",")))
                    .collect::<StringArray>(),
            ),
            Arc::new(
                entries
                    .iter()
                    .map(|e| Some(e.ingested_at_ms))
                    .collect::<TimestampMillisecondArray>()
                    .with_timezone("UTC"),
            ),
        ];
        let batch = RecordBatch::try_new(Arc::clone(&LEDGER_SCHEMA), columns)?;
        let target = layout.ledger_file();
        let (atomic, file) = AtomicFile::create(&layout.tmp_dir(), &target)?;
        let mut writer = ArrowWriter::try_new(
            file,
            Arc::clone(&LEDGER_SCHEMA),
            Some(dataset_properties(Vec::new())),
        )?;
        writer.write(&batch)?;
        atomic.commit(writer.into_inner()?)
    }
}

/// The version of a local file: its size and modification time.
pub fn local_version(path: &Path) -> std::io::Result<String> {
    let metadata = path.metadata()?;
    let modified = metadata
        .modified()?
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    Ok(format!("{}-{modified}", metadata.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_parquet() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        assert!(Ledger::load(&layout).unwrap().is_empty());
        let mut ledger = Ledger::default();
        for (uri, months) in [
            (
                "s3://b/k2",
                vec!["2025-10".to_owned(), "2025-11".to_owned()],
            ),
            ("file:///a", vec![]),
        ] {
            ledger.insert(LedgerEntry {
                uri: uri.to_owned(),
                size_bytes: 12,
                version: "\"etag\"".to_owned(),
                kind: "log:s3_native".to_owned(),
                records: 3,
                rejects: 1,
                months,
                ingested_at_ms: 1_759_276_800_000,
            });
        }
        ledger.save(&layout).unwrap();
        assert_eq!(Ledger::load(&layout).unwrap(), ledger);
    }
}
