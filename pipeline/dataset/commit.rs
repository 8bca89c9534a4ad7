//! Merging a run's staged rows into the dataset, one month at a time.
//!
//! A month's new file is the union of its current file and the staged rows, deduplicated by
//! `request_id` and sorted by (timestamp, request_id); it replaces the old file atomically. When a
//! request arrived more than once, the copy kept does not depend on arrival order: native S3
//! delivery first (it is the complete record), then Firehose, export, CLI page; then the
//! smallest source URI and line. So ingesting twice, in another order or split across runs gives
//! the same table. DataFusion does the sort, spilling to disk past its memory budget.

use std::path::Path;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::prelude::ParquetReadOptions;
use futures::StreamExt;
use parquet::arrow::ArrowWriter;
use parquet::file::reader::{FileReader, SerializedFileReader};

use super::schema::{INVOCATION_FILE_SCHEMA, REJECT_SCHEMA};
use super::write::{AtomicFile, dataset_properties};
use super::{DatasetError, Layout, session};

/// Row counts of one month before and after a commit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MonthCommit {
    pub rows_before: u64,
    pub rows_after: u64,
}

const SOURCE_PREFERENCE: &str = "CASE source_format WHEN 's3_native' THEN 0 WHEN 'firehose' THEN 1 \
     WHEN 'cloudwatch_export' THEN 2 ELSE 3 END";

/// Merges the staged files in `staged_dir` into `month`.
pub async fn commit_month(
    layout: &Layout,
    month: &str,
    staged_dir: &Path,
) -> Result<MonthCommit, DatasetError> {
    let target = layout.month_file(month);
    let rows_before = if target.is_file() {
        parquet_rows(&target)?
    } else {
        0
    };
    let columns = column_list(&INVOCATION_FILE_SCHEMA);
    let sql = format!(
        "SELECT {columns} FROM (\
           SELECT *, row_number() OVER (PARTITION BY request_id \
             ORDER BY {SOURCE_PREFERENCE}, source, source_line) AS copy_rank \
           FROM incoming) \
         WHERE copy_rank = 1 ORDER BY timestamp, request_id"
    );
    let rows_after = merge(
        layout,
        &[staged_dir, &target],
        &INVOCATION_FILE_SCHEMA,
        &sql,
        &target,
    )
    .await?;
    Ok(MonthCommit {
        rows_before,
        rows_after,
    })
}

/// Merges staged rejects into the rejects file; a reject already recorded is not repeated.
pub async fn commit_rejects(layout: &Layout, staged_dir: &Path) -> Result<u64, DatasetError> {
    let target = layout.rejects_file();
    let columns = column_list(&REJECT_SCHEMA);
    let sql = format!(
        "SELECT DISTINCT {columns} FROM incoming \
         ORDER BY source, byte_offset NULLS FIRST, line NULLS FIRST, reason, excerpt"
    );
    merge(
        layout,
        &[staged_dir, &target],
        &REJECT_SCHEMA,
        &sql,
        &target,
    )
    .await
}

fn column_list(schema: &SchemaRef) -> String {
    let names: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| format!("\"{}\"", f.name()))
        .collect();
    names.join(", ")
}

/// Runs `sql` over the existing `inputs` (registered as `incoming`) and writes the result over
/// `target`. Returns the rows written.
async fn merge(
    layout: &Layout,
    inputs: &[&Path],
    schema: &SchemaRef,
    sql: &str,
    target: &Path,
) -> Result<u64, DatasetError> {
    let paths: Vec<String> = inputs
        .iter()
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    let ctx = session()?;
    let incoming = ctx
        .read_parquet(paths, ParquetReadOptions::default().schema(schema))
        .await?;
    ctx.register_table("incoming", incoming.into_view())?;
    let stream = ctx.sql(sql).await?.execute_stream().await?;
    write_stream(layout, target, stream, schema).await
}

async fn write_stream(
    layout: &Layout,
    target: &Path,
    mut stream: SendableRecordBatchStream,
    schema: &SchemaRef,
) -> Result<u64, DatasetError> {
    let (atomic, file) = AtomicFile::create(&layout.tmp_dir(), target)?;
    let mut writer = ArrowWriter::try_new(file, Arc::clone(schema), Some(dataset_properties()))?;
    let mut rows = 0u64;
    while let Some(batch) = stream.next().await {
        // The query loses nullability; restoring the file schema also checks it still holds.
        let batch = RecordBatch::try_new(Arc::clone(schema), batch?.columns().to_vec())?;
        rows += batch.num_rows() as u64;
        writer.write(&batch)?;
    }
    let file = writer.into_inner()?;
    atomic.commit(file)?;
    Ok(rows)
}

fn parquet_rows(path: &Path) -> Result<u64, DatasetError> {
    let file = std::fs::File::open(path).map_err(|e| DatasetError::io(path, e))?;
    let reader = SerializedFileReader::new(file)?;
    Ok(reader.metadata().file_metadata().num_rows().max(0) as u64)
}
