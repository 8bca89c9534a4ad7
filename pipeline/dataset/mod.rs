//! The dataset on disk: Parquet files partitioned by month, written so that a reader never sees
//! a partial file and a request never appears twice (see [`layout`] for the directory layout).
//!
//! Rows enter through [`stage::Stager`] and become visible through [`commit`]; [`register_tables`]
//! gives DataFusion the `invocations` and `rejects` tables.

pub mod batch;
pub mod commit;
pub mod layout;
pub mod ledger;
pub mod lock;
pub mod remote;
pub mod schema;
pub mod stage;
pub mod write;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use datafusion::catalog::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::DataFusionError;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::errors::ParquetError;

pub use layout::Layout;
use schema::{INVOCATION_FILE_SCHEMA, INVOCATIONS, MONTH, REJECT_SCHEMA, REJECTS};

/// Memory DataFusion may use before it spills sorts to disk.
const QUERY_MEMORY_BYTES: usize = 512 << 20;

/// Errors reading or writing the dataset.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("arrow: {0}")]
    Arrow(#[from] ArrowError),
    #[error("parquet: {0}")]
    Parquet(#[from] ParquetError),
    #[error("query engine: {0}")]
    Query(#[from] Box<DataFusionError>),
}

impl DatasetError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: io::Error) -> Self {
        DatasetError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

impl From<DataFusionError> for DatasetError {
    fn from(error: DataFusionError) -> Self {
        DatasetError::Query(Box::new(error))
    }
}

/// Where a dataset is read from: a directory, or a prefix of an object store (S3), read in place.
#[derive(Clone, Debug)]
pub enum DatasetRoot {
    Local(Layout),
    Store {
        /// `s3://bucket/prefix/`, ending with `/`.
        url: String,
        store: Arc<dyn ObjectStore>,
    },
}

impl DatasetRoot {
    /// The URL of a file or directory inside the dataset.
    fn url_of(&self, relative: &str) -> String {
        match self {
            DatasetRoot::Local(layout) => format!("{}/{relative}", layout.root().display()),
            DatasetRoot::Store { url, .. } => format!("{url}{relative}"),
        }
    }

    /// Whether the dataset holds a file at `relative`.
    async fn has_file(&self, relative: &str) -> Result<bool, DatasetError> {
        match self {
            DatasetRoot::Local(layout) => Ok(layout.root().join(relative).is_file()),
            DatasetRoot::Store { url, store } => {
                let key = url::Url::parse(url)
                    .map(|u| format!("{}{relative}", u.path().trim_start_matches('/')))
                    .unwrap_or_default();
                match store.head(&object_store::path::Path::from(key)).await {
                    Ok(_) => Ok(true),
                    Err(object_store::Error::NotFound { .. }) => Ok(false),
                    Err(e) => Err(DataFusionError::ObjectStore(Box::new(e)).into()),
                }
            }
        }
    }

    /// Lets DataFusion read the dataset's URLs.
    fn register_store(&self, ctx: &SessionContext) -> Result<(), DatasetError> {
        if let DatasetRoot::Store { url, store } = self {
            let mut bucket =
                url::Url::parse(url).map_err(|e| DataFusionError::External(Box::new(e)))?;
            bucket.set_path("");
            ctx.register_object_store(&bucket, Arc::clone(store));
        }
        Ok(())
    }
}

fn month_relative(month: &str) -> String {
    format!("{INVOCATIONS}/{MONTH}={month}/{}", layout::DATA_FILE)
}

/// The SHA-256 of the price book that priced `month`, from its file's footer (`None` when the
/// month has no file or was written without one).
pub async fn month_price_book(
    ctx: &SessionContext,
    root: &DatasetRoot,
    month: &str,
) -> Result<Option<String>, DatasetError> {
    let relative = month_relative(month);
    if !root.has_file(&relative).await? {
        return Ok(None);
    }
    root.register_store(ctx)?;
    let options = ParquetReadOptions::default().skip_metadata(false);
    let frame = ctx.read_parquet(root.url_of(&relative), options).await?;
    Ok(frame
        .schema()
        .inner()
        .metadata()
        .get(write::PRICE_BOOK_KEY)
        .cloned())
}

/// A DataFusion session sized for this machine, spilling to disk past [`QUERY_MEMORY_BYTES`].
pub fn session() -> Result<SessionContext, DatasetError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let config = SessionConfig::new()
        .with_target_partitions(cores)
        .with_information_schema(true);
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(FairSpillPool::new(QUERY_MEMORY_BYTES)))
        .build_arc()?;
    Ok(SessionContext::new_with_config_rt(config, runtime))
}

/// The schema of the `invocations` table: the file columns plus `month` from the path.
pub fn invocations_table_schema() -> SchemaRef {
    let mut fields: Vec<Field> = INVOCATION_FILE_SCHEMA
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new(MONTH, DataType::Utf8, false));
    Arc::new(Schema::new(fields))
}

/// Registers `invocations` (partitioned by `month`, so filters on it skip whole months) and
/// `rejects`, read where they are. A dataset without data yet has empty tables.
pub async fn register_tables(ctx: &SessionContext, root: &DatasetRoot) -> Result<(), DatasetError> {
    root.register_store(ctx)?;
    let partitioned = ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_table_partition_cols(vec![(MONTH.to_owned(), DataType::Utf8)]);
    register_listing(
        ctx,
        root,
        INVOCATIONS,
        partitioned,
        &INVOCATION_FILE_SCHEMA,
        invocations_table_schema(),
    )?;
    let plain =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    register_listing(
        ctx,
        root,
        REJECTS,
        plain,
        &REJECT_SCHEMA,
        Arc::clone(&REJECT_SCHEMA),
    )?;
    Ok(())
}

fn register_listing(
    ctx: &SessionContext,
    root: &DatasetRoot,
    name: &str,
    options: ListingOptions,
    file_schema: &SchemaRef,
    table_schema: SchemaRef,
) -> Result<(), DatasetError> {
    if let DatasetRoot::Local(layout) = root
        && !layout.root().join(name).is_dir()
    {
        ctx.register_table(
            name,
            Arc::new(MemTable::try_new(table_schema, vec![vec![]])?),
        )?;
        return Ok(());
    }
    let url = ListingTableUrl::parse(root.url_of(&format!("{name}/")))?;
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(Arc::clone(file_schema));
    ctx.register_table(name, Arc::new(ListingTable::try_new(config)?))?;
    Ok(())
}
