//! Upkeep of the tables: compaction of small files, vacuum of files no version inside the
//! retention window reads, and a checkpoint of the result.
//!
//! Compaction is delta-rs's bin-packing `OPTIMIZE`: files smaller than the target size are
//! rewritten together, partition by partition, in commit order. Nightly commits arrive in time
//! order, so a compacted file still spans consecutive days and a day's merge keeps skipping the
//! rest ([`super::invocations`]). It changes no row (`dataChange: false`), and the files it
//! replaces stay readable by older versions until vacuumed.
//!
//! Vacuum deletes the files that left the table more than the retention ago, and files no
//! commit ever referenced (a writer killed before its commit) once they are that old. A version
//! committed inside the window only references files removed after it, so `--as-of` keeps
//! working for every version inside the window. The Delta log itself is cleaned up by delta-rs
//! when it writes a checkpoint, after `delta.logRetentionDuration` (30 days by default); a
//! retention longer than that raises the table's log retention to match first.

use std::sync::Arc;

use deltalake::DeltaTable;
use deltalake::operations::optimize::OptimizeType;
use deltalake::operations::vacuum::{Clock, VacuumMode};
use deltalake::table::config::TablePropertiesExt;

use super::retry::{RetryPolicy, retry_conflicts};
use super::write::dataset_properties;
use super::{Dataset, DatasetError, Table};

/// What maintenance does.
#[derive(Clone, Debug)]
pub struct MaintainOptions {
    /// Files removed from a table longer ago than this are deleted.
    pub retention: chrono::Duration,
    /// Only say which files vacuum would delete: no compaction, no deletion.
    pub dry_run: bool,
    pub retry: RetryPolicy,
    /// The clock vacuum measures file ages with (the system clock when `None`).
    pub clock: Option<Arc<dyn Clock>>,
}

/// What maintenance did to one table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableUpkeep {
    /// Small files rewritten, and the files they became.
    pub files_compacted: u64,
    pub files_written: u64,
    /// Files deleted by vacuum (or that it would delete, in a dry run).
    pub files_vacuumed: Vec<String>,
    /// Log retention raised to the vacuum retention, in days.
    pub log_retention_raised_to_days: Option<i64>,
    /// The table's version afterwards.
    pub version: u64,
    /// The version a checkpoint was written for (the last one), so that readers replay one
    /// Parquet file instead of every commit.
    pub checkpoint: Option<u64>,
}

/// Compacts and vacuums `table`.
pub async fn maintain_table(
    dataset: &Dataset,
    table: Table,
    options: &MaintainOptions,
) -> Result<TableUpkeep, DatasetError> {
    let location = dataset.table_location(table);
    refuse_short_retention(&dataset.open(table, None).await?, options.retention)?;
    let mut upkeep = TableUpkeep::default();
    if !options.dry_run {
        upkeep.log_retention_raised_to_days = retry_conflicts(&location, options.retry, || async {
            keep_log_for(dataset.open(table, None).await?, options.retention).await
        })
        .await?;
        let metrics = retry_conflicts(&location, options.retry, || async {
            let opened = dataset.open(table, None).await?;
            let (_, metrics) = opened
                .optimize()
                .with_type(OptimizeType::Compact)
                .with_writer_properties(dataset_properties())
                .await
                .map_err(|e| DatasetError::delta(&location, e))?;
            Ok(metrics)
        })
        .await?;
        upkeep.files_compacted = metrics.num_files_removed;
        upkeep.files_written = metrics.num_files_added;
    }
    let opened = dataset.open(table, None).await?;
    let mut vacuum = opened
        .vacuum()
        .with_retention_period(options.retention)
        .with_mode(VacuumMode::Full)
        .with_dry_run(options.dry_run);
    if let Some(clock) = &options.clock {
        vacuum = vacuum.with_clock(Arc::clone(clock));
    }
    let (vacuumed, metrics) = vacuum
        .await
        .map_err(|e| DatasetError::delta(&location, e))?;
    upkeep.files_vacuumed = metrics.files_deleted;
    upkeep.version = vacuumed.version().unwrap_or(0);
    if !options.dry_run {
        deltalake::checkpoints::create_checkpoint(&vacuumed, None)
            .await
            .map_err(|e| DatasetError::delta(&location, e))?;
        upkeep.checkpoint = Some(upkeep.version);
    }
    Ok(upkeep)
}

/// Refuses a retention shorter than the table's `delta.deletedFileRetentionDuration`, the
/// shortest time Delta readers and writers may rely on a removed file being kept.
fn refuse_short_retention(
    table: &DeltaTable,
    retention: chrono::Duration,
) -> Result<(), DatasetError> {
    let location = table.table_url().to_string();
    let minimum = table
        .snapshot()
        .map_err(|e| DatasetError::delta(&location, e))?
        .table_config()
        .deleted_file_retention_duration();
    if retention.to_std().is_ok_and(|wanted| wanted >= minimum) {
        return Ok(());
    }
    Err(DatasetError::Invalid(format!(
        "a retention of {} hours is shorter than {location}'s delta.deletedFileRetentionDuration \
         ({} hours): a reader or writer of a recent version could lose files it reads",
        retention.num_hours(),
        minimum.as_secs() / 3600
    )))
}

