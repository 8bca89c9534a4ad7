//! Converting a dataset written by release 0.1 (plain Parquet under a lock) into Delta tables.
//!
//! Release 0.1 wrote:
//!
//! ```text
//! <root>/invocations/month=YYYY-MM/data.parquet   one file per month; its footer's key
//!                                                 `bedrock_ledger.price_book_sha256` names the book
//! <root>/rejects/data.parquet                      every reject
//! <root>/ledger/objects.parquet                    one entry per object, `ingested_at` in ms
//! ```
//!
//! The rows are copied as they are, costs included (nothing is repriced), into the Delta tables,
//! in place or under another root. Before any old file is deleted, the new tables are read back
//! and each month's request count and exact `cost_usd` sum, the rejects and the ledger entries
//! must equal the old files'. In place, the ledger file goes last: while it exists, writers
//! refuse the dataset ([`OLD_LEDGER`]), and a rerun of an interrupted migration starts over.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, UInt64Type};
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use deltalake::DeltaTable;
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;
use parquet::arrow::ArrowWriter;
use parquet::file::metadata::{FooterTail, ParquetMetaDataReader};

use super::batch::conform;
use super::read::register_snapshot;
use super::tables::invocations_table_schema;
use super::write::{Landing, land_file, staging_properties};
use super::{Dataset, DatasetError, Table, session};
use crate::dataset::ledger::LEDGER_SCHEMA;
use crate::rows::schema::{MONTH, PRICE_BOOK, REJECT_SCHEMA};

/// The release-0.1 ledger file, relative to the root. Its presence marks an unmigrated dataset.
pub const OLD_LEDGER: &str = "ledger/objects.parquet";
/// The release-0.1 rejects file, relative to the root.
const OLD_REJECTS: &str = "rejects/data.parquet";
/// The footer key release 0.1 recorded a month's price book under.
const OLD_PRICE_BOOK_KEY: &str = "bedrock_ledger.price_book_sha256";

/// A month's totals, compared before and after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthTotals {
    pub requests: u64,
    /// The exact sum of `cost_usd` (empty when no row is priced).
    pub cost_usd: String,
}

/// What a migration converted and checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Migration {
    pub months: BTreeMap<String, MonthTotals>,
    pub rejects: u64,
    pub ledger_entries: u64,
    /// Old files deleted (in place only).
    pub old_files_deleted: u64,
}

/// The files of a release-0.1 dataset.
#[derive(Clone, Debug, Default)]
struct OldFiles {
    /// `invocations/month=M/data.parquet`, by month.
    months: BTreeMap<String, String>,
    rejects: bool,
}

/// Whether `dataset` holds a release-0.1 dataset (its ledger file).
pub async fn is_old_layout(dataset: &Dataset) -> Result<bool, DatasetError> {
    match dataset.store().head(&dataset.path_of(OLD_LEDGER)).await {
        Ok(_) => Ok(true),
        Err(object_store::Error::NotFound { .. }) => Ok(false),
        Err(source) => Err(DatasetError::Store {
            location: dataset.url_of(OLD_LEDGER).to_string(),
            source,
        }),
    }
}

/// Converts the release-0.1 dataset at `from` into Delta tables at `to` (which may be `from`).
/// `work_dir` holds the rows on their way.
pub async fn migrate(
    from: &Dataset,
    to: &Dataset,
    work_dir: &Path,
) -> Result<Migration, DatasetError> {
    if !is_old_layout(from).await? {
        return Err(DatasetError::Invalid(format!(
            "{} holds no dataset of release 0.1 (no {OLD_LEDGER})",
            from.root()
        )));
    }
    let in_place = from.root() == to.root();
    let files = files_under_root(from).await?;
    let old = OldFiles::among(&files);
    if in_place {
        // A migration interrupted before its end left tables that nobody could write since
        // (writers refuse the dataset while the old ledger exists): start over.
        remove_new_files(from, &files, &old).await?;
    } else if to_holds_anything(to).await? {
        return Err(DatasetError::Invalid(format!(
            "{} is not empty: migrate into a new location",
            to.root()
        )));
    }
    let ctx = session()?;
    ctx.register_object_store(from.root(), Arc::clone(from.store()));

    let mut before = Migration::default();
    for (month, file) in &old.months {
        let url = from.url_of(file).to_string();
        let book = old_price_book(from, file).await?;
        ctx.register_parquet("old_month", &url, ParquetReadOptions::default())
            .await?;
        let old_totals = totals(&ctx, "old_month", "").await?;
        ctx.deregister_table("old_month")?;
        before.months.insert(month.clone(), old_totals);
        let extra = [(PRICE_BOOK, book.as_str()), (MONTH, month.as_str())];
        let schema = invocations_table_schema();
        let local = work_dir.join(format!("invocations-{month}.parquet"));
        copy_rows(&ctx, &url, &schema, &extra, &local).await?;
        append(to.open_or_create(Table::Invocations).await?, &ctx, &local).await?;
    }
    to.open_or_create(Table::Invocations).await?;
    if old.rejects {
        let url = from.url_of(OLD_REJECTS).to_string();
        before.rejects = count(&ctx, &url).await?;
        let local = work_dir.join("rejects.parquet");
        copy_rows(&ctx, &url, &REJECT_SCHEMA, &[], &local).await?;
        append(to.open_or_create(Table::Rejects).await?, &ctx, &local).await?;
    }
    to.open_or_create(Table::Rejects).await?;
    let url = from.url_of(OLD_LEDGER).to_string();
    before.ledger_entries = count(&ctx, &url).await?;
    let local = work_dir.join("ledger.parquet");
    copy_rows(&ctx, &url, &LEDGER_SCHEMA, &[], &local).await?;
    append(to.open_or_create(Table::Ledger).await?, &ctx, &local).await?;

    let after = read_back(to).await?;
    if after != before {
        return Err(DatasetError::Invalid(format!(
            "the migrated tables at {} do not hold what {} held; the old files are kept.\n\
             before: {before:?}\nafter:  {after:?}",
            to.root(),
            from.root()
        )));
    }
    let mut migration = after;
    if in_place {
        let mut old_files: Vec<&str> = old.months.values().map(String::as_str).collect();
        if old.rejects {
            old_files.push(OLD_REJECTS);
        }
        old_files.push(OLD_LEDGER);
        for file in old_files {
            delete(from, file).await?;
            migration.old_files_deleted += 1;
        }
    }
    Ok(migration)
}

