//! Merging a run's staged rows into the dataset, one month at a time.
//!
//! A month's new file is the union of its current file (less the rows of objects being
//! re-ingested because they changed) and the staged rows, deduplicated by `request_id` and
//! sorted by (timestamp, request_id); it replaces the old file atomically. When a request arrived
//! more than once, the copy kept does not depend on arrival order: native S3 delivery first (it
//! is the complete record), then Firehose, the CloudWatch Logs API, export, CLI page; then the
//! smallest source URI and
//! line. So ingesting twice, in another order or split across runs gives the same table.
//! DataFusion does the sort, spilling to disk past its memory budget.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use datafusion::catalog::MemTable;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
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
     WHEN 'cloudwatch_logs' THEN 2 WHEN 'cloudwatch_export' THEN 3 ELSE 4 END";

/// The rows that go into a file: what it holds now, minus the rows of `replaced` sources, plus
/// what was staged.
const INCOMING: &str = "SELECT * FROM existing WHERE source NOT IN (SELECT uri FROM replaced) \
     UNION ALL SELECT * FROM staged";

/// Merges the staged files in `staged_dir` (if any) into `month`, dropping the rows of the
/// `replaced` sources, and prices every row of the month with `prices`. Without staged files
/// or replaced sources this reprices the month.
pub async fn commit_month(
    layout: &Layout,
    month: &str,
    staged_dir: Option<&Path>,
    replaced: &[String],
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
           FROM ({INCOMING})) \
         WHERE copy_rank = 1 ORDER BY timestamp, request_id"
    );
    let merge = Merge {
        existing: &target,
        staged: staged_dir,
        replaced,
        read_schema: &INVOCATION_BASE_SCHEMA,
        sql: &sql,
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
        let commit = commit_month(layout, &month, None, &[], prices).await?;
        commits.push((month, commit));
    }
    Ok(commits)
}

/// Merges staged rejects (if any) into the rejects file, dropping the rejects of the `replaced`
/// sources; a reject already recorded is not repeated.
pub async fn commit_rejects(
    layout: &Layout,
    staged_dir: Option<&Path>,
    replaced: &[String],
) -> Result<u64, DatasetError> {
    let target = layout.rejects_file();
    let columns = column_list(&REJECT_SCHEMA);
    let sql = format!(
        "SELECT DISTINCT {columns} FROM ({INCOMING}) \
         ORDER BY source, byte_offset NULLS FIRST, line NULLS FIRST, reason, excerpt"
    );
    let merge = Merge {
        existing: &target,
        staged: staged_dir,
        replaced,
        read_schema: &REJECT_SCHEMA,
        sql: &sql,
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

/// One file rewritten from what it holds and what was staged for it.
struct Merge<'a> {
    /// The file being rewritten (it may not exist yet).
    existing: &'a Path,
    /// Directory of staged files, if any.
    staged: Option<&'a Path>,
    /// Sources whose rows in `existing` are dropped.
    replaced: &'a [String],
    read_schema: &'a SchemaRef,
    /// Selects from `existing`, `staged` and `replaced`.
    sql: &'a str,
    write_schema: &'a SchemaRef,
    /// Key-value metadata for the file footer.
    metadata: Vec<(String, String)>,
}

impl Merge<'_> {
    /// Runs the query, passes each batch through `transform` and writes the result over the
    /// file atomically (or removes the file when nothing is left). Returns the rows written.
    async fn run(
        self,
        layout: &Layout,
        transform: impl Fn(RecordBatch) -> Result<RecordBatch, ArrowError>,
    ) -> Result<u64, DatasetError> {
        let ctx = session()?;
        self.register(&ctx, "existing", Some(self.existing)).await?;
        self.register(&ctx, "staged", self.staged).await?;
        let uris = Arc::new(Schema::new(vec![Field::new("uri", DataType::Utf8, false)]));
        let replaced = RecordBatch::try_new(
            Arc::clone(&uris),
            vec![Arc::new(StringArray::from_iter_values(self.replaced))],
        )?;
        ctx.register_table(
            "replaced",
            Arc::new(MemTable::try_new(uris, vec![vec![replaced]])?),
        )?;
        let mut stream = ctx.sql(self.sql).await?.execute_stream().await?;

        let (atomic, file) = AtomicFile::create(&layout.tmp_dir(), self.existing)?;
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
        if rows == 0 {
            drop((atomic, file));
            match std::fs::remove_file(self.existing) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(DatasetError::io(self.existing, e));
                }
                _ => return Ok(0),
            }
        }
        atomic.commit(file)?;
        Ok(rows)
    }

    /// Registers the Parquet files at `path` as `name`, or an empty table when there are none.
    async fn register(
        &self,
        ctx: &SessionContext,
        name: &str,
        path: Option<&Path>,
    ) -> Result<(), DatasetError> {
        match path.filter(|p| p.exists()) {
            Some(path) => {
                let options = ParquetReadOptions::default().schema(self.read_schema);
                let frame = ctx
                    .read_parquet(path.display().to_string(), options)
                    .await?;
                ctx.register_table(name, frame.into_view())?;
            }
            None => {
                let empty = MemTable::try_new(Arc::clone(self.read_schema), vec![vec![]])?;
                ctx.register_table(name, Arc::new(empty))?;
            }
        }
        Ok(())
    }
}

fn parquet_rows(path: &Path) -> Result<u64, DatasetError> {
    let file = std::fs::File::open(path).map_err(|e| DatasetError::io(path, e))?;
    let reader = SerializedFileReader::new(file)?;
    Ok(reader.metadata().file_metadata().num_rows().max(0) as u64)
}
