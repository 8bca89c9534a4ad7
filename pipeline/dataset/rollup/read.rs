//! Reading the rollups: which months of a snapshot of `invocations` each rollup is current for,
//! and the views reports read, which take current months from the rollup and sum the requests
//! of every other month.

use std::collections::{BTreeMap, BTreeSet};

use arrow::array::AsArray;
use arrow::datatypes::{DataType, Int64Type};
use datafusion::prelude::SessionContext;
use deltalake::DeltaTable;

use super::{Rollup, SUMMARIZED_FILES, SUMMARIZED_VERSION};
use crate::dataset::invocations::sql_list;
use crate::dataset::read::register_snapshot;
use crate::dataset::tables::{data_file_count, file_month};
use crate::dataset::{Dataset, DatasetError, session};
use crate::pricing::sha256_hex;
use crate::rows::schema::MONTH;

/// The data files of each month of a snapshot of `invocations`, as paths relative to the table.
pub(super) fn month_files(
    table: &DeltaTable,
) -> Result<BTreeMap<String, BTreeSet<String>>, DatasetError> {
    let snapshot = table
        .snapshot()
        .map_err(|e| DatasetError::delta(table.table_url(), e))?;
    let mut months: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in snapshot.log_data().iter() {
        let month = file_month(&file).unwrap_or_default();
        months
            .entry(month)
            .or_default()
            .insert(file.path().into_owned());
    }
    Ok(months)
}

/// The fingerprint of a set of data files: the SHA-256 of their sorted paths.
pub(super) fn fingerprint(files: &BTreeSet<String>) -> String {
    let mut joined = String::new();
    for path in files {
        joined.push_str(path);
        joined.push('\n');
    }
    sha256_hex(joined.as_bytes())
}

/// What a month's rollup says it summarizes: the rows of its newest `summarized_version`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Summarized {
    pub version: i64,
    pub files: String,
}

/// The provenance of every month a stored rollup holds rows of.
pub(super) async fn summarized(
    rollup: &DeltaTable,
) -> Result<BTreeMap<String, Summarized>, DatasetError> {
    // A rollup just created summarizes nothing: no query needed to find that out.
    if data_file_count(rollup)? == 0 {
        return Ok(BTreeMap::new());
    }
    let ctx = session()?;
    register_snapshot(&ctx, rollup, "rollup").await?;
    let batches = ctx
        .sql(&format!(
            "SELECT DISTINCT CAST({MONTH} AS VARCHAR), {SUMMARIZED_VERSION}, {SUMMARIZED_FILES} \
             FROM rollup"
        ))
        .await?
        .collect()
        .await?;
    let mut months: BTreeMap<String, Summarized> = BTreeMap::new();
    for batch in &batches {
        let text = |column: usize| arrow::compute::cast(batch.column(column), &DataType::Utf8);
        let (month, files) = (text(0)?, text(2)?);
        let (month, files) = (month.as_string::<i32>(), files.as_string::<i32>());
        let version = batch.column(1).as_primitive::<Int64Type>();
        for row in 0..batch.num_rows() {
            let candidate = Summarized {
                version: version.value(row),
                files: files.value(row).to_owned(),
            };
            months
                .entry(month.value(row).to_owned())
                .and_modify(|held| {
                    if candidate.version > held.version {
                        *held = candidate.clone();
                    }
                })
                .or_insert(candidate);
        }
    }
    Ok(months)
}

/// Which months a report session reads from a rollup, and which it sums from the requests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RollupUse {
    pub rollup: &'static str,
    pub from_rollup: BTreeSet<String>,
    pub from_requests: BTreeSet<String>,
}

/// Registers a view named after each rollup in `ctx`, which already has `invocations` (the
/// snapshot `invocations` of the dataset): the stored rows of every month the rollup is current
/// for, and the rollup's query over the request table for every other month.
pub async fn register_rollups(
    ctx: &SessionContext,
    dataset: &Dataset,
    invocations: &DeltaTable,
) -> Result<Vec<RollupUse>, DatasetError> {
    let months = month_files(invocations)?;
    let mut uses = Vec::new();
    for rollup in Rollup::ALL {
        uses.push(register_rollup(ctx, dataset, rollup, &months).await?);
    }
    Ok(uses)
}

async fn register_rollup(
    ctx: &SessionContext,
    dataset: &Dataset,
    rollup: Rollup,
    months: &BTreeMap<String, BTreeSet<String>>,
) -> Result<RollupUse, DatasetError> {
    let stored = match dataset.open(rollup.table(), None).await {
        Ok(stored) => Some(stored),
        // A dataset written before the rollup existed: every month is summed from requests.
        Err(DatasetError::NoTable { .. }) => None,
        Err(error) => return Err(error),
    };
    let held = match &stored {
        Some(stored) => summarized(stored).await?,
        None => BTreeMap::new(),
    };
    let (current, stale): (Vec<_>, Vec<_>) = months.iter().partition(|(month, files)| {
        held.get(*month)
            .is_some_and(|held| held.files == fingerprint(files))
    });
    let usage = RollupUse {
        rollup: rollup.name(),
        from_rollup: current.into_iter().map(|(m, _)| m.clone()).collect(),
        from_requests: stale.into_iter().map(|(m, _)| m.clone()).collect(),
    };
    let current: Vec<String> = usage.from_rollup.iter().cloned().collect();
    let select = match &stored {
        Some(stored) if !current.is_empty() => {
            let stored_name = format!("{}_stored", rollup.name());
            register_snapshot(ctx, stored, &stored_name).await?;
            let columns: Vec<String> = rollup
                .schema()
                .fields()
                .iter()
                .map(|f| f.name())
                .filter(|name| *name != SUMMARIZED_VERSION && *name != SUMMARIZED_FILES)
                .map(|name| match name.as_str() {
                    MONTH => format!("CAST(\"{MONTH}\" AS VARCHAR) AS \"{MONTH}\""),
                    name => format!("\"{name}\""),
                })
                .collect();
            let from_rollup = format!(
                "SELECT {} FROM {stored_name} WHERE CAST({MONTH} AS VARCHAR) IN ({})",
                columns.join(", "),
                sql_list(&current)
            );
            if usage.from_requests.is_empty() {
                from_rollup
            } else {
                format!(
                    "{from_rollup}\nUNION ALL\nSELECT * FROM ({}) summed WHERE {MONTH} NOT IN ({})",
                    rollup.select(),
                    sql_list(&current)
                )
            }
        }
        _ => rollup.select(),
    };
    ctx.sql(&format!("CREATE VIEW {} AS {select}", rollup.name()))
        .await?;
    Ok(usage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_depends_on_the_set_of_files_only() {
        let set = |paths: &[&str]| paths.iter().map(|p| p.to_string()).collect::<BTreeSet<_>>();
        let ab = fingerprint(&set(&[
            "month=2026-10/a.parquet",
            "month=2026-10/b.parquet",
        ]));
        let ba = fingerprint(&set(&[
            "month=2026-10/b.parquet",
            "month=2026-10/a.parquet",
        ]));
        let a = fingerprint(&set(&["month=2026-10/a.parquet"]));
        assert_eq!(ab, ba);
        assert_ne!(ab, a);
        // Paths are joined with a separator no path holds: ["ab"] is not ["a", "b"].
        assert_ne!(fingerprint(&set(&["ab"])), fingerprint(&set(&["a", "b"])));
    }
}
