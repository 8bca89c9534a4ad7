//! Committing a run's rows into one month of the `invocations` table.
//!
//! A month gains rows through a Delta MERGE keyed on `request_id` within the month partition:
//! a request the month does not hold yet is inserted, and one it holds is replaced only by a
//! preferred copy. So each request is stored once, and which copy is kept does not depend on
//! arrival order: native S3 delivery first (the complete record), then Firehose, the CloudWatch
//! Logs API, export, CLI page; then the smallest source URI and line. The run's own rows are
//! deduplicated the same way before the merge. Files of the month that hold no matched row are
//! left as they are, so a nightly increment costs the day's rows, not the month's.
//!
//! A merge reads the month it writes: when another writer committed files to that month that
//! could hold the same requests (by partition and file statistics) since the snapshot it read,
//! Delta refuses the commit and the loser recomputes its merge from the new snapshot
//! ([`super::retry`]). Writers of different months, or of disjoint requests, never wait.
//!
//! Every row records the SHA-256 of the price book that priced it (`price_book_sha256`). A month
//! priced with another book than the run's is rewritten whole, every row repriced, so a month
//! is always priced with one book.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::datatypes::SchemaRef;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use deltalake::DeltaTable;
use deltalake::protocol::SaveMode;
use futures::StreamExt;
use parquet::arrow::ArrowWriter;

use super::read::register_snapshot;
use super::retry::{RetryPolicy, retry_conflicts};
use super::schema::{INVOCATION_BASE_SCHEMA, MONTH, PRICE_BOOK};
use super::tables::invocations_table_schema;
use super::write::{dataset_properties, staging_properties};
use super::{Dataset, DatasetError, Table, session};
use crate::pricing::PriceBookInUse;
use crate::pricing::batch::price_batch;

/// What one commit did to a month.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MonthCommit {
    /// Requests the month did not hold before.
    pub inserted: u64,
    /// Requests replaced by a preferred copy or by the new version of their object.
    pub updated: u64,
    /// Rows removed because the object they came from changed and no longer holds them.
    pub deleted: u64,
    /// Rows the month holds after the commit, when the commit rewrote it whole.
    pub rewritten: Option<u64>,
    /// The table version the commit created (the version read, when there was nothing to do).
    pub version: u64,
}

/// The rows a run brings to one month.
#[derive(Clone, Copy, Debug)]
pub struct MonthChange<'a> {
    pub month: &'a str,
    /// Directory of the run's staged Parquet files for the month (base columns), if any.
    pub staged: Option<&'a Path>,
    /// Sources whose rows in the month are replaced (objects that changed since last read).
    pub replaced: &'a [String],
}

/// Orders copies of one request, best first.
const COPY_ORDER: &str = "CASE source_format WHEN 's3_native' THEN 0 WHEN 'firehose' THEN 1 \
     WHEN 'cloudwatch_logs' THEN 2 WHEN 'cloudwatch_export' THEN 3 ELSE 4 END, source, source_line";

