//! The rollups: small tables summed from `invocations` that reports read instead of the request
//! table, so a month of ten million requests is tens of thousands of rows to them; analysts keep
//! the request table.
//!
//! ```text
//! <root>/daily_usage/         per UTC day and every column a report groups or filters by
//!                             (identity, model, scope, region, error, price status, request
//!                             metadata, ...): requests, tokens, exact decimal costs, latency sums
//! <root>/latency_histogram/   per month, model and latency in ms: how many requests took it
//!                             (the exact distribution `latency` takes percentiles of)
//! ```
//!
//! Both are partitioned by `month`, like `invocations`, and both are exact: every figure a report
//! takes from a rollup equals the one it would compute from the requests.
//!
//! Delta commits one table at a time, so a rollup cannot change in the commit that changes its
//! month. Instead every rollup row records what it summarizes: `summarized_version`, the
//! `invocations` version it was computed at, and `summarized_files`, the SHA-256 of the sorted
//! paths of the month's data files at that version. A month's rollup is *current* for a
//! snapshot of `invocations` when the rows of its newest `summarized_version` carry the
//! fingerprint of the snapshot's files of that month. Reports read the rollup of current months
//! and sum the request table, with the same query, for every other month ([`read`]), so a stale
//! or missing rollup (a run that died after its month commit, a `--as-of` report, a dataset
//! older than the rollups) costs time, never correctness.
//!
//! After its commits to months a writer brings those months' rollups up to date ([`refresh`]),
//! in one commit per rollup for all of them: a month that only gained files (a nightly insert)
//! gets the sums of just its new files appended; a month whose files were rewritten (a merge
//! replaced copies, a reprice, a compaction) is summed again whole.

pub mod read;
pub mod refresh;

use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use super::Table;
use crate::rows::schema::{MONTH, money_type};

pub use read::{RollupUse, register_rollups};
pub use refresh::{Refresh, refresh_month, refresh_months};

/// The name of the rollup of requests per day, in a report session and in Athena.
pub const DAILY_USAGE: &str = "daily_usage";
/// The name of the rollup of latencies.
pub const LATENCY_HISTOGRAM: &str = "latency_histogram";

/// The `invocations` version a row was computed at.
const SUMMARIZED_VERSION: &str = "summarized_version";
/// The fingerprint of the month's files at that version.
const SUMMARIZED_FILES: &str = "summarized_files";

/// One of the rollups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rollup {
    DailyUsage,
    LatencyHistogram,
}

impl Rollup {
    /// Every rollup.
    pub const ALL: [Rollup; 2] = [Rollup::DailyUsage, Rollup::LatencyHistogram];

    /// The table that stores it.
    pub fn table(self) -> Table {
        match self {
            Rollup::DailyUsage => Table::DailyUsage,
            Rollup::LatencyHistogram => Table::LatencyHistogram,
        }
    }

    /// Its name: the stored table's directory, and the view reports read.
    pub fn name(self) -> &'static str {
        match self {
            Rollup::DailyUsage => DAILY_USAGE,
            Rollup::LatencyHistogram => LATENCY_HISTOGRAM,
        }
    }

    /// The query that sums `invocations` into the rollup's rows, without the provenance
    /// columns, in the SQL DataFusion and Athena share.
    fn select(self) -> String {
        match self {
            Rollup::DailyUsage => daily_usage_select("invocations", &[]),
            Rollup::LatencyHistogram => without_header(LATENCY_HISTOGRAM_SELECT).to_owned(),
        }
    }

    /// The stored table's columns: those of [`Rollup::select`], then the provenance columns.
    /// Delta keeps timestamps in microseconds.
    pub fn schema(self) -> SchemaRef {
        match self {
            Rollup::DailyUsage => Arc::clone(&DAILY_USAGE_SCHEMA),
            Rollup::LatencyHistogram => Arc::clone(&LATENCY_HISTOGRAM_SCHEMA),
        }
    }
}

const DAILY_USAGE_SELECT: &str = include_str!("daily_usage.sql");
const LATENCY_HISTOGRAM_SELECT: &str = include_str!("latency_histogram.sql");

/// A query file without the comment lines that open it.
fn without_header(sql: &str) -> &str {
    let mut rest = sql;
    while rest.starts_with("--") {
        rest = rest.split_once('\n').map_or("", |(_, after)| after);
    }
    rest
}

