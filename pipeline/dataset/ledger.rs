//! The ledger of ingested objects: what each object was (URI, size, version), when it was read
//! and what it yielded. A rerun skips an object whose version is unchanged and re-ingests one
//! whose version changed, replacing its rows; the ledger is what makes ingest incremental.
//!
//! The `ledger` table is append-only: a run appends one entry per object it read, and the newest
//! entry of a URI (by `ingested_at`, then `version`) is the one in force. Appends never conflict
//! with each other, so workers never wait on the ledger. It is written last in a run, after the
//! invocations and rejects it describes: a run that dies before that simply reads its objects
//! again, which deduplication makes harmless.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use arrow::array::{
    Array, ArrayRef, AsArray, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef, TimestampMicrosecondType};
use datafusion::catalog::MemTable;
use deltalake::DeltaTable;
use deltalake::protocol::SaveMode;

use super::read::register_snapshot;
use super::tables::data_file_count;
use super::write::dataset_properties;
use super::{DatasetError, session};

/// One ingested object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerEntry {
    pub uri: String,
    pub size_bytes: u64,
    /// ETag for S3 objects, `<size>-<mtime ns>` for local files, the newest event time for a
    /// log group.
    pub version: String,
    /// What the object turned out to be (`log:s3_native`, `noise:empty`, ...).
    pub kind: String,
    pub records: u64,
    pub rejects: u64,
    /// Months the object's records fell in, sorted.
    pub months: Vec<String>,
    pub ingested_at_ms: i64,
}

/// Columns of the `ledger` table. Delta keeps timestamps in microseconds.
pub static LEDGER_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("uri", DataType::Utf8, false),
        Field::new("size_bytes", DataType::Int64, false),
        Field::new("version", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("records", DataType::Int64, false),
        Field::new("rejects", DataType::Int64, false),
        Field::new("months", DataType::Utf8, false),
        Field::new(
            "ingested_at",
            DataType::Timestamp(arrow::datatypes::TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
    ]))
});

/// The SQL that keeps the entry in force of each URI of `entries` (a table of the ledger's rows).
pub const LATEST_ENTRIES: &str = "SELECT uri, size_bytes, version, kind, records, rejects, months, ingested_at FROM (\
       SELECT *, row_number() OVER (PARTITION BY uri ORDER BY ingested_at DESC NULLS LAST, version DESC NULLS LAST) AS newest \
       FROM entries) ranked WHERE newest = 1";

/// The entries in force of some URIs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    entries: BTreeMap<String, LedgerEntry>,
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl Ledger {
    /// Reads the entries in force for `uris` from the ledger table (the others are not needed:
    /// a run only asks about what it listed, so its memory does not grow with history).
    pub async fn load(table: &DeltaTable, uris: &[&str]) -> Result<Ledger, DatasetError> {
        // A first run's ledger is empty: no query needed to find nothing in it.
        if uris.is_empty() || data_file_count(table)? == 0 {
            return Ok(Ledger::default());
        }
        let ctx = session()?;
        register_snapshot(&ctx, table, "all_entries").await?;
        let listed = Arc::new(Schema::new(vec![Field::new("uri", DataType::Utf8, false)]));
        let batch = RecordBatch::try_new(
            Arc::clone(&listed),
            vec![Arc::new(StringArray::from_iter_values(
                uris.iter().copied(),
            ))],
        )?;
        ctx.register_table(
            "listed",
            Arc::new(MemTable::try_new(listed, vec![vec![batch]])?),
        )?;
        ctx.sql(
            "CREATE VIEW entries AS SELECT e.* FROM all_entries e JOIN listed l ON e.uri = l.uri",
        )
        .await?;
        let batches = ctx.sql(LATEST_ENTRIES).await?.collect().await?;
        let mut entries = BTreeMap::new();
        for batch in &batches {
            for entry in entries_of(batch)? {
                entries.insert(entry.uri.clone(), entry);
            }
        }
        Ok(Ledger { entries })
    }

    /// The entry of `uri`, if it was ingested.
    pub fn get(&self, uri: &str) -> Option<&LedgerEntry> {
        self.entries.get(uri)
    }
}

/// Appends `entries` to the ledger table: one blind append, which no concurrent commit can
/// conflict with.
pub async fn append(
    table: DeltaTable,
    entries: &[LedgerEntry],
) -> Result<DeltaTable, DatasetError> {
    if entries.is_empty() {
        return Ok(table);
    }
    let location = table.table_url().to_string();
    table
        .write(vec![entries_batch(entries)?])
        .with_save_mode(SaveMode::Append)
        .with_writer_properties(dataset_properties())
        .await
        .map_err(|e| DatasetError::delta(location, e))
}

