//! Where things live under the dataset root.
//!
//! ```text
//! <root>/invocations/month=YYYY-MM/data.parquet   one file per month, replaced atomically
//! <root>/rejects/data.parquet                      every undecodable line or object
//! <root>/ledger/objects.parquet                    every object ingested, with its version
//! <root>/reports/                                  chargeback CSVs and manifests written by `run`
//! <root>/_lock                                     held (flock) by the run writing the dataset
//! <root>/_staging/                                 rows decoded by a run, before they are merged
//! <root>/_tmp/                                     files being written, renamed into place when complete
//! ```
//! Names starting with `_` are private: Hive, Athena and DataFusion readers ignore them.

use std::io;
use std::path::{Path, PathBuf};

use super::schema::{INVOCATIONS, MONTH, REJECTS};

/// The name of the one file of a month (and of the rejects).
pub const DATA_FILE: &str = "data.parquet";

/// Paths of one dataset.
#[derive(Clone, Debug)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// The layout of the dataset rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Layout { root: root.into() }
    }

    /// The dataset root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `invocations/`.
    pub fn invocations_dir(&self) -> PathBuf {
        self.root.join(INVOCATIONS)
    }

    /// The file holding every invocation of `month` (`YYYY-MM`).
    pub fn month_file(&self, month: &str) -> PathBuf {
        self.invocations_dir()
            .join(format!("{MONTH}={month}"))
            .join(DATA_FILE)
    }

    /// `rejects/`.
    pub fn rejects_dir(&self) -> PathBuf {
        self.root.join(REJECTS)
    }

    /// The file holding every reject.
    pub fn rejects_file(&self) -> PathBuf {
        self.rejects_dir().join(DATA_FILE)
    }

    /// The ledger of ingested objects.
    pub fn ledger_file(&self) -> PathBuf {
        self.root.join("ledger").join("objects.parquet")
    }

    /// The lock file a writing run holds.
    pub fn lock_file(&self) -> PathBuf {
        self.root.join("_lock")
    }

    /// Where a run stages its decoded rows.
    pub fn staging_dir(&self) -> PathBuf {
        self.root.join("_staging")
    }

    /// Where files are written before they are renamed into place.
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("_tmp")
    }

    /// Months that have a data file, sorted.
    pub fn months(&self) -> io::Result<Vec<String>> {
        let dir = self.invocations_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let prefix = format!("{MONTH}=");
        let mut months = Vec::new();
        for entry in entries {
            let name = entry?.file_name();
            if let Some(month) = name.to_str().and_then(|n| n.strip_prefix(&prefix))
                && self.month_file(month).is_file()
            {
                months.push(month.to_owned());
            }
        }
        months.sort();
        Ok(months)
    }
}