/// Every file under the dataset's root, as paths relative to it.
async fn files_under_root(dataset: &Dataset) -> Result<Vec<String>, DatasetError> {
    let root = dataset.path_of("");
    let objects: Vec<object_store::ObjectMeta> = dataset
        .store()
        .list(Some(&root))
        .try_collect()
        .await
        .map_err(|source| DatasetError::Store {
            location: dataset.root().to_string(),
            source,
        })?;
    Ok(objects
        .iter()
        .map(|object| {
            let path = object.location.as_ref();
            path.strip_prefix(root.as_ref())
                .unwrap_or(path)
                .trim_start_matches('/')
                .to_owned()
        })
        .collect())
}

impl OldFiles {
    /// Release 0.1's files among `files` (relative to the root).
    fn among(files: &[String]) -> OldFiles {
        let mut old = OldFiles::default();
        for file in files {
            if file == OLD_REJECTS {
                old.rejects = true;
            } else if let Some(month) = file
                .strip_prefix("invocations/month=")
                .and_then(|rest| rest.strip_suffix("/data.parquet"))
            {
                old.months.insert(month.to_owned(), file.clone());
            }
        }
        old
    }

    /// Whether `file` (relative to the root) is one of them.
    fn holds(&self, file: &str) -> bool {
        file == OLD_LEDGER
            || (self.rejects && file == OLD_REJECTS)
            || self.months.values().any(|month| month == file)
    }
}

/// Deletes what an interrupted migration wrote: every file in the tables' directories but
/// release 0.1's.
async fn remove_new_files(
    dataset: &Dataset,
    files: &[String],
    old: &OldFiles,
) -> Result<(), DatasetError> {
    let tables = [Table::Invocations, Table::Rejects, Table::Ledger];
    for file in files {
        let in_a_table = tables
            .iter()
            .any(|table| file.starts_with(&format!("{}/", table.name())));
        if in_a_table && !old.holds(file) {
            delete(dataset, file).await?;
        }
    }
    Ok(())
}

async fn to_holds_anything(dataset: &Dataset) -> Result<bool, DatasetError> {
    let root = dataset.path_of("");
    let first = dataset.store().list(Some(&root)).next().await;
    match first {
        None => Ok(false),
        Some(Ok(_)) => Ok(true),
        Some(Err(source)) => Err(DatasetError::Store {
            location: dataset.root().to_string(),
            source,
        }),
    }
}

async fn delete(dataset: &Dataset, relative: &str) -> Result<(), DatasetError> {
    dataset
        .store()
        .delete(&dataset.path_of(relative))
        .await
        .map_err(|source| DatasetError::Store {
            location: dataset.url_of(relative).to_string(),
            source,
        })
}

