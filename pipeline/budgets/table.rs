//! The budget lines as a table to print in any output format (`--format`): one row a budget,
//! money as decimal strings rounded once to the micro-dollar.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::error::ArrowError;

use super::BudgetLine;
use crate::pricing::format_micros;
use crate::query::QueryResult;

/// The lines as a result to print in any output format; money as decimal strings.
pub fn budget_table(lines: &[BudgetLine<'_>]) -> Result<QueryResult, ArrowError> {
    let text = |name: &str| Field::new(name, DataType::Utf8, false);
    let count = |name: &str| Field::new(name, DataType::Int64, false);
    let schema = Arc::new(Schema::new(vec![
        text("scope"),
        text("pattern"),
        text("spent_usd"),
        text("forecast_usd"),
        text("budget_usd"),
        text("used_pct"),
        text("status"),
        count("requests"),
        count("unpriced_requests"),
    ]));
    let strings = |f: &dyn Fn(&BudgetLine<'_>) -> String| -> ArrayRef {
        Arc::new(StringArray::from(lines.iter().map(f).collect::<Vec<_>>()))
    };
    let counts = |f: &dyn Fn(&BudgetLine<'_>) -> i64| -> ArrayRef {
        Arc::new(Int64Array::from(lines.iter().map(f).collect::<Vec<_>>()))
    };
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            strings(&|l| l.budget.scope.as_str().to_owned()),
            strings(&|l| l.budget.pattern.as_str().to_owned()),
            strings(&|l| format_micros(l.spent_micros())),
            strings(&|l| format_micros(l.forecast_micros)),
            strings(&|l| format_micros(l.budget.monthly_micros)),
            strings(&|l| l.used_pct()),
            strings(&|l| l.status.as_str().to_owned()),
            counts(&|l| l.requests),
            counts(&|l| l.unpriced_requests),
        ],
    )?;
    Ok(QueryResult {
        schema,
        batches: vec![batch],
    })
}