/// The same order as a predicate: the source row `s` is preferred over the target row `t`.
fn preferred_over_target() -> String {
    let rank = |alias: &str| {
        format!(
            "(CASE {alias}.source_format WHEN 's3_native' THEN 0 WHEN 'firehose' THEN 1 \
             WHEN 'cloudwatch_logs' THEN 2 WHEN 'cloudwatch_export' THEN 3 ELSE 4 END)"
        )
    };
    let (s, t) = (rank("s"), rank("t"));
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

/// Applies `change` to its month with the run's price book, retrying on conflicts. `work_dir`
/// is private to the run (the priced rows are written there first).
pub async fn commit_month(
    dataset: &Dataset,
    change: MonthChange<'_>,
    prices: &PriceBookInUse,
    work_dir: &Path,
    policy: RetryPolicy,
) -> Result<MonthCommit, DatasetError> {
    let priced = match change.staged {
        Some(staged) => Some(prepare_rows(change.month, staged, prices, work_dir).await?),
        None => None,
    };
    let location = format!(
        "{}{MONTH}={}",
        dataset.table_location(Table::Invocations),
        change.month
    );
    retry_conflicts(&location, policy, || async {
        let table = dataset.open(Table::Invocations, None).await?;
        let ctx = session()?;
        let books = month_price_books(&ctx, &table, change.month).await?;
        if books.iter().any(|book| *book != prices.sha256) {
            rewrite_month(&ctx, table, change, priced.as_deref(), prices, work_dir).await
        } else if let Some(priced) = &priced {
            merge_rows(&ctx, table, change, priced).await
        } else if !change.replaced.is_empty() {
            delete_replaced(table, change).await
        } else {
            Ok(MonthCommit {
                version: table.version().unwrap_or(0),
                ..MonthCommit::default()
            })
        }
    })
    .await
}

/// Reprices every row of `month` with `prices`, from the stored token counts.
pub async fn reprice_month(
    dataset: &Dataset,
    month: &str,
    prices: &PriceBookInUse,
    work_dir: &Path,
    policy: RetryPolicy,
) -> Result<MonthCommit, DatasetError> {
    let location = dataset.table_location(Table::Invocations);
    retry_conflicts(&location, policy, || async {
        let table = dataset.open(Table::Invocations, None).await?;
        let ctx = session()?;
        let change = MonthChange {
            month,
            staged: None,
            replaced: &[],
        };
        rewrite_month(&ctx, table, change, None, prices, work_dir).await
    })
    .await
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

/// The price books that priced the rows of `month`, sorted (none for an empty month).
pub async fn month_price_books(
    ctx: &SessionContext,
    table: &DeltaTable,
    month: &str,
) -> Result<Vec<String>, DatasetError> {
    register_snapshot(ctx, table, "month_books_target").await?;
    let books = strings(
        ctx,
        &format!(
            "SELECT DISTINCT CAST({PRICE_BOOK} AS VARCHAR) AS book FROM month_books_target \
             WHERE {MONTH} = '{month}' ORDER BY book"
        ),
    )
    .await?;
    ctx.deregister_table("month_books_target")?;
    Ok(books)
}

/// Deduplicates the staged rows of a month and prices them into one local Parquet file in the
/// table's schema.
async fn prepare_rows(
    month: &str,
    staged: &Path,
    prices: &PriceBookInUse,
    work_dir: &Path,
) -> Result<PathBuf, DatasetError> {
    let ctx = session()?;
    let options = ParquetReadOptions::default().schema(&INVOCATION_BASE_SCHEMA);
    ctx.register_parquet("staged", staged.display().to_string(), options)
        .await?;
    let sql = deduplicated("SELECT * FROM staged");
    let path = work_dir.join(format!("priced-{month}.parquet"));
    write_priced(&ctx, &sql, month, prices, &path, staging_properties()).await?;
    Ok(path)
}

/// `rows` (base columns) with one copy of each request, the preferred one.
fn deduplicated(rows: &str) -> String {
    let columns = quoted_columns(&INVOCATION_BASE_SCHEMA, "");
    format!(
        "SELECT {columns} FROM (\
           SELECT *, row_number() OVER (PARTITION BY request_id ORDER BY {COPY_ORDER}) AS copy_rank \
           FROM ({rows})) \
         WHERE copy_rank = 1"
    )
}

/// Runs `sql` (base columns), prices each batch and writes the rows in the table's schema to
/// `path`. Returns the rows written.
async fn write_priced(
    ctx: &SessionContext,
    sql: &str,
    month: &str,
    prices: &PriceBookInUse,
    path: &Path,
    properties: parquet::file::properties::WriterProperties,
) -> Result<u64, DatasetError> {
    let schema = invocations_table_schema();
    let file = std::fs::File::create(path).map_err(|e| DatasetError::io(path, e))?;
    let mut writer = ArrowWriter::try_new(file, Arc::clone(&schema), Some(properties))?;
    let mut stream = ctx.sql(sql).await?.execute_stream().await?;
    let mut rows = 0u64;
    while let Some(batch) = stream.next().await {
        let base = conform(&batch?, &INVOCATION_BASE_SCHEMA)?;
        let priced = price_batch(&base, &prices.book)?;
        let n = priced.num_rows();
        let mut columns = priced.columns().to_vec();
        columns.push(constant(&prices.sha256, n));
        columns.push(constant(month, n));
        let mut fields: Vec<arrow::datatypes::FieldRef> =
            priced.schema().fields().iter().cloned().collect();
        fields.push(Arc::new(schema.field_with_name(PRICE_BOOK)?.clone()));
        fields.push(Arc::new(schema.field_with_name(MONTH)?.clone()));
        let row = RecordBatch::try_new(Arc::new(arrow::datatypes::Schema::new(fields)), columns)?;
        writer.write(&conform(&row, &schema)?)?;
        rows += n as u64;
    }
    writer.close()?;
    Ok(rows)
}

fn constant(value: &str, rows: usize) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
        value, rows,
    )))
}

