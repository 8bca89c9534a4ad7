//! Bringing months' rollups up to date with `invocations` after commits to them.
//!
//! When a month only gained files since the version a rollup summarizes (a nightly insert),
//! the sums of just the new files are appended (rows of one key may then repeat: readers always
//! sum); when files were removed (a merge replaced copies, a reprice, a compaction), the month
//! is summed again whole and replaces the rollup's rows of the month. A rollup's new rows of
//! every month refreshed are one commit, which declares that it read those months' partitions,
//! so two workers refreshing a month at once cannot both append the same files: Delta refuses
//! the later one, which starts again from the new state.
//!
//! The files are summed a few million rows at a time ([`ROWS_PER_SUM`]), so memory stays
//! bounded however large the month: a query's aggregation state grows with the groups it meets.
//! Chunks of files that share keys write a row per chunk for those keys, which readers sum.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::DataType;
use deltalake::DeltaTable;
use deltalake::kernel::Action;
use deltalake::kernel::transaction::CommitBuilder;
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::writer::{DeltaWriter, RecordBatchWriter};
use object_store::ObjectStoreExt;

use super::read::{Summarized, fingerprint, month_files, summarized};
use super::{Rollup, SUMMARIZED_FILES, SUMMARIZED_VERSION};
use crate::dataset::batch::conform;
use crate::dataset::invocations::sql_list;
use crate::dataset::retry::{RetryPolicy, is_conflict, retry_conflicts};
use crate::dataset::tables::{data_files, file_month};
use crate::dataset::write::dataset_properties;
use crate::dataset::{Dataset, DatasetError, Table, session};
use crate::rows::schema::MONTH;

/// Rows of `invocations` summed by one query. The `daily_usage` query over the 10,000,000
/// requests of `benches/month.sh` peaked at 479 MiB, over a quarter of them at 294 MiB;
/// a month of any size is summed in queries of this many rows.
const ROWS_PER_SUM: u64 = 2_500_000;

/// What refreshing did to the rollups of one month.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Refresh {
    /// Data files of `invocations` summed (by each rollup).
    pub files_read: u64,
    /// Rollup rows written, in all.
    pub rows: u64,
    /// The month was summed whole (its files changed), rather than its new files only.
    pub rebuilt: bool,
}

impl Refresh {
    /// What two rollups' refreshes of one month did together.
    fn and(self, other: Refresh) -> Refresh {
        Refresh {
            files_read: self.files_read.max(other.files_read),
            rows: self.rows + other.rows,
            rebuilt: self.rebuilt || other.rebuilt,
        }
    }
}

/// Brings every rollup of `month` up to date with the newest `invocations` (see
/// [`refresh_months`]).
pub async fn refresh_month(
    dataset: &Dataset,
    month: &str,
    policy: RetryPolicy,
) -> Result<Refresh, DatasetError> {
    let mut done = refresh_months(dataset, &[month.to_owned()], policy).await?;
    Ok(done.remove(month).unwrap_or_default())
}

/// Brings every rollup of `months` up to date with the newest `invocations`, in one commit per
/// rollup for all of them, retrying on conflicts with other writers of each; returns what was
/// done to each month. A run that committed several months refreshes them together: a commit
/// per month and rollup raced its own other months for each rollup's next version.
///
/// The rollups are refreshed one after the other, and a rollup's months one after the other:
/// each query already runs on every core, so two at once would only add their memory together.
pub async fn refresh_months(
    dataset: &Dataset,
    months: &[String],
    policy: RetryPolicy,
) -> Result<BTreeMap<String, Refresh>, DatasetError> {
    let mut done: BTreeMap<String, Refresh> = months
        .iter()
        .map(|month| (month.clone(), Refresh::default()))
        .collect();
    if months.is_empty() {
        return Ok(done);
    }
    for rollup in Rollup::ALL {
        for (month, refresh) in refresh_rollup(dataset, rollup, months, policy).await? {
            let held = done.entry(month).or_default();
            *held = held.and(refresh);
        }
    }
    Ok(done)
}

