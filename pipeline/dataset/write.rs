//! How the dataset's Parquet files are written (zstd, row groups, statistics), and local files
//! that readers only ever see complete: written beside the target, flushed, then renamed over it.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use arrow::array::RecordBatch;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use deltalake::DeltaTable;
use deltalake::protocol::SaveMode;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use super::DatasetError;

/// Rows per row group in dataset files: small enough for pruning, large enough to compress well.
const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Columns of `invocations` that nearly never repeat: a dictionary would only cost time.
const UNIQUE_COLUMNS: [&str; 5] = [
    "request_id",
    "timestamp",
    "source_line",
    "latency_ms",
    "first_byte_latency_ms",
];

/// Properties of the files readers see: zstd, statistics on, dictionaries for the columns that
/// repeat. zstd level 1 rather than 3: on generated logs its files are about 3% larger and it
/// encodes about a fifth faster, and encoding is most of a commit.
pub fn dataset_properties() -> WriterProperties {
    UNIQUE_COLUMNS
        .iter()
        .fold(WriterProperties::builder(), |builder, column| {
            builder.set_column_dictionary_enabled(ColumnPath::from(*column), false)
        })
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(1).expect("1 is a valid zstd level"),
        ))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build()
}

/// Rows per row group in staging files: a file being written holds one row group in memory
/// (about 1 MiB of log rows), and a run may stage 32 days at once.
const STAGING_ROW_GROUP_ROWS: usize = 2 * 1024;

/// Properties of local files that live for one run and are read whole: fast to write (no
/// compression, dictionaries or statistics), small row groups.
pub fn staging_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::UNCOMPRESSED)
        .set_dictionary_enabled(false)
        .set_statistics_enabled(EnabledStatistics::None)
        .set_max_row_group_row_count(Some(STAGING_ROW_GROUP_ROWS))
        .build()
}

/// A file being written in `tmp_dir`; [`AtomicFile::commit`] moves it to its target.
/// Dropped without a commit, the temporary file is removed.
#[derive(Debug)]
pub struct AtomicFile {
    tmp_path: PathBuf,
    target: PathBuf,
    committed: bool,
}

static NEXT_TMP: AtomicU64 = AtomicU64::new(0);

impl AtomicFile {
    /// Creates the temporary file for `target`.
    pub fn create(tmp_dir: &Path, target: &Path) -> Result<(AtomicFile, File), DatasetError> {
        fs::create_dir_all(tmp_dir).map_err(|e| DatasetError::io(tmp_dir, e))?;
        let name = format!(
            "{}-{}.tmp",
            std::process::id(),
            NEXT_TMP.fetch_add(1, Ordering::Relaxed)
        );
        let tmp_path = tmp_dir.join(name);
        let file = File::create(&tmp_path).map_err(|e| DatasetError::io(&tmp_path, e))?;
        let atomic = AtomicFile {
            tmp_path,
            target: target.to_owned(),
            committed: false,
        };
        Ok((atomic, file))
    }

    /// Flushes `file` (the one [`AtomicFile::create`] returned) and renames it over the target.
    pub fn commit(mut self, file: File) -> Result<(), DatasetError> {
        file.sync_all()
            .map_err(|e| DatasetError::io(&self.tmp_path, e))?;
        drop(file);
        let parent = self
            .target
            .parent()
            .expect("dataset files live in a directory");
        fs::create_dir_all(parent).map_err(|e| DatasetError::io(parent, e))?;
        fs::rename(&self.tmp_path, &self.target).map_err(|e| DatasetError::io(&self.target, e))?;
        self.committed = true;
        sync_dir(parent).map_err(|e| DatasetError::io(parent, e))
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.tmp_path);
        }
    }
}

/// Makes a rename in `dir` durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// How the rows of a local file enter a table.
#[derive(Clone, Debug)]
pub enum Landing {
    /// Added to what the table holds.
    Append,
    /// Replacing the rows that match the predicate (which the new rows must match too).
    ReplaceWhere(String),
}

/// Writes the rows of the local Parquet file `local` into `table` in one commit, streaming.
pub async fn land_file(
    table: DeltaTable,
    ctx: &SessionContext,
    local: &Path,
    landing: Landing,
) -> Result<DeltaTable, DatasetError> {
    let location = table.table_url().to_string();
    let plan = ctx
        .read_parquet(local.display().to_string(), ParquetReadOptions::default())
        .await?
        .logical_plan()
        .clone();
    let write = table
        .write(Vec::<RecordBatch>::new())
        .with_input_plan(plan)
        .with_writer_properties(dataset_properties());
    let write = match landing {
        Landing::Append => write.with_save_mode(SaveMode::Append),
        Landing::ReplaceWhere(predicate) => write
            .with_save_mode(SaveMode::Overwrite)
            .with_replace_where(predicate),
    };
    write.await.map_err(|e| DatasetError::delta(&location, e))
}
