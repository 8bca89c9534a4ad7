//! Committing a run's rejects into the `rejects` table.
//!
//! A reject is identified by where it is (source, line, byte offset) and why (reason, excerpt).
//! Rejects merge in so that one already recorded is not repeated (a rerun after a crash reads
//! the same objects again), and the rejects of objects that changed are replaced by what their
//! new version yields. Concurrent commits that touch the same rejects conflict and are retried.

use std::path::Path;

use datafusion::prelude::ParquetReadOptions;

use super::invocations::sql_list;
use super::retry::{RetryPolicy, retry_conflicts};
use super::write::dataset_properties;
use super::{Dataset, DatasetError, Table, session};
use crate::rows::schema::REJECT_SCHEMA;

/// Columns that identify a reject; nullable ones compare equal when both are null.
const KEY: &str = "t.source = s.source AND t.reason = s.reason AND t.excerpt = s.excerpt \
     AND coalesce(t.line, -1) = coalesce(s.line, -1) \
     AND coalesce(t.byte_offset, -1) = coalesce(s.byte_offset, -1)";

/// Merges the staged rejects (if any) into the table and drops the earlier rejects of the
/// `replaced` sources that their new version no longer has. Returns the rejects added.
pub async fn commit_rejects(
    dataset: &Dataset,
    staged: Option<&Path>,
    replaced: &[String],
    policy: RetryPolicy,
) -> Result<u64, DatasetError> {
    if staged.is_none() && replaced.is_empty() {
        return Ok(0);
    }
    let location = dataset.table_location(Table::Rejects);
    retry_conflicts(&location, policy, || async {
        let table = dataset.open(Table::Rejects, None).await?;
        let ctx = session()?;
        let Some(staged) = staged else {
            table
                .delete()
                .with_predicate(format!("source IN ({})", sql_list(replaced)))
                .await
                .map_err(|e| DatasetError::delta(&location, e))?;
            return Ok(0);
        };
        let options = ParquetReadOptions::default().schema(&REJECT_SCHEMA);
        let source = ctx
            .read_parquet(staged.display().to_string(), options)
            .await?
            .distinct()?;
        let names: Vec<String> = REJECT_SCHEMA
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let mut merge = table
            .merge(source, KEY)
            .with_source_alias("s")
            .with_target_alias("t")
            .with_writer_properties(dataset_properties())
            .when_not_matched_insert(|insert| {
                names.iter().fold(insert, |insert, name| {
                    insert.set(name.as_str(), format!("s.\"{name}\""))
                })
            })
            .map_err(|e| DatasetError::delta(&location, e))?;
        if !replaced.is_empty() {
            let gone = format!("t.source IN ({})", sql_list(replaced));
            merge = merge
                .when_not_matched_by_source_delete(|delete| delete.predicate(gone))
                .map_err(|e| DatasetError::delta(&location, e))?;
        }
        let (_, metrics) = merge.await.map_err(|e| DatasetError::delta(&location, e))?;
        Ok(metrics.num_target_rows_inserted as u64)
    })
    .await
}
