//! Query results as the page's tables: a header of readable names and rows of text. Money
//! columns (decimals named `…_usd`) are printed in cents like every amount on the page, counts
//! with thousands separators; everything else as arrow prints it.

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Date32Type, Decimal128Type, Int64Type};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use chrono::NaiveDate;
use serde::Serialize;

use super::figures::{count_text, usd_text};
use crate::pricing::round_to_micros;
use crate::query::QueryResult;

/// A table on the page.
#[derive(Debug, Default, Serialize)]
pub struct Table {
    pub columns: Vec<String>,
    /// Whether each column holds numbers (aligned right).
    pub numeric: Vec<bool>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Every column of `result` except those named in `skip`.
    pub fn from_result(result: &QueryResult, skip: &[&str]) -> Self {
        let shown: Vec<usize> = (0..result.schema.fields().len())
            .filter(|&i| !skip.contains(&result.schema.field(i).name().as_str()))
            .collect();
        let columns = shown
            .iter()
            .map(|&i| heading(result.schema.field(i).name()))
            .collect();
        let numeric = shown
            .iter()
            .map(|&i| result.schema.field(i).data_type().is_numeric())
            .collect();
        let mut rows = Vec::new();
        for batch in &result.batches {
            for row in 0..batch.num_rows() {
                rows.push(
                    shown
                        .iter()
                        .map(|&i| {
                            cell(batch.column(i).as_ref(), result.schema.field(i).name(), row)
                        })
                        .collect(),
                );
            }
        }
        Table {
            columns,
            numeric,
            rows,
        }
    }
}

/// `cache_read_cost_usd` → `Cache read cost (USD)`.
fn heading(name: &str) -> String {
    let (stem, unit) = [("_usd", " (USD)"), ("_pct", " (%)"), ("_ms", " (ms)")]
        .into_iter()
        .find_map(|(suffix, unit)| name.strip_suffix(suffix).map(|stem| (stem, unit)))
        .unwrap_or((name, ""));
    let mut words = stem.replace('_', " ");
    if let Some(first) = words.get(0..1) {
        let upper = first.to_uppercase();
        words.replace_range(0..1, &upper);
    }
    format!("{words}{unit}")
}

fn cell(column: &dyn Array, name: &str, row: usize) -> String {
    if column.is_null(row) {
        return String::new();
    }
    match column.data_type() {
        DataType::Decimal128(_, scale) if name.ends_with("_usd") => usd_text(to_micros(
            column.as_primitive::<Decimal128Type>().value(row),
            *scale,
        )),
        DataType::Int64 => count_text(column.as_primitive::<Int64Type>().value(row)),
        _ => ArrayFormatter::try_new(column, &FormatOptions::default())
            .map(|f| f.value(row).to_string())
            .unwrap_or_default(),
    }
}

/// A decimal's unscaled value at `scale` in micro-dollars (half to even below a micro-dollar).
fn to_micros(value: i128, scale: i8) -> i128 {
    match scale {
        6 => value,
        s if s > 6 => {
            let exact = value * 10i128.pow(12 - s.min(12) as u32);
            round_to_micros(exact)
        }
        s => value * 10i128.pow((6 - s) as u32),
    }
}

/// The sum of decimal column `name` in micro-dollars (0 when absent or empty).
pub fn column_micros(result: &QueryResult, name: &str) -> i128 {
    let Ok(index) = result.schema.index_of(name) else {
        return 0;
    };
    let mut sum = 0;
    for batch in &result.batches {
        let column = batch.column(index);
        if let DataType::Decimal128(_, scale) = column.data_type() {
            let values = column.as_primitive::<Decimal128Type>();
            sum += values
                .iter()
                .flatten()
                .map(|v| to_micros(v, *scale))
                .sum::<i128>();
        }
    }
    sum
}

/// `(day, micro-dollars)` of a result with a date column and a decimal column.
pub fn daily_micros(result: &QueryResult, day: &str, cost: &str) -> Vec<(NaiveDate, i128)> {
    let (Ok(day), Ok(cost)) = (result.schema.index_of(day), result.schema.index_of(cost)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for batch in &result.batches {
        let (days, costs) = (batch.column(day), batch.column(cost));
        let (DataType::Date32, DataType::Decimal128(_, scale)) =
            (days.data_type(), costs.data_type())
        else {
            continue;
        };
        let (days, costs) = (
            days.as_primitive::<Date32Type>(),
            costs.as_primitive::<Decimal128Type>(),
        );
        for row in 0..batch.num_rows() {
            if days.is_null(row) || costs.is_null(row) {
                continue;
            }
            if let Some(date) = days.value_as_date(row) {
                out.push((date, to_micros(costs.value(row), *scale)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_columns_for_people() {
        let cases = [
            ("cache_read_cost_usd", "Cache read cost (USD)"),
            ("savings_pct", "Savings (%)"),
            ("latency_p50_ms", "Latency p50 (ms)"),
            ("model", "Model"),
        ];
        for (name, heading_text) in cases {
            assert_eq!(heading(name), heading_text);
        }
    }

    #[test]
    fn scales_decimals_to_micro_dollars() {
        let cases: &[(i128, i8, i128)] = &[
            (1_234_567, 6, 1_234_567),
            (1_234_567_500_000, 12, 1_234_568),
            (1_234_566_500_000, 12, 1_234_566),
            (125, 2, 1_250_000),
        ];
        for (value, scale, micros) in cases {
            assert_eq!(to_micros(*value, *scale), *micros, "{value} at {scale}");
        }
    }
}