/// The `daily_usage` query over `source` (a table or view with the columns of `invocations`),
/// grouped by `extra_keys` too, which follow the other keys. The query groups by the keys'
/// positions, so the extra keys are grouped by the positions after them.
pub fn daily_usage_select(source: &str, extra_keys: &[&str]) -> String {
    let (select, group_by) = without_header(DAILY_USAGE_SELECT)
        .split_once("\nGROUP BY ")
        .expect("the rollup's query groups");
    let group_by = group_by.trim_end();
    let last_key: usize = group_by
        .rsplit(", ")
        .next()
        .and_then(|last| last.parse().ok())
        .expect("the rollup's query groups by positions");
    let keys: String = extra_keys.iter().map(|k| format!("  {k},\n")).collect();
    let select = select
        .replacen(
            "  count(*) AS requests,",
            &format!("{keys}  count(*) AS requests,"),
            1,
        )
        .replacen("FROM invocations", &format!("FROM {source}"), 1);
    let extra_group: String = (1..=extra_keys.len())
        .map(|k| format!(", {}", last_key + k))
        .collect();
    format!("{select}\nGROUP BY {group_by}{extra_group}\n")
}

fn provenance() -> [Field; 2] {
    [
        Field::new(SUMMARIZED_VERSION, DataType::Int64, false),
        Field::new(SUMMARIZED_FILES, DataType::Utf8, false),
    ]
}

static DAILY_USAGE_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let text = |name: &str| Field::new(name, DataType::Utf8, true);
    let count = |name: &str| Field::new(name, DataType::Int64, false);
    let sum = |name: &str| Field::new(name, DataType::Int64, true);
    let money = |name: &str| Field::new(name, money_type(), true);
    let time = |name: &str| {
        Field::new(
            name,
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        )
    };
    let mut fields = vec![
        Field::new(MONTH, DataType::Utf8, false),
        Field::new("day", DataType::Date32, true),
    ];
    fields.extend(
        [
            "account_id",
            "region",
            "model_id",
            "model",
            "inference_scope",
            "service_tier",
            "identity",
            "principal_type",
            "request_metadata",
            "error_code",
            "price_status",
            "price_book_sha256",
        ]
        .map(text),
    );
    fields.extend(["requests", "failed_requests"].map(count));
    fields.extend(
        [
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
            "cache_write_1h_tokens",
        ]
        .map(sum),
    );
    fields.extend(
        [
            "input_cost_usd",
            "output_cost_usd",
            "cache_read_cost_usd",
            "cache_write_cost_usd",
            "cost_usd",
            "cache_read_savings_usd",
        ]
        .map(money),
    );
    fields.extend([
        sum("latency_ms_sum"),
        count("latency_ms_count"),
        sum("first_byte_latency_ms_sum"),
        count("first_byte_latency_ms_count"),
        time("first_timestamp"),
        time("last_timestamp"),
    ]);
    fields.extend(provenance());
    Arc::new(Schema::new(fields))
});

static LATENCY_HISTOGRAM_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields = vec![
        Field::new(MONTH, DataType::Utf8, false),
        Field::new("model", DataType::Utf8, true),
        Field::new("measure", DataType::Utf8, false),
        Field::new("value_ms", DataType::Int64, true),
        Field::new("requests", DataType::Int64, false),
    ];
    fields.extend(provenance());
    Arc::new(Schema::new(fields))
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daily_query_takes_another_source_and_more_keys() {
        let plain = daily_usage_select("invocations", &[]);
        assert!(plain.starts_with("SELECT\n  month,\n"), "{plain}");
        assert!(
            DAILY_USAGE_SELECT.trim_end().ends_with(plain.trim_end()),
            "{plain}"
        );
        let charged = daily_usage_select("\"db\".\"charged_invocations\"", &["team", "end_user"]);
        assert!(
            charged.contains("  price_book_sha256,\n  team,\n  end_user,\n  count(*) AS requests,"),
            "{charged}"
        );
        assert!(
            charged.ends_with(
                "FROM \"db\".\"charged_invocations\"\nGROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16\n"
            ),
            "{charged}"
        );
    }

    #[test]
    fn drops_only_the_opening_comments() {
        for (sql, body) in [
            ("-- a\n-- b\nSELECT 1 -- c\n", "SELECT 1 -- c\n"),
            ("SELECT 1\n-- c\n", "SELECT 1\n-- c\n"),
            ("-- only", ""),
        ] {
            assert_eq!(without_header(sql), body);
        }
        for rollup in Rollup::ALL {
            assert!(rollup.select().starts_with("SELECT"), "{rollup:?}");
        }
    }
}
