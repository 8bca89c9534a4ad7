//! The dataset's Delta tables: where each lives, its schema, and opening (or creating) it
//! through the dataset's object store.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel as _;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::kernel::{LogDataHandler, LogicalFileView, StructType};
use deltalake::protocol::SaveMode;
use deltalake::{DeltaTable, DeltaTableBuilder, DeltaTableError};
use futures::StreamExt;

use super::{Dataset, DatasetError, ledger};
use crate::rows::schema::{
    INVOCATION_FILE_SCHEMA, INVOCATIONS, MONTH, PRICE_BOOK, REJECT_SCHEMA, REJECTS,
};

/// One of the dataset's tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    Invocations,
    Rejects,
    Ledger,
    /// The rollups reports read ([`super::rollup`]).
    DailyUsage,
    LatencyHistogram,
}

impl Table {
    /// The table's name, which is also its directory under the dataset root.
    pub fn name(self) -> &'static str {
        match self {
            Table::Invocations => INVOCATIONS,
            Table::Rejects => REJECTS,
            Table::Ledger => "ledger",
            Table::DailyUsage => super::rollup::DAILY_USAGE,
            Table::LatencyHistogram => super::rollup::LATENCY_HISTOGRAM,
        }
    }

    /// The Arrow schema rows are written with (partition columns included).
    pub fn schema(self) -> SchemaRef {
        match self {
            Table::Invocations => invocations_table_schema(),
            Table::Rejects => Arc::clone(&REJECT_SCHEMA),
            Table::Ledger => Arc::clone(&ledger::LEDGER_SCHEMA),
            Table::DailyUsage => super::rollup::Rollup::DailyUsage.schema(),
            Table::LatencyHistogram => super::rollup::Rollup::LatencyHistogram.schema(),
        }
    }

    /// Partition columns.
    pub fn partition_columns(self) -> &'static [&'static str] {
        match self {
            Table::Invocations | Table::DailyUsage | Table::LatencyHistogram => &[MONTH],
            Table::Rejects | Table::Ledger => &[],
        }
    }
}

/// The data files the snapshot of `table` holds, as its log records them.
pub(crate) fn data_files(table: &DeltaTable) -> Result<LogDataHandler<'_>, DatasetError> {
    Ok(table
        .snapshot()
        .map_err(|e| DatasetError::delta(table.table_url(), e))?
        .log_data())
}

/// How many data files the snapshot of `table` holds.
pub(crate) fn data_file_count(table: &DeltaTable) -> Result<usize, DatasetError> {
    Ok(data_files(table)?.num_files())
}

/// The `month` partition of a data file of a table partitioned by month, as its log records it.
pub(crate) fn file_month(file: &LogicalFileView) -> Option<String> {
    file.partition_values_map().remove(MONTH).flatten()
}

/// The schema of the `invocations` table: the priced columns, the price book, the `month`.
/// Timestamps are in microseconds, Delta's unit.
pub fn invocations_table_schema() -> SchemaRef {
    let mut fields: Vec<Field> = INVOCATION_FILE_SCHEMA
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Timestamp(_, zone) => f
                .as_ref()
                .clone()
                .with_data_type(DataType::Timestamp(TimeUnit::Microsecond, zone.clone())),
            _ => f.as_ref().clone(),
        })
        .collect();
    fields.push(Field::new(PRICE_BOOK, DataType::Utf8, false));
    fields.push(Field::new(MONTH, DataType::Utf8, false));
    Arc::new(Schema::new(fields))
}

impl Dataset {
    fn builder(&self, table: Table) -> Result<DeltaTableBuilder, DatasetError> {
        let url = self.url_of(&format!("{}/", table.name()));
        let builder =
            DeltaTableBuilder::from_url(url.clone()).map_err(|e| DatasetError::delta(&url, e))?;
        Ok(builder.with_storage_backend(Arc::clone(self.store()), url))
    }

    /// The location of `table`, for messages.
    pub fn table_location(&self, table: Table) -> String {
        self.url_of(&format!("{}/", table.name())).to_string()
    }

