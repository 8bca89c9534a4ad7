//! `report reconcile`: the ledger's estimate against the bill, and the bill shared out.
//!
//! The bill is the month's AWS Data Exports CUR 2.0 ([`cur`]); each billed Bedrock `Usage` line
//! is placed by its usage type and product name ([`usage_types`]) on a bucket — account,
//! region, model, token kind, scope, tier ([`bucket`]) — next to the ledger's priced requests
//! of that bucket ([`ledger`]); [`compare`] sums both sides, keeping apart what the map cannot
//! place and the line items that are not usage; [`allocate`] shares each bucket's billed cost
//! to the identities in proportion to their priced cost; [`render`] writes the CSVs and the
//! summary. Money is exact ([`money`]): 10⁻¹² USD integers until printing.
//!
//! See `docs/reconcile.md` for the CUR columns used, the mapping and the output columns.

pub mod allocate;
pub mod bucket;
pub mod compare;
pub mod cur;
pub mod ledger;
pub mod money;
pub mod render;
pub mod usage_types;

use std::path::PathBuf;

use crate::pricing::PriceBookInUse;
use crate::query::Engine;
use allocate::{AllocationRow, ShareError};
use compare::Comparison;
use cur::CurError;
use ledger::LedgerError;
use usage_types::UsageTypeMap;

/// A month reconciled.
#[derive(Debug)]
pub struct Reconciliation {
    pub month: String,
    pub comparison: Comparison,
    pub allocation: Vec<AllocationRow>,
    /// CUR data files read, rows read, Bedrock lines of other billing periods, lines of other
    /// services.
    pub files: Vec<PathBuf>,
    pub rows: u64,
    pub other_periods: u64,
    pub other_services: u64,
}

/// Why a month could not be reconciled.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("reading the CUR: {0}")]
    Cur(#[from] CurError),
    #[error("reading the ledger: {0}")]
    Ledger(#[from] LedgerError),
    #[error("sharing the bill: {0}")]
    Share(#[from] ShareError),
    #[error("reading the CUR: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Reconciles `month`: the ledger read on `engine` (a report session; `prices` is the book that
/// priced the month) against the CUR export at `cur` (a data file or a directory).
pub async fn reconcile(
    engine: &dyn Engine,
    month: &str,
    cur: PathBuf,
    prices: &PriceBookInUse,
    map: &UsageTypeMap,
) -> Result<Reconciliation, ReconcileError> {
    let ledger = ledger::read(engine, month, prices).await?;
    let bill = {
        let month = month.to_owned();
        tokio::task::spawn_blocking(move || cur::read(&cur, &month)).await??
    };
    let comparison = compare::compare(&ledger, &bill.lines, map);
    let allocation = allocate::allocate(&comparison)?;
    Ok(Reconciliation {
        month: month.to_owned(),
        comparison,
        allocation,
        files: bill.files,
        rows: bill.rows,
        other_periods: bill.other_periods,
        other_services: bill.other_services,
    })
}
