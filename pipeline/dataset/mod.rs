//! The dataset: four Delta Lake tables under one root, a local directory or an S3 prefix,
//! reached through one [`ObjectStore`] whatever the root is.
//!
//! ```text
//! <root>/invocations/   normalized, priced requests, partitioned by `month` (UTC `YYYY-MM`)
//! <root>/rejects/       every line or object that could not be decoded, with where and why
//! <root>/ledger/        every object ingested, with its version (what makes ingest incremental)
//! <root>/daily_usage/   the requests summed per day and report key (see [`rollup`])
//! <root>/reports/       chargeback CSVs and manifests written by `run`
//! ```
//!
//! Every change is a Delta commit: an optimistic transaction that becomes visible whole or not
//! at all, and that Delta refuses when a concurrent commit changed what it read (see
//! [`retry`]). Readers read through the Delta log, at the newest version or an older one, and a
//! missing table is an error that names its location, never an empty result.

pub mod batch;
mod copies;
pub mod invocations;
pub mod ledger;
pub mod maintain;
pub mod migrate;
pub mod read;
pub mod rejects;
pub mod retry;
pub mod rollup;
pub mod stage;
pub mod tables;
#[cfg(test)]
mod test_rows;
pub mod write;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::error::ArrowError;
use datafusion::error::DataFusionError;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use deltalake::DeltaTableError;
use object_store::local::LocalFileSystem;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::errors::ParquetError;
use url::Url;

pub use tables::Table;

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
    #[error("{location}: {source}")]
    Delta {
        location: String,
        source: Box<DeltaTableError>,
    },
    #[error("{location}: {source}")]
    Store {
        location: String,
        source: object_store::Error,
    },
    /// The location holds no Delta table: a wrong bucket, prefix or directory, or nothing
    /// ingested yet.
    #[error("no {table} table at {location} (nothing ingested there yet, or a wrong --data?)")]
    NoTable {
        table: &'static str,
        location: String,
    },
    /// The location holds a dataset of release 0.1 (plain Parquet), which this release only
    /// migrates.
    #[error(
        "{root} holds a dataset written by bedrock-ledger 0.1 (plain Parquet); convert it with `bedrock-ledger migrate --data {root}` first"
    )]
    OldLayout { root: String },
    /// Other writers kept committing to what this run had to change.
    #[error(
        "{location}: gave up after {attempts} attempts to commit while other writers changed the same data; retry later"
    )]
    Busy { location: String, attempts: u32 },
    #[error("{0}")]
    Invalid(String),
}

impl DatasetError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: io::Error) -> Self {
        DatasetError::Io {
            path: path.to_owned(),
            source,
        }
    }

    /// A Delta error on the table at `location`.
    pub fn delta(location: impl ToString, source: DeltaTableError) -> Self {
        DatasetError::Delta {
            location: location.to_string(),
            source: Box::new(source),
        }
    }
}

impl From<DataFusionError> for DatasetError {
    fn from(error: DataFusionError) -> Self {
        DatasetError::Query(Box::new(error))
    }
}

/// Where a dataset lives: its root URL and the object store that reaches it.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// `file:///abs/dir/` or `s3://bucket/prefix/`, always ending with `/`.
    root: Url,
    /// Rooted at `/` of the filesystem, or at the bucket.
    store: Arc<dyn ObjectStore>,
}

impl Dataset {
    /// The dataset in the local directory `dir` (which need not exist yet).
    pub fn local(dir: &Path) -> Result<Dataset, DatasetError> {
        let absolute = std::path::absolute(dir).map_err(|e| DatasetError::io(dir, e))?;
        let root = Url::from_directory_path(&absolute).map_err(|()| {
            DatasetError::Invalid(format!("{} is not a usable directory", dir.display()))
        })?;
        Ok(Dataset {
            root,
            store: Arc::new(LocalFileSystem::new()),
        })
    }

    /// The dataset at `root` (`s3://bucket/prefix/`) in `store`, which is rooted at the bucket.
    pub fn in_store(root: &str, store: Arc<dyn ObjectStore>) -> Result<Dataset, DatasetError> {
        let with_slash = format!("{}/", root.trim_end_matches('/'));
        let root = Url::parse(&with_slash)
            .map_err(|e| DatasetError::Invalid(format!("{root}: not a URL: {e}")))?;
        Ok(Dataset { root, store })
    }

    /// The root URL, ending with `/`.
    pub fn root(&self) -> &Url {
        &self.root
    }

    /// The object store the dataset is in.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The URL of `relative` under the root.
    pub fn url_of(&self, relative: &str) -> Url {
        self.root
            .join(relative)
            .expect("a relative path joins onto a directory URL")
    }

    /// The object-store path of `relative` under the root.
    pub fn path_of(&self, relative: &str) -> object_store::path::Path {
        let url = self.url_of(relative);
        object_store::path::Path::from_url_path(url.path())
            .expect("a URL path is a valid object store path")
    }

    /// Writes `bytes` to `relative` under the root in one put (atomic on S3 and on disk).
    pub async fn put(&self, relative: &str, bytes: Vec<u8>) -> Result<(), DatasetError> {
        self.store
            .put(&self.path_of(relative), bytes.into())
            .await
            .map_err(|source| DatasetError::Store {
                location: self.url_of(relative).to_string(),
                source,
            })?;
        Ok(())
    }
}

/// A DataFusion session sized for this machine, spilling to disk past [`QUERY_MEMORY_BYTES`].
pub fn session() -> Result<SessionContext, DatasetError> {
    session_within(QUERY_MEMORY_BYTES)
}

/// A DataFusion session sized for this machine, spilling to disk past `memory_bytes`.
pub fn session_within(memory_bytes: usize) -> Result<SessionContext, DatasetError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let config = SessionConfig::new()
        .with_target_partitions(cores)
        .with_information_schema(true);
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(FairSpillPool::new(memory_bytes)))
        .build_arc()?;
    Ok(SessionContext::new_with_config_rt(config, runtime))
}