    /// Opens `table` at its newest version, or at `version`. A location without a Delta log
    /// is [`DatasetError::NoTable`].
    pub async fn open(
        &self,
        table: Table,
        version: Option<u64>,
    ) -> Result<DeltaTable, DatasetError> {
        if !self.has_log(table).await? {
            if super::migrate::is_old_layout(self).await? {
                return Err(DatasetError::OldLayout {
                    root: self.root().to_string(),
                });
            }
            return Err(DatasetError::NoTable {
                table: table.name(),
                location: self.table_location(table),
            });
        }
        let mut builder = self.builder(table)?;
        if let Some(version) = version {
            builder = builder.with_version(version);
        }
        match builder.load().await {
            Ok(opened) => Ok(opened),
            Err(DeltaTableError::NotATable(_)) => Err(DatasetError::NoTable {
                table: table.name(),
                location: self.table_location(table),
            }),
            Err(error) => Err(DatasetError::delta(self.table_location(table), error)),
        }
    }

    /// Whether `table` has a Delta log. Asked of the store directly, so that a wrong bucket or
    /// a failing listing is an error, and a location without a table is told apart from both.
    async fn has_log(&self, table: Table) -> Result<bool, DatasetError> {
        let log = self.path_of(&format!("{}/_delta_log/", table.name()));
        match self.store().list(Some(&log)).next().await {
            None => Ok(false),
            Some(Ok(_)) => Ok(true),
            Some(Err(source)) => Err(DatasetError::Store {
                location: self.table_location(table),
                source,
            }),
        }
    }

    /// Opens `table`, creating it empty if the location has none yet. Two writers creating it at
    /// once both end up with the one table: the loser of the race opens the winner's.
    pub async fn open_or_create(&self, table: Table) -> Result<DeltaTable, DatasetError> {
        match self.open(table, None).await {
            // A release-0.1 dataset has no table either: `migrate` creates them beside its
            // files, and `ingest` refuses it before it gets here.
            Err(DatasetError::NoTable { .. } | DatasetError::OldLayout { .. }) => {}
            opened => return opened,
        }
        let location = self.table_location(table);
        let columns: StructType = table
            .schema()
            .as_ref()
            .try_into_kernel()
            .map_err(|e| DatasetError::delta(&location, e.into()))?;
        let unloaded = self
            .builder(table)?
            .build()
            .map_err(|e| DatasetError::delta(&location, e))?;
        let created = unloaded
            .create()
            .with_columns(columns.fields().cloned())
            .with_partition_columns(table.partition_columns().iter().copied())
            .with_save_mode(SaveMode::Ignore)
            // delta-rs would retry a lost race for version 0 as a second CREATE on top of the
            // winner's table; without retries the loser fails and opens the winner's instead.
            .with_commit_properties(CommitProperties::default().with_max_retries(0))
            .await;
        match created {
            Ok(created) => Ok(created),
            // Another writer may have created it first; if not, the creation error is the news.
            Err(error) => match self.open(table, None).await {
                Ok(opened) => Ok(opened),
                Err(_) => Err(DatasetError::delta(location, error)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn writers_racing_to_create_a_table_create_it_once() {
        let dir = tempfile::tempdir().unwrap();
        let dataset = Dataset::local(dir.path()).unwrap();
        let racers: Vec<_> = (0..8)
            .map(|_| {
                let dataset = dataset.clone();
                tokio::spawn(async move { dataset.open_or_create(Table::Rejects).await })
            })
            .collect();
        for racer in racers {
            racer.await.unwrap().unwrap();
        }
        let log = dir.path().join("rejects/_delta_log");
        let commits: Vec<String> = std::fs::read_dir(&log)
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect();
        assert_eq!(commits.len(), 1, "one commit, the creation: {commits:?}");
        assert!(commits[0].contains("\"CREATE TABLE\""), "{}", commits[0]);
        let opened = dataset.open(Table::Rejects, None).await.unwrap();
        assert_eq!(opened.version(), Some(0));
    }

    #[tokio::test]
    async fn a_location_without_a_table_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let dataset = Dataset::local(&dir.path().join("nothing-here")).unwrap();
        match dataset.open(Table::Invocations, None).await {
            Err(DatasetError::NoTable { table, location }) => {
                assert_eq!(table, "invocations");
                assert!(
                    location.ends_with("/nothing-here/invocations/"),
                    "{location}"
                );
            }
            other => panic!("expected NoTable, got {other:?}"),
        }
    }
}
