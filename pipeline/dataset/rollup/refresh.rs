//! Bringing a month's rollups up to date with `invocations` after a commit to the month.
//!
//! When the month only gained files since the version a rollup summarizes (a nightly insert),
//! the sums of just the new files are appended (rows of one key may then repeat: readers always
//! sum); when files were removed (a merge replaced copies, a reprice, a compaction), the month
//! is summed again whole and replaces the rollup's rows of the month. Both commits declare that
//! they read the month's partition, so two workers refreshing it at once cannot both append the
//! same files: Delta refuses the later one, which starts again from the new state.
//!
//! The files are summed a few million rows at a time ([`ROWS_PER_SUM`]), so memory stays
//! bounded however large the month: a query's aggregation state grows with the groups it meets.
//! Chunks of files that share keys write a row per chunk for those keys, which readers sum.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::RecordBatch;
use deltalake::DeltaTable;
use deltalake::kernel::Action;
use deltalake::kernel::transaction::CommitBuilder;
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::writer::{DeltaWriter, RecordBatchWriter};
use object_store::ObjectStoreExt;

use super::read::{fingerprint, month_files, summarized};
use super::{Rollup, SUMMARIZED_FILES, SUMMARIZED_VERSION};
use crate::dataset::batch::conform;
use crate::dataset::retry::{RetryPolicy, is_conflict, retry_conflicts};
use crate::dataset::write::dataset_properties;
use crate::dataset::{Dataset, DatasetError, Table, session};
use crate::rows::schema::MONTH;

/// Rows of `invocations` summed by one query. The `daily_usage` query over the 10,000,000
/// requests of `benches/month.sh` peaked at 479 MiB, over a quarter of them at 294 MiB;
/// a month of any size is summed in queries of this many rows.
const ROWS_PER_SUM: u64 = 2_500_000;

/// What [`refresh_month`] did to the rollups of a month.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Refresh {
    /// Data files of `invocations` summed (by each rollup).
    pub files_read: u64,
    /// Rollup rows written, in all.
    pub rows: u64,
    /// The month was summed whole (its files changed), rather than its new files only.
    pub rebuilt: bool,
}

/// Brings every rollup of `month` up to date with the newest `invocations`, retrying on
/// conflicts with other writers of each. The rollups are refreshed one after the other: each
/// query already runs on every core, so two at once would only add their memory together.
pub async fn refresh_month(
    dataset: &Dataset,
    month: &str,
    policy: RetryPolicy,
) -> Result<Refresh, DatasetError> {
    let mut done = Refresh::default();
    for rollup in Rollup::ALL {
        let refresh = refresh_rollup(dataset, rollup, month, policy).await?;
        done = Refresh {
            files_read: done.files_read.max(refresh.files_read),
            rows: done.rows + refresh.rows,
            rebuilt: done.rebuilt || refresh.rebuilt,
        };
    }
    Ok(done)
}

async fn refresh_rollup(
    dataset: &Dataset,
    rollup: Rollup,
    month: &str,
    policy: RetryPolicy,
) -> Result<Refresh, DatasetError> {
    let table = rollup.table();
    let location = dataset.table_location(table);
    retry_conflicts(&location, policy, || async {
        dataset.open_or_create(table).await.map(drop)
    })
    .await?;
    retry_conflicts(&location, policy, || async {
        let invocations = dataset.open(Table::Invocations, None).await?;
        let stored = dataset.open(table, None).await?;
        refresh_once(dataset, &invocations, rollup, stored, month).await
    })
    .await
}

async fn refresh_once(
    dataset: &Dataset,
    invocations: &DeltaTable,
    rollup: Rollup,
    stored: DeltaTable,
    month: &str,
) -> Result<Refresh, DatasetError> {
    let now = month_files(invocations)?.remove(month).unwrap_or_default();
    let version = invocations.version().unwrap_or(0);
    let held = summarized(&stored).await?.remove(month);
    let fingerprint_now = fingerprint(&now);
    if held.as_ref().is_some_and(|h| h.files == fingerprint_now) {
        return Ok(Refresh::default());
    }
    // The files the rollup summarizes, if the month only gained files since. A version that
    // cannot be read back (its log cleaned up after `delta.logRetentionDuration`) means summing
    // the month whole, which is always right.
    let summed_before = match &held {
        Some(held) if held.version <= version as i64 => {
            match dataset
                .open(Table::Invocations, Some(held.version as u64))
                .await
            {
                Ok(then) => {
                    let then = month_files(&then)?.remove(month).unwrap_or_default();
                    (fingerprint(&then) == held.files && then.is_subset(&now)).then_some(then)
                }
                Err(error) => {
                    tracing::debug!(
                        target: "rollup",
                        month,
                        version = held.version,
                        %error,
                        "the version the rollup summed is gone: summing the month whole"
                    );
                    None
                }
            }
        }
        _ => None,
    };
    let rebuilt = summed_before.is_none();
    let to_read: Vec<String> = match &summed_before {
        Some(then) => now.difference(then).cloned().collect(),
        None => now.iter().cloned().collect(),
    };
    let delta = |e| DatasetError::delta(stored.table_url(), e);
    let mut writer = RecordBatchWriter::for_table(&stored)
        .map_err(delta)?
        .with_writer_properties(dataset_properties());
    let mut rows = 0;
    for files in chunks(&to_read, &file_rows(invocations)?, ROWS_PER_SUM) {
        for batch in sum_files(invocations, rollup, &files, version, &fingerprint_now).await? {
            rows += batch.num_rows() as u64;
            if batch.num_rows() > 0 {
                writer.write(batch).await.map_err(delta)?;
            }
        }
    }
    let mut actions = Vec::new();
    if rebuilt {
        let snapshot = stored
            .snapshot()
            .map_err(|e| DatasetError::delta(stored.table_url(), e))?;
        actions.extend(
            snapshot
                .log_data()
                .iter()
                .filter(|file| {
                    file.partition_values_map()
                        .get(MONTH)
                        .cloned()
                        .flatten()
                        .as_deref()
                        == Some(month)
                })
                .map(|file| Action::Remove(file.remove_action(true))),
        );
    }
    let adds = writer.flush().await.map_err(delta)?;
    actions.extend(adds.iter().cloned().map(Action::Add));
    let operation = DeltaOperation::Write {
        mode: if rebuilt {
            SaveMode::Overwrite
        } else {
            SaveMode::Append
        },
        partition_by: Some(vec![MONTH.to_owned()]),
        predicate: Some(format!("{MONTH} = '{}'", month.replace('\'', "''"))),
    };
    let snapshot = stored
        .snapshot()
        .map_err(|e| DatasetError::delta(stored.table_url(), e))?;
    let committed = CommitBuilder::default()
        .with_actions(actions)
        .build(Some(snapshot), stored.log_store(), operation)
        .await
        .map_err(|e| DatasetError::delta(stored.table_url(), e));
    if let Err(error) = committed {
        if is_conflict(&error) {
            // Refused, so nothing refers to the new files: remove them (a file left behind
            // would be vacuumed by `maintain`).
            let store = stored.log_store().object_store(None);
            for add in &adds {
                if let Ok(path) = object_store::path::Path::from_url_path(&add.path) {
                    let _ = store.delete(&path).await;
                }
            }
        }
        return Err(error);
    }
    Ok(Refresh {
        files_read: to_read.len() as u64,
        rows,
        rebuilt,
    })
}

