//! Reading the dataset through the Delta log: registers `invocations` (at its newest version or
//! at `--as-of`), the rollups `daily_usage` and `latency_histogram` (read from the stored rollup
//! where it is current for that version, else summed from it), `rejects` and `ingested_objects` (the ledger entry in force of
//! every object) in a DataFusion session. A missing table is an error naming where it was looked
//! for.

use datafusion::prelude::SessionContext;
use deltalake::DeltaTable;

use super::ledger::LATEST_ENTRIES;
use super::rollup::{RollupUse, register_rollups};
use super::{Dataset, DatasetError, Table};

/// Registers the dataset's tables in `ctx`; `as_of` pins `invocations` (and the rollups' views)
/// to an older version. Returns the version of `invocations` read, what a report records so it
/// can be reproduced, and which months each rollup's view reads from the stored rollup.
pub async fn register_tables(
    ctx: &SessionContext,
    dataset: &Dataset,
    as_of: Option<u64>,
) -> Result<(u64, Vec<RollupUse>), DatasetError> {
    let invocations = dataset.open(Table::Invocations, as_of).await?;
    let rejects = dataset.open(Table::Rejects, None).await?;
    let ledger = dataset.open(Table::Ledger, None).await?;
    register_snapshot(ctx, &invocations, Table::Invocations.name()).await?;
    let rollups = register_rollups(ctx, dataset, &invocations).await?;
    register_snapshot(ctx, &rejects, Table::Rejects.name()).await?;
    register_snapshot(ctx, &ledger, "ledger_entries").await?;
    ctx.sql(&format!(
        "CREATE VIEW ingested_objects AS {}",
        LATEST_ENTRIES.replace("FROM entries", "FROM ledger_entries")
    ))
    .await?;
    Ok((invocations.version().unwrap_or(0), rollups))
}

/// Registers `table`'s snapshot as `name` in `ctx` (and the table's store in its runtime).
pub async fn register_snapshot(
    ctx: &SessionContext,
    table: &DeltaTable,
    name: &str,
) -> Result<(), DatasetError> {
    table
        .update_datafusion_session(&ctx.state())
        .map_err(|e| DatasetError::delta(table.table_url(), e))?;
    let provider = table
        .table_provider()
        .await
        .map_err(|e| DatasetError::delta(table.table_url(), e.into()))?;
    ctx.register_table(name, provider)?;
    Ok(())
}