fn entries_batch(entries: &[LedgerEntry]) -> Result<RecordBatch, DatasetError> {
    let text = |get: &dyn Fn(&LedgerEntry) -> String| -> ArrayRef {
        Arc::new(
            entries
                .iter()
                .map(|e| Some(get(e)))
                .collect::<StringArray>(),
        )
    };
    let int = |get: &dyn Fn(&LedgerEntry) -> i64| -> ArrayRef {
        Arc::new(entries.iter().map(|e| Some(get(e))).collect::<Int64Array>())
    };
    let columns: Vec<ArrayRef> = vec![
        text(&|e| e.uri.clone()),
        int(&|e| to_i64(e.size_bytes)),
        text(&|e| e.version.clone()),
        text(&|e| e.kind.clone()),
        int(&|e| to_i64(e.records)),
        int(&|e| to_i64(e.rejects)),
        text(&|e| e.months.join(",")),
        Arc::new(
            entries
                .iter()
                .map(|e| Some(e.ingested_at_ms.saturating_mul(1000)))
                .collect::<TimestampMicrosecondArray>()
                .with_timezone("UTC"),
        ),
    ];
    Ok(RecordBatch::try_new(Arc::clone(&LEDGER_SCHEMA), columns)?)
}

fn entries_of(batch: &RecordBatch) -> Result<Vec<LedgerEntry>, DatasetError> {
    let column = |name: &str| {
        batch
            .column_by_name(name)
            .ok_or_else(|| DatasetError::Invalid(format!("the ledger has no column {name}")))
    };
    // Casts, because a reader may hand strings back as views.
    let text = |name: &str| -> Result<StringArray, DatasetError> {
        let array = arrow::compute::cast(column(name)?, &DataType::Utf8)?;
        Ok(array.as_string::<i32>().clone())
    };
    let int = |name: &str| -> Result<Int64Array, DatasetError> {
        Ok(column(name)?.as_primitive::<Int64Type>().clone())
    };
    let (uri, version, kind, months) = (
        text("uri")?,
        text("version")?,
        text("kind")?,
        text("months")?,
    );
    let (size, records, rejects) = (int("size_bytes")?, int("records")?, int("rejects")?);
    let at = column("ingested_at")?
        .as_primitive::<TimestampMicrosecondType>()
        .clone();
    Ok((0..batch.num_rows())
        .map(|row| LedgerEntry {
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
            ingested_at_ms: if at.is_null(row) {
                0
            } else {
                at.value(row) / 1000
            },
        })
        .collect())
}

/// The version of a local file: its size and modification time.
pub fn local_version(metadata: &std::fs::Metadata) -> std::io::Result<String> {
    let modified = metadata
        .modified()?
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    Ok(format!("{}-{modified}", metadata.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{Dataset, Table};

    fn entry(uri: &str, version: &str, at_ms: i64) -> LedgerEntry {
        LedgerEntry {
            uri: uri.to_owned(),
            size_bytes: 12,
            version: version.to_owned(),
            kind: "log:s3_native".to_owned(),
            records: 3,
            rejects: 1,
            months: vec!["2026-10".to_owned(), "2026-11".to_owned()],
            ingested_at_ms: at_ms,
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn keeps_the_newest_entry_of_each_uri() {
        let dir = tempfile::tempdir().unwrap();
        let dataset = Dataset::local(dir.path()).unwrap();
        let table = dataset.open_or_create(Table::Ledger).await.unwrap();
        let table = append(
            table,
            &[
                entry("s3://b/k1", "\"v1\"", 1_000),
                entry("s3://b/k2", "\"a\"", 1_000),
            ],
        )
        .await
        .unwrap();
        let table = append(table, &[entry("s3://b/k1", "\"v2\"", 2_000)])
            .await
            .unwrap();
        let ledger = Ledger::load(&table, &["s3://b/k1", "s3://b/k2", "s3://b/k3"])
            .await
            .unwrap();
        assert_eq!(
            ledger.get("s3://b/k1"),
            Some(&entry("s3://b/k1", "\"v2\"", 2_000))
        );
        assert_eq!(
            ledger.get("s3://b/k2"),
            Some(&entry("s3://b/k2", "\"a\"", 1_000))
        );
        assert_eq!(ledger.get("s3://b/k3"), None);
        let only_k2 = Ledger::load(&table, &["s3://b/k2"]).await.unwrap();
        assert!(only_k2.get("s3://b/k1").is_none());
    }
}
