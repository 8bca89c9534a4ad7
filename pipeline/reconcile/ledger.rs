//! The ledger side: the month's priced requests, per charged identity, with their exact cost
//! per token kind, from a report session (`charged_invocations`, so with team and cost center).
//!
//! The dataset keeps one cache-write cost for 5-minute and 1-hour writes together; the bill
//! has a usage type for each. The 1-hour part is recomputed exactly as pricing computed it:
//! 1-hour tokens × the 1-hour rate of the price row the request was priced by (`price_ref`,
//! long-context rates when `long_context`), and the 5-minute part is the rest. That needs the
//! book that priced the month, which is checked by its SHA-256.

use std::collections::HashMap;

use arrow::array::{Array, AsArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Decimal128Type, Int64Type};

use super::bucket::Scope;
use crate::pricing::book::PriceRow;
use crate::pricing::{COST_SCALE, PriceBookInUse};
use crate::query::{Engine, QueryError, run_on};
use crate::report::chargeback::{ChargebackError, month_price_book};

const LEDGER_SQL: &str = include_str!("ledger.sql");

/// Who a cost is charged to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Charged {
    pub team: String,
    pub cost_center: String,
    /// Empty for requests whose log names no identity.
    pub identity: String,
    /// The person a gateway request was made for (a `metadata:` teams rule); empty otherwise.
    pub end_user: String,
}

/// Priced usage of one identity in one (account, region, model, scope, tier).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerRow {
    pub account_id: String,
    pub region: String,
    pub model: String,
    pub scope: Scope,
    pub tier: String,
    pub charged: Charged,
    /// Tokens and exact costs (10⁻¹² USD) per kind, in [`super::bucket::TokenKind`] order:
    /// input, output, cache read, 5-minute and 1-hour cache writes.
    pub tokens: [i128; 5],
    pub costs: [i128; 5],
}

/// Why the ledger side could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error(transparent)]
    PriceBook(#[from] ChargebackError),
    #[error(
        "{month} was priced with another price book (sha256 {used}) than {origin} (sha256 {given}): pass the book that priced it with --prices, or run `bedrock-ledger reprice`"
    )]
    OtherBook {
        month: String,
        used: String,
        origin: String,
        given: String,
    },
    #[error("price row {0} of a priced request is not in the price book")]
    UnknownRow(String),
    #[error("the ledger query returned {0}")]
    Shape(String),
}

/// Reads the priced requests of `month`. `prices` must be the book that priced it.
pub async fn read(
    engine: &dyn Engine,
    month: &str,
    prices: &PriceBookInUse,
) -> Result<Vec<LedgerRow>, LedgerError> {
    if let Some(used) = month_price_book(engine, month).await?
        && used != prices.sha256
    {
        return Err(LedgerError::OtherBook {
            month: month.to_owned(),
            used,
            origin: prices.origin.clone(),
            given: prices.sha256.clone(),
        });
    }
    let rows: HashMap<String, &PriceRow> = prices
        .book
        .rows()
        .into_iter()
        .map(|row| (row.reference(), row))
        .collect();
    let result = run_on(engine, LEDGER_SQL, &[("month", month)]).await?;
    let mut ledger = Vec::new();
    for batch in &result.batches {
        read_batch(batch, &rows, &mut ledger)?;
    }
    Ok(ledger)
}

fn read_batch(
    batch: &RecordBatch,
    rows: &HashMap<String, &PriceRow>,
    ledger: &mut Vec<LedgerRow>,
) -> Result<(), LedgerError> {
    let shape = |e: &dyn std::fmt::Display| LedgerError::Shape(e.to_string());
    let text = |i: usize| -> Result<StringArray, LedgerError> {
        let strings =
            arrow::compute::cast(batch.column(i), &DataType::Utf8).map_err(|e| shape(&e))?;
        Ok(strings.as_string::<i32>().clone())
    };
    let [account, region, model, scope, tier, price_ref] = [0, 1, 2, 3, 4, 5].map(text);
    let [account, region, model, scope, tier, price_ref] =
        [account?, region?, model?, scope?, tier?, price_ref?];
    let long_context = batch
        .column(6)
        .as_boolean_opt()
        .ok_or_else(|| shape(&"a long_context that is not boolean"))?;
    let [identity, team, cost_center, end_user] = [7, 8, 9, 10].map(text);
    let [identity, team, cost_center, end_user] = [identity?, team?, cost_center?, end_user?];
    let mut tokens = Vec::new();
    for i in 11..16 {
        tokens.push(
            batch
                .column(i)
                .as_primitive_opt::<Int64Type>()
                .ok_or_else(|| {
                    shape(&format!(
                        "token sums of type {}",
                        batch.column(i).data_type()
                    ))
                })?,
        );
    }
    let mut costs = Vec::new();
    for i in 16..20 {
        let column = batch.column(i);
        if !matches!(column.data_type(), DataType::Decimal128(_, scale) if *scale == COST_SCALE) {
            return Err(shape(&format!("costs of type {}", column.data_type())));
        }
        costs.push(column.as_primitive::<Decimal128Type>());
    }
    let cell = |array: &StringArray, row: usize| {
        (!array.is_null(row)).then(|| array.value(row).to_owned())
    };
    for row in 0..batch.num_rows() {
        let tokens: [i128; 5] = std::array::from_fn(|k| i128::from(tokens[k].value(row)));
        let [input, output, read, write] = std::array::from_fn(|k| {
            if costs[k].is_null(row) {
                0
            } else {
                costs[k].value(row)
            }
        });
        let write_1h = if tokens[4] == 0 {
            0
        } else {
            let reference = cell(&price_ref, row).unwrap_or_default();
            let price_row = rows
                .get(&reference)
                .ok_or_else(|| LedgerError::UnknownRow(reference.clone()))?;
            let rates = match price_row.long_context {
                Some((_, rates)) if long_context.value(row) => rates,
                _ => price_row.standard,
            };
            let rate = rates.cache_write_1h.ok_or_else(|| {
                shape(&format!(
                    "1-hour cache writes priced by {reference}, which has no 1-hour rate"
                ))
            })?;
            tokens[4] * rate
        };
        let scope_name = cell(&scope, row).unwrap_or_default();
        ledger.push(LedgerRow {
            account_id: cell(&account, row).unwrap_or_default(),
            region: cell(&region, row).unwrap_or_default(),
            model: cell(&model, row).ok_or_else(|| shape(&"a priced request without a model"))?,
            scope: Scope::from_name(&scope_name)
                .ok_or_else(|| shape(&format!("the scope {scope_name:?}")))?,
            tier: cell(&tier, row).unwrap_or_default(),
            charged: Charged {
                team: cell(&team, row).unwrap_or_default(),
                cost_center: cell(&cost_center, row).unwrap_or_default(),
                identity: cell(&identity, row).unwrap_or_default(),
                end_user: cell(&end_user, row).unwrap_or_default(),
            },
            tokens,
            costs: [input, output, read, write - write_1h, write_1h],
        });
    }
    Ok(())
}