/// The price book release 0.1 recorded in a month file's footer. Reads the footer only: its
/// last 8 bytes give the length of the metadata before them.
async fn old_price_book(dataset: &Dataset, file: &str) -> Result<String, DatasetError> {
    let path = dataset.path_of(file);
    let store_error = |source| DatasetError::Store {
        location: dataset.url_of(file).to_string(),
        source,
    };
    let size = dataset.store().head(&path).await.map_err(store_error)?.size;
    let tail_start = size.checked_sub(8).ok_or_else(|| {
        DatasetError::Invalid(format!("{}: not a Parquet file", dataset.url_of(file)))
    })?;
    let tail = dataset
        .store()
        .get_range(&path, tail_start..size)
        .await
        .map_err(store_error)?;
    let tail: &[u8; 8] = tail
        .as_ref()
        .try_into()
        .map_err(|_| DatasetError::Invalid(format!("{}: a short read", dataset.url_of(file))))?;
    let length = FooterTail::try_new(tail)?.metadata_length() as u64;
    let start = tail_start.checked_sub(length).ok_or_else(|| {
        DatasetError::Invalid(format!("{}: not a Parquet file", dataset.url_of(file)))
    })?;
    let footer = dataset
        .store()
        .get_range(&path, start..tail_start)
        .await
        .map_err(store_error)?;
    ParquetMetaDataReader::decode_metadata(&footer)?
        .file_metadata()
        .key_value_metadata()
        .into_iter()
        .flatten()
        .find(|kv| kv.key == OLD_PRICE_BOOK_KEY)
        .and_then(|kv| kv.value.clone())
        .ok_or_else(|| {
            DatasetError::Invalid(format!(
                "{}: no {OLD_PRICE_BOOK_KEY} in its footer, so the book that priced it is \
                 unknown",
                dataset.url_of(file)
            ))
        })
}

async fn count(ctx: &SessionContext, url: &str) -> Result<u64, DatasetError> {
    let rows = ctx.read_parquet(url, ParquetReadOptions::default()).await?;
    Ok(rows.count().await? as u64)
}

/// Request count and exact `cost_usd` sum of `table`'s rows that pass `filter`.
async fn totals(
    ctx: &SessionContext,
    table: &str,
    filter: &str,
) -> Result<MonthTotals, DatasetError> {
    let sql = format!("SELECT count(*), CAST(sum(cost_usd) AS VARCHAR) FROM {table} {filter}");
    let batches = ctx.sql(&sql).await?.collect().await?;
    let batch = batches
        .first()
        .ok_or_else(|| DatasetError::Invalid(format!("no totals from {sql}")))?;
    let requests = arrow::compute::cast(batch.column(0), &DataType::UInt64)?;
    let cost = arrow::compute::cast(batch.column(1), &DataType::Utf8)?;
    let cost_usd = if cost.is_null(0) {
        String::new()
    } else {
        cost.as_string::<i32>().value(0).to_owned()
    };
    Ok(MonthTotals {
        requests: requests.as_primitive::<UInt64Type>().value(0),
        cost_usd,
    })
}

/// Streams the rows of `url` with `extra` constant columns into a local file in `schema`.
async fn copy_rows(
    ctx: &SessionContext,
    url: &str,
    schema: &SchemaRef,
    extra: &[(&str, &str)],
    local: &Path,
) -> Result<(), DatasetError> {
    let file = std::fs::File::create(local).map_err(|e| DatasetError::io(local, e))?;
    let mut writer = ArrowWriter::try_new(file, Arc::clone(schema), Some(staging_properties()))?;
    let mut stream = ctx
        .read_parquet(url, ParquetReadOptions::default())
        .await?
        .execute_stream()
        .await?;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let rows = batch.num_rows();
        let mut fields: Vec<Field> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        for (name, value) in extra {
            fields.push(Field::new(*name, DataType::Utf8, false));
            columns.push(Arc::new(StringArray::from_iter_values(
                std::iter::repeat_n(*value, rows),
            )));
        }
        let widened = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
        writer.write(&conform(&widened, schema)?)?;
    }
    writer.close()?;
    Ok(())
}

/// Appends the rows of the local file to `table` in one commit, then removes the file.
async fn append(
    table: DeltaTable,
    ctx: &SessionContext,
    local: &Path,
) -> Result<DeltaTable, DatasetError> {
    let table = land_file(table, ctx, local, Landing::Append).await?;
    std::fs::remove_file(local).map_err(|e| DatasetError::io(local, e))?;
    Ok(table)
}

/// The migrated tables' totals, read back through the Delta log.
async fn read_back(dataset: &Dataset) -> Result<Migration, DatasetError> {
    let ctx = session()?;
    let invocations = dataset.open(Table::Invocations, None).await?;
    register_snapshot(&ctx, &invocations, "migrated").await?;
    let months = super::invocations::stored_months(dataset).await?;
    let mut migration = Migration::default();
    for month in months {
        let filter = format!("WHERE {MONTH} = '{month}'");
        let month_totals = totals(&ctx, "migrated", &filter).await?;
        migration.months.insert(month, month_totals);
    }
    let rejects = dataset.open(Table::Rejects, None).await?;
    register_snapshot(&ctx, &rejects, "migrated_rejects").await?;
    migration.rejects = ctx.table("migrated_rejects").await?.count().await? as u64;
    let ledger = dataset.open(Table::Ledger, None).await?;
    register_snapshot(&ctx, &ledger, "migrated_ledger").await?;
    migration.ledger_entries = ctx.table("migrated_ledger").await?.count().await? as u64;
    Ok(migration)
}