/// Raises the table's log retention to `retention` when it is shorter, so that the log of every
/// version inside the vacuum window is kept. Returns the new retention in days, if raised.
async fn keep_log_for(
    table: DeltaTable,
    retention: chrono::Duration,
) -> Result<Option<i64>, DatasetError> {
    let location = table.table_url().to_string();
    let current = table
        .snapshot()
        .map_err(|e| DatasetError::delta(&location, e))?
        .table_config()
        .log_retention_duration();
    let wanted = retention
        .to_std()
        .map_err(|_| DatasetError::Invalid(format!("a negative retention: {retention}")))?;
    if current >= wanted {
        return Ok(None);
    }
    let days = (retention.num_seconds() + 86_399) / 86_400;
    table
        .set_tbl_properties()
        .with_properties(
            [(
                "delta.logRetentionDuration".to_owned(),
                format!("interval {days} days"),
            )]
            .into(),
        )
        .await
        .map_err(|e| DatasetError::delta(&location, e))?;
    Ok(Some(days))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::ledger::{self, Ledger, LedgerEntry};

    #[derive(Debug)]
    struct FixedClock(i64);

    impl Clock for FixedClock {
        fn current_timestamp_millis(&self) -> i64 {
            self.0
        }
    }

    fn entry(uri: &str) -> LedgerEntry {
        LedgerEntry {
            uri: uri.to_owned(),
            size_bytes: 10,
            version: "1".to_owned(),
            kind: "log:s3_native".to_owned(),
            records: 1,
            rejects: 0,
            months: vec!["2026-10".to_owned()],
            ingested_at_ms: 1_790_000_000_000,
        }
    }

    async fn uris_at(dataset: &Dataset, version: Option<u64>, uris: &[&str]) -> Vec<String> {
        let table = dataset.open(Table::Ledger, version).await.unwrap();
        let ledger = Ledger::load(&table, uris).await.unwrap();
        uris.iter()
            .filter(|uri| ledger.get(uri).is_some())
            .map(|uri| (*uri).to_owned())
            .collect()
    }

    fn options(dry_run: bool, clock: Option<i64>) -> MaintainOptions {
        MaintainOptions {
            retention: chrono::Duration::days(30),
            dry_run,
            retry: RetryPolicy::default(),
            clock: clock.map(|ms| Arc::new(FixedClock(ms)) as Arc<dyn Clock>),
        }
    }

    #[tokio::test]
    async fn compaction_keeps_every_version_readable_until_the_retention_has_passed() {
        let dir = tempfile::tempdir().unwrap();
        let dataset = Dataset::local(dir.path()).unwrap();
        dataset.open_or_create(Table::Ledger).await.unwrap();
        let uris = ["s3://b/1", "s3://b/2", "s3://b/3", "s3://b/4"];
        for uri in uris {
            let table = dataset.open(Table::Ledger, None).await.unwrap();
            ledger::append(table, &[entry(uri)]).await.unwrap();
        }
        let data_files = || {
            std::fs::read_dir(dir.path().join("ledger"))
                .unwrap()
                .filter(|e| e.as_ref().unwrap().path().extension() == Some("parquet".as_ref()))
                .count()
        };
        assert_eq!(data_files(), 4);

        let compacted = maintain_table(&dataset, Table::Ledger, &options(false, None))
            .await
            .unwrap();
        assert_eq!((compacted.files_compacted, compacted.files_written), (4, 1));
        assert!(compacted.files_vacuumed.is_empty(), "{compacted:?}");
        assert_eq!(
            compacted.log_retention_raised_to_days, None,
            "30 days is the default"
        );
        assert_eq!(uris_at(&dataset, None, &uris).await, uris);
        assert_eq!(uris_at(&dataset, Some(2), &uris).await, uris[..2]);

        // 29 days on, the replaced files are still inside the window; 31 days on, they go.
        let day_ms = 86_400_000;
        let now = chrono::Utc::now().timestamp_millis();
        let early = maintain_table(
            &dataset,
            Table::Ledger,
            &options(true, Some(now + 29 * day_ms)),
        )
        .await
        .unwrap();
        assert!(early.files_vacuumed.is_empty(), "{early:?}");
        let late = maintain_table(
            &dataset,
            Table::Ledger,
            &options(false, Some(now + 31 * day_ms)),
        )
        .await
        .unwrap();
        assert_eq!(late.files_vacuumed.len(), 4, "{late:?}");
        assert_eq!(data_files(), 1);
        assert_eq!(uris_at(&dataset, None, &uris).await, uris);
    }

    #[tokio::test]
    async fn a_retention_longer_than_the_log_retention_raises_it() {
        let dir = tempfile::tempdir().unwrap();
        let dataset = Dataset::local(dir.path()).unwrap();
        dataset.open_or_create(Table::Rejects).await.unwrap();
        let mut long = options(false, None);
        long.retention = chrono::Duration::days(400);
        let upkeep = maintain_table(&dataset, Table::Rejects, &long)
            .await
            .unwrap();
        assert_eq!(upkeep.log_retention_raised_to_days, Some(400));
        let again = maintain_table(&dataset, Table::Rejects, &long)
            .await
            .unwrap();
        assert_eq!(again.log_retention_raised_to_days, None);
    }
}