/// The rollup's query over just `files` of `invocations`, with the provenance columns.
async fn sum_files(
    invocations: &DeltaTable,
    rollup: Rollup,
    files: &[String],
    version: u64,
    files_fingerprint: &str,
) -> Result<Vec<RecordBatch>, DatasetError> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let ctx = session()?;
    invocations
        .update_datafusion_session(&ctx.state())
        .map_err(|e| DatasetError::delta(invocations.table_url(), e))?;
    let provider = invocations
        .table_provider()
        .with_file_paths(files.iter().cloned())
        .build()
        .await
        .map_err(|e| DatasetError::delta(invocations.table_url(), e.into()))?;
    ctx.register_table(Table::Invocations.name(), Arc::new(provider))?;
    let sql = format!(
        "SELECT *, CAST({version} AS BIGINT) AS {SUMMARIZED_VERSION}, \
         '{files_fingerprint}' AS {SUMMARIZED_FILES} FROM ({}) summed",
        rollup.select()
    );
    let batches = ctx.sql(&sql).await?.collect().await?;
    let schema = rollup.schema();
    Ok(batches
        .iter()
        .map(|batch| conform(batch, &schema))
        .collect::<Result<_, _>>()?)
}

/// The rows of each data file of `invocations`, as its log records them.
fn file_rows(invocations: &DeltaTable) -> Result<HashMap<String, u64>, DatasetError> {
    let snapshot = invocations
        .snapshot()
        .map_err(|e| DatasetError::delta(invocations.table_url(), e))?;
    Ok(snapshot
        .log_data()
        .iter()
        .filter_map(|file| Some((file.path().into_owned(), file.num_records()? as u64)))
        .collect())
}

/// `files` cut, in order, into runs of at most `budget` rows (a file larger than the budget, or
/// whose rows the log does not record, is a run of its own).
fn chunks(files: &[String], rows: &HashMap<String, u64>, budget: u64) -> Vec<Vec<String>> {
    let mut chunks: Vec<Vec<String>> = Vec::new();
    let mut chunk_rows = 0;
    for file in files {
        let file_rows = rows.get(file).copied().unwrap_or(budget);
        match chunks.last_mut() {
            Some(chunk) if chunk_rows + file_rows <= budget => chunk.push(file.clone()),
            _ => {
                chunks.push(vec![file.clone()]);
                chunk_rows = 0;
            }
        }
        chunk_rows += file_rows;
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_summed_in_runs_within_the_row_budget() {
        let rows: HashMap<String, u64> = [("a", 4), ("b", 5), ("c", 1), ("d", 12), ("e", 3)]
            .into_iter()
            .map(|(file, rows)| (file.to_owned(), rows))
            .collect();
        let files = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        // files, row budget, runs
        type Case<'a> = (&'a [&'a str], u64, &'a [&'a [&'a str]]);
        let cases: &[Case] = &[
            (&[], 10, &[]),
            (&["a", "b", "c"], 10, &[&["a", "b", "c"]]),
            (&["a", "b", "c"], 9, &[&["a", "b"], &["c"]]),
            // A file over the budget runs alone, and the next run starts after it.
            (&["a", "d", "e"], 10, &[&["a"], &["d"], &["e"]]),
            // A file the log has no row count for runs alone.
            (&["a", "unknown", "c"], 10, &[&["a"], &["unknown"], &["c"]]),
        ];
        for (input, budget, expected) in cases {
            let expected: Vec<Vec<String>> = expected.iter().map(|c| files(c)).collect();
            assert_eq!(
                chunks(&files(input), &rows, *budget),
                expected,
                "{input:?} within {budget}"
            );
        }
    }
}