async fn refresh_rollup(
    dataset: &Dataset,
    rollup: Rollup,
    months: &[String],
    policy: RetryPolicy,
) -> Result<BTreeMap<String, Refresh>, DatasetError> {
    let table = rollup.table();
    let location = dataset.table_location(table);
    retry_conflicts(&location, policy, || async {
        dataset.open_or_create(table).await.map(drop)
    })
    .await?;
    retry_conflicts(&location, policy, || async {
        let invocations = dataset.open(Table::Invocations, None).await?;
        let stored = dataset.open(table, None).await?;
        refresh_once(dataset, &invocations, rollup, stored, months).await
    })
    .await
}

/// One attempt at bringing `rollup` up to date for `months`: the new sums of every month that
/// changed, written and committed at once. Returns what was done to each month that changed.
async fn refresh_once(
    dataset: &Dataset,
    invocations: &DeltaTable,
    rollup: Rollup,
    stored: DeltaTable,
    months: &[String],
) -> Result<BTreeMap<String, Refresh>, DatasetError> {
    let mut files_by_month = month_files(invocations)?;
    let version = invocations.version().unwrap_or(0);
    let mut held_by_month = summarized(&stored).await?;
    let rows_by_file = file_rows(invocations)?;
    let delta = |e| DatasetError::delta(stored.table_url(), e);
    let mut writer = RecordBatchWriter::for_table(&stored)
        .map_err(delta)?
        .with_writer_properties(dataset_properties());
    // What each month that changed needs: its files to sum, and their fingerprint.
    let mut done = BTreeMap::new();
    let mut fingerprints = BTreeMap::new();
    let mut to_read = Vec::new();
    for month in months {
        let now = files_by_month.remove(month).unwrap_or_default();
        let held = held_by_month.remove(month);
        let fingerprint_now = fingerprint(&now);
        if held.as_ref().is_some_and(|h| h.files == fingerprint_now) {
            continue;
        }
        let summed_before = summed_before(dataset, held, version, month, &now).await?;
        let files: Vec<String> = match &summed_before {
            Some(then) => now.difference(then).cloned().collect(),
            None => now.iter().cloned().collect(),
        };
        let refresh = Refresh {
            files_read: files.len() as u64,
            rows: 0,
            rebuilt: summed_before.is_none(),
        };
        done.insert(month.clone(), refresh);
        fingerprints.insert(month.clone(), fingerprint_now);
        to_read.extend(files);
    }
    // Every month's files are summed together, a chunk at a time: a query per month would
    // cost as much as the sums themselves in a run of many small months.
    for files in chunks(&to_read, &rows_by_file, ROWS_PER_SUM) {
        for batch in sum_files(invocations, rollup, &files, version, &fingerprints).await? {
            if batch.num_rows() == 0 {
                continue;
            }
            for (month, rows) in rows_by_month(&batch)? {
                if let Some(refresh) = done.get_mut(&month) {
                    refresh.rows += rows;
                }
            }
            writer.write(batch).await.map_err(delta)?;
        }
    }
    if done.is_empty() {
        return Ok(done);
    }
    let rebuilt: BTreeSet<&str> = done
        .iter()
        .filter(|(_, refresh)| refresh.rebuilt)
        .map(|(month, _)| month.as_str())
        .collect();
    let snapshot = stored.snapshot().map_err(delta)?;
    let mut actions: Vec<Action> = snapshot
        .log_data()
        .iter()
        .filter(|file| file_month(file).is_some_and(|month| rebuilt.contains(month.as_str())))
        .map(|file| Action::Remove(file.remove_action(true)))
        .collect();
    let adds = writer.flush().await.map_err(delta)?;
    actions.extend(adds.iter().cloned().map(Action::Add));
    let changed: Vec<String> = done.keys().cloned().collect();
    // The months read, so that a writer refreshing any of them at the same time conflicts.
    let operation = DeltaOperation::Write {
        mode: if rebuilt.is_empty() {
            SaveMode::Append
        } else {
            SaveMode::Overwrite
        },
        partition_by: Some(vec![MONTH.to_owned()]),
        predicate: Some(format!("{MONTH} IN ({})", sql_list(&changed))),
    };
    let committed = CommitBuilder::default()
        .with_actions(actions)
        .build(Some(snapshot), stored.log_store(), operation)
        .await
        .map_err(delta);
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
    Ok(done)
}