/// `batch` with exactly the columns of `schema`, in its order and types (a query may hand back
/// string views or microsecond timestamps; nullability is checked on the way).
fn conform(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, DatasetError> {
    let columns = schema
        .fields()
        .iter()
        .map(|field| {
            let column = batch.column_by_name(field.name()).ok_or_else(|| {
                DatasetError::Invalid(format!("the rows have no column {}", field.name()))
            })?;
            Ok(arrow::compute::cast(column, field.data_type())?)
        })
        .collect::<Result<Vec<_>, DatasetError>>()?;
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}

async fn merge_rows(
    ctx: &SessionContext,
    table: DeltaTable,
    change: MonthChange<'_>,
    priced: &Path,
) -> Result<MonthCommit, DatasetError> {
    let location = table.table_url().to_string();
    let source = ctx
        .read_parquet(priced.display().to_string(), ParquetReadOptions::default())
        .await?;
    let month = change.month;
    let schema = invocations_table_schema();
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let mut replace = preferred_over_target();
    if !change.replaced.is_empty() {
        replace = format!("(t.source IN ({}) OR {replace})", sql_list(change.replaced));
    }
    let mut merge = table
        .merge(
            source,
            format!("t.{MONTH} = '{month}' AND t.request_id = s.request_id"),
        )
        .with_source_alias("s")
        .with_target_alias("t")
        .with_writer_properties(dataset_properties())
        .when_matched_update(|update| {
            names
                .iter()
                .fold(update.predicate(replace), |update, name| {
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
        .map_err(|e| DatasetError::delta(&location, e))?;
    if !change.replaced.is_empty() {
        let gone = format!(
            "t.{MONTH} = '{month}' AND t.source IN ({})",
            sql_list(change.replaced)
        );
        merge = merge
            .when_not_matched_by_source_delete(|delete| delete.predicate(gone))
            .map_err(|e| DatasetError::delta(&location, e))?;
    }
    let (table, metrics) = merge.await.map_err(|e| DatasetError::delta(&location, e))?;
    Ok(MonthCommit {
        inserted: metrics.num_target_rows_inserted as u64,
        updated: metrics.num_target_rows_updated as u64,
        deleted: metrics.num_target_rows_deleted as u64,
        rewritten: None,
        version: table.version().unwrap_or(0),
    })
}

async fn delete_replaced(
    table: DeltaTable,
    change: MonthChange<'_>,
) -> Result<MonthCommit, DatasetError> {
    let location = table.table_url().to_string();
    let (table, metrics) = table
        .delete()
        .with_predicate(format!(
            "{MONTH} = '{}' AND source IN ({})",
            change.month,
            sql_list(change.replaced)
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

/// Rewrites the month whole: its rows less those of replaced sources, plus `priced` (if any),
/// deduplicated and every row priced with `prices`. Overwriting the partition reads it, so a
/// concurrent commit to the month conflicts.
async fn rewrite_month(
    ctx: &SessionContext,
    table: DeltaTable,
    change: MonthChange<'_>,
    priced: Option<&Path>,
    prices: &PriceBookInUse,
    work_dir: &Path,
) -> Result<MonthCommit, DatasetError> {
    let location = table.table_url().to_string();
    let month = change.month;
    register_snapshot(ctx, &table, "target").await?;
    let base = quoted_columns(&INVOCATION_BASE_SCHEMA, "");
    let mut rows = format!("SELECT {base} FROM target WHERE {MONTH} = '{month}'");
    if !change.replaced.is_empty() {
        rows.push_str(&format!(
            " AND source NOT IN ({})",
            sql_list(change.replaced)
        ));
    }
    if let Some(priced) = priced {
        ctx.register_parquet(
            "incoming",
            priced.display().to_string(),
            ParquetReadOptions::default(),
        )
        .await?;
        rows = format!("{rows} UNION ALL SELECT {base} FROM incoming");
    }
    let rows_before = count_rows(
        ctx,
        &format!("SELECT * FROM target WHERE {MONTH} = '{month}'"),
    )
    .await?;
    let path = work_dir.join(format!("rewrite-{month}.parquet"));
    let rows_after = write_priced(
        ctx,
        &deduplicated(&rows),
        month,
        prices,
        &path,
        staging_properties(),
    )
    .await?;
    let rewritten = ctx
        .read_parquet(path.display().to_string(), ParquetReadOptions::default())
        .await?
        .logical_plan()
        .clone();
    let table = table
        .write(Vec::<RecordBatch>::new())
        .with_input_plan(rewritten)
        .with_save_mode(SaveMode::Overwrite)
        .with_replace_where(format!("{MONTH} = '{month}'"))
        .with_writer_properties(dataset_properties())
        .await
        .map_err(|e| DatasetError::delta(&location, e))?;
    Ok(MonthCommit {
        inserted: rows_after.saturating_sub(rows_before),
        updated: 0,
        deleted: rows_before.saturating_sub(rows_after),
        rewritten: Some(rows_after),
        version: table.version().unwrap_or(0),
    })
}

async fn count_rows(ctx: &SessionContext, sql: &str) -> Result<u64, DatasetError> {
    let frame = ctx.sql(sql).await?;
    Ok(frame.count().await? as u64)
}
