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
use arrow::error::ArrowError;
use datafusion::prelude::ParquetReadOptions;
use futures::StreamExt;
use parquet::arrow::ArrowWriter;
use parquet::file::reader::{FileReader, SerializedFileReader};

use super::schema::{INVOCATION_BASE_SCHEMA, INVOCATION_FILE_SCHEMA, REJECT_SCHEMA};
use super::write::{AtomicFile, PRICE_BOOK_KEY, dataset_properties};
use super::{DatasetError, Layout, session};
use crate::pricing::PriceBookInUse;
use crate::pricing::batch::price_batch;

/// Row counts of one month before and after a commit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MonthCommit {
    pub rows_before: u64,
    pub rows_after: u64,
}

const SOURCE_PREFERENCE: &str = "CASE source_format WHEN 's3_native' THEN 0 WHEN 'firehose' THEN 1 \
     WHEN 'cloudwatch_export' THEN 2 ELSE 3 END";

/// Merges the staged files in `staged_dir` (if any) into `month` and prices every row of the
/// month with `prices`. Without staged files this reprices the month.
pub async fn commit_month(
    layout: &Layout,
    month: &str,
    staged_dir: Option<&Path>,
    prices: &PriceBookInUse,
) -> Result<MonthCommit, DatasetError> {
    let target = layout.month_file(month);
    let rows_before = if target.is_file() {
        parquet_rows(&target)?
    } else {
        0
    };
    let columns = column_list(&INVOCATION_BASE_SCHEMA);
    let sql = format!(
        "SELECT {columns} FROM (\
           SELECT *, row_number() OVER (PARTITION BY request_id \
             ORDER BY {SOURCE_PREFERENCE}, source, source_line) AS copy_rank \
           FROM incoming) \
         WHERE copy_rank = 1 ORDER BY timestamp, request_id"
    );
    let inputs: Vec<&Path> = staged_dir.into_iter().chain([target.as_path()]).collect();
    let merge = Merge {
        inputs: &inputs,
        read_schema: &INVOCATION_BASE_SCHEMA,
        sql: &sql,
        target: &target,
        write_schema: &INVOCATION_FILE_SCHEMA,
        metadata: vec![(PRICE_BOOK_KEY.to_owned(), prices.sha256.clone())],
    };
    let rows_after = merge
        .run(layout, |batch| price_batch(&batch, &prices.book))
        .await?;
    Ok(MonthCommit {
        rows_before,
        rows_after,
    })
}

/// Reprices every month of the dataset with `prices`, without reading any log.
pub async fn reprice_all(
    layout: &Layout,
    prices: &PriceBookInUse,
) -> Result<Vec<(String, MonthCommit)>, DatasetError> {
    let mut commits = Vec::new();
    for month in layout
        .months()
        .map_err(|e| DatasetError::io(&layout.invocations_dir(), e))?
    {
        let commit = commit_month(layout, &month, None, prices).await?;
        commits.push((month, commit));
    }
    Ok(commits)
}

/// Merges staged rejects into the rejects file; a reject already recorded is not repeated.
pub async fn commit_rejects(layout: &Layout, staged_dir: &Path) -> Result<u64, DatasetError> {
    let target = layout.rejects_file();
    let columns = column_list(&REJECT_SCHEMA);
    let sql = format!(
        "SELECT DISTINCT {columns} FROM incoming \
         ORDER BY source, byte_offset NULLS FIRST, line NULLS FIRST, reason, excerpt"
    );
    let merge = Merge {
        inputs: &[staged_dir, &target],
        read_schema: &REJECT_SCHEMA,
        sql: &sql,
        target: &target,
        write_schema: &REJECT_SCHEMA,
        metadata: Vec::new(),
    };
    merge.run(layout, Ok).await
}

fn column_list(schema: &SchemaRef) -> String {
    let names: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| format!("\"{}\"", f.name()))
        .collect();
    names.join(", ")
}

/// One file rewritten from the union of existing inputs.
struct Merge<'a> {
    /// Files or directories; the ones that do not exist are skipped.
    inputs: &'a [&'a Path],
    read_schema: &'a SchemaRef,
    /// Selects from `incoming`, the union of the inputs.
    sql: &'a str,
    target: &'a Path,
    write_schema: &'a SchemaRef,
    /// Key-value metadata for the file footer.
    metadata: Vec<(String, String)>,
}

impl Merge<'_> {
    /// Runs the query, passes each batch through `transform`, writes the result over the
    /// target atomically and returns the rows written.
    async fn run(
        self,
        layout: &Layout,
        transform: impl Fn(RecordBatch) -> Result<RecordBatch, ArrowError>,
    ) -> Result<u64, DatasetError> {
        let paths: Vec<String> = self
            .inputs
            .iter()
            .filter(|p| p.exists())
            .map(|p| p.display().to_string())
            .collect();
        let ctx = session()?;
        let incoming = ctx
            .read_parquet(
                paths,
                ParquetReadOptions::default().schema(self.read_schema),
            )
            .await?;
        ctx.register_table("incoming", incoming.into_view())?;
        let mut stream = ctx.sql(self.sql).await?.execute_stream().await?;

        let (atomic, file) = AtomicFile::create(&layout.tmp_dir(), self.target)?;
        let properties = dataset_properties(self.metadata);
        let mut writer =
            ArrowWriter::try_new(file, Arc::clone(self.write_schema), Some(properties))?;
        let mut rows = 0u64;
        while let Some(batch) = stream.next().await {
            // The query loses nullability; restoring the read schema also checks it still holds.
            let batch =
                RecordBatch::try_new(Arc::clone(self.read_schema), batch?.columns().to_vec())?;
            let batch = transform(batch)?;
            rows += batch.num_rows() as u64;
            writer.write(&batch)?;
        }
        let file = writer.into_inner()?;
        atomic.commit(file)?;
        Ok(rows)
    }
}

fn parquet_rows(path: &Path) -> Result<u64, DatasetError> {
    let file = std::fs::File::open(path).map_err(|e| DatasetError::io(path, e))?;
    let reader = SerializedFileReader::new(file)?;
    Ok(reader.metadata().file_metadata().num_rows().max(0) as u64)
}