/// The files of `month` that the rollup's rows `held` summarize, if the month only gained
/// files since (`now` being its files at `version`). A version that cannot be read back (its
/// log cleaned up after `delta.logRetentionDuration`) means summing the month whole, which is
/// always right.
async fn summed_before(
    dataset: &Dataset,
    held: Option<Summarized>,
    version: u64,
    month: &str,
    now: &BTreeSet<String>,
) -> Result<Option<BTreeSet<String>>, DatasetError> {
    let Some(held) = held.filter(|held| held.version <= version as i64) else {
        return Ok(None);
    };
    match dataset
        .open(Table::Invocations, Some(held.version as u64))
        .await
    {
        Ok(then) => {
            let then = month_files(&then)?.remove(month).unwrap_or_default();
            Ok((fingerprint(&then) == held.files && then.is_subset(now)).then_some(then))
        }
        Err(error) => {
            tracing::debug!(
                target: "rollup",
                month,
                version = held.version,
                %error,
                "the version the rollup summed is gone: summing the month whole"
            );
            Ok(None)
        }
    }
}

/// The rollup's query over just `files` of `invocations`, with the provenance columns: the
/// `version` summed, and the fingerprint of the files of each month (`fingerprints`, by month).
async fn sum_files(
    invocations: &DeltaTable,
    rollup: Rollup,
    files: &[String],
    version: u64,
    fingerprints: &BTreeMap<String, String>,
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
    let by_month: String = fingerprints
        .iter()
        .map(|(month, fingerprint)| {
            format!(" WHEN '{}' THEN '{fingerprint}'", month.replace('\'', "''"))
        })
        .collect();
    let sql = format!(
        "SELECT *, CAST({version} AS BIGINT) AS {SUMMARIZED_VERSION}, \
         CASE CAST({MONTH} AS VARCHAR){by_month} END AS {SUMMARIZED_FILES} FROM ({}) summed",
        rollup.select()
    );
    let batches = ctx.sql(&sql).await?.collect().await?;
    let schema = rollup.schema();
    Ok(batches
        .iter()
        .map(|batch| conform(batch, &schema))
        .collect::<Result<_, _>>()?)
}

/// The rows of `batch` (a rollup's) of each month.
fn rows_by_month(batch: &RecordBatch) -> Result<BTreeMap<String, u64>, DatasetError> {
    let months = arrow::compute::cast(
        batch.column_by_name(MONTH).expect("a rollup has months"),
        &DataType::Utf8,
    )?;
    let mut rows = BTreeMap::new();
    for month in months.as_string::<i32>().iter().flatten() {
        *rows.entry(month.to_owned()).or_default() += 1;
    }
    Ok(rows)
}

/// The rows of each data file of `invocations`, as its log records them.
fn file_rows(invocations: &DeltaTable) -> Result<HashMap<String, u64>, DatasetError> {
    Ok(data_files(invocations)?
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
    fn the_rows_of_each_month_are_counted() {
        use arrow::array::{DictionaryArray, StringArray};
        use arrow::datatypes::Int32Type;
        // (the month column, the rows of each month)
        type Case<'a> = (&'a [&'a str], &'a [(&'a str, u64)]);
        let cases: &[Case] = &[
            (&[], &[]),
            (&["2026-08"], &[("2026-08", 1)]),
            (
                &["2026-09", "2026-08", "2026-09", "2026-09"],
                &[("2026-08", 1), ("2026-09", 3)],
            ),
        ];
        for (column, expected) in cases {
            let expected: BTreeMap<String, u64> = expected
                .iter()
                .map(|(month, rows)| (month.to_string(), *rows))
                .collect();
            // As a query returns it (a partition column is dictionary-encoded) and as stored.
            let plain = Arc::new(StringArray::from(column.to_vec()));
            let dictionary = Arc::new(
                column
                    .iter()
                    .copied()
                    .collect::<DictionaryArray<Int32Type>>(),
            );
            for months in [plain as arrow::array::ArrayRef, dictionary] {
                let batch = RecordBatch::try_from_iter([(MONTH, months)]).unwrap();
                assert_eq!(rows_by_month(&batch).unwrap(), expected, "{column:?}");
            }
        }
    }

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
