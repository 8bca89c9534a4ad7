//! Reports and named queries over the dataset, with attribution to teams.
//!
//! A report session has the dataset's tables plus `attribution` (team, cost center and end user
//! of every (identity, model_id, metadata the teams rules read) in the dataset, decided by
//! [`crate::attribution`]) and the views `charged_invocations` and `charged_daily_usage`
//! (`invocations` and `daily_usage` with `team`, `cost_center` and `end_user`). Named queries are
//! the `.sql` files in `queries/`, compiled into the binary; they take `$from_month` and
//! `$to_month`. Each is written once for both engines, in the SQL DataFusion and Athena share; a
//! query with no common form also has an Athena variant in `queries/athena/`.
//!
//! Every report but latency percentiles reads `daily_usage`, the requests summed per day
//! ([`crate::dataset::rollup`]), so it costs the same for a month of a thousand requests or of
//! ten million; percentiles need every request's latency and read `invocations`.

pub mod chargeback;
pub mod coverage;
pub mod html;
mod metadata;
mod values;

use std::sync::Arc;

use arrow::array::{RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::MemTable;
use datafusion::prelude::SessionContext;

use crate::attribution::{Request, TeamRules, attribute};
use crate::dataset::read::register_tables;
use crate::dataset::{Dataset, DatasetError, session_within};
use crate::normalize::ProfileMap;
use crate::query::{Engine, EngineKind, QueryError, QueryResult, run_on, run_statement};
use values::Columns;

/// Memory a report session may use before it spills. Reports read the rollups and need little;
/// a month whose rollup is stale is summed from its requests, and two aggregations of ten million
/// requests (that sum, then the report's own) outgrow the ingest's budget.
const REPORT_MEMORY_BYTES: usize = 2 << 30;

/// A query shipped in `queries/`.
#[derive(Clone, Copy, Debug)]
pub struct NamedQuery {
    pub name: &'static str,
    pub sql: &'static str,
    /// `queries/athena/<name>.sql`, for a query with no form common to both engines.
    pub athena_sql: Option<&'static str>,
}

impl NamedQuery {
    /// The text to run on `engine`.
    pub fn sql_for(&self, engine: EngineKind) -> &'static str {
        match (engine, self.athena_sql) {
            (EngineKind::Athena, Some(athena)) => athena,
            _ => self.sql,
        }
    }

    /// The first line of the file, without its `-- `.
    pub fn description(&self) -> &'static str {
        self.sql
            .lines()
            .next()
            .and_then(|line| line.strip_prefix("--"))
            .map_or("", str::trim)
    }
}

macro_rules! named_queries {
    ($($name:literal $(+ $athena:ident)?),* $(,)?) => {
        [$(NamedQuery {
            name: $name,
            sql: include_str!(concat!("../../queries/", $name, ".sql")),
            athena_sql: named_queries!(@athena $name $($athena)?),
        }),*]
    };
    (@athena $name:literal athena) => {
        Some(include_str!(concat!("../../queries/athena/", $name, ".sql")))
    };
    (@athena $name:literal) => {
        None
    };
}

/// Every named query, sorted by name; `+ athena` marks one with an Athena variant.
pub const NAMED_QUERIES: [NamedQuery; 9] = named_queries![
    "anomalies",
    "by_identity",
    "by_model",
    "cache_savings",
    "chargeback",
    "daily_trend",
    "error_rates",
    "latency" + athena,
    "top_spenders",
];

/// The named query called `name`.
pub fn named_query(name: &str) -> Option<NamedQuery> {
    NAMED_QUERIES.iter().copied().find(|q| q.name == name)
}

/// An inclusive range of months, `YYYY-MM`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthRange {
    pub from: String,
    pub to: String,
}

impl MonthRange {
    /// Every month (from the Unix epoch on: some queries turn months into timestamps).
    pub fn all() -> Self {
        MonthRange {
            from: "1970-01".to_owned(),
            to: "9999-12".to_owned(),
        }
    }

    /// One month; `month` must look like `YYYY-MM`.
    pub fn single(month: &str) -> Result<Self, String> {
        parse_month(month)?;
        Ok(MonthRange {
            from: month.to_owned(),
            to: month.to_owned(),
        })
    }
}

/// Checks a `YYYY-MM` month.
pub fn parse_month(text: &str) -> Result<String, String> {
    let valid = text.len() == 7
        && chrono::NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").is_ok();
    if valid {
        Ok(text.to_owned())
    } else {
        Err(format!("{text:?} is not a month (YYYY-MM)"))
    }
}

/// Opens the dataset with attribution: `invocations` (at `as_of`, or its newest version),
/// `daily_usage`, `rejects`, `ingested_objects`, `attribution`, `charged_invocations` and
/// `charged_daily_usage`. Returns the session and the version of `invocations` it reads.
///
/// `attribution` holds one row per distinct (identity, model id, value of each metadata key the
/// teams rules read) with its team, cost center and end user, read from `daily_usage` (every
/// key of the requests is there); the `charged_` views join it back, so attribution runs once
/// per distinct key, not per request.
pub async fn report_session(
    dataset: &Dataset,
    as_of: Option<u64>,
    teams: &TeamRules,
    profiles: &ProfileMap,
) -> Result<(SessionContext, u64), DatasetError> {
    // Files can be queried by path too (`SELECT * FROM 'report.parquet'`).
    let ctx = session_within(REPORT_MEMORY_BYTES)?.enable_url_table();
    ctx.register_udf(metadata::request_metadata_value());
    let (version, rollups) = register_tables(&ctx, dataset, as_of).await?;
    for rollup in rollups {
        tracing::info!(
            target: "rollup",
            rollup = rollup.rollup,
            from_rollup = ?rollup.from_rollup,
            from_requests = ?rollup.from_requests,
            "months read from the rollup, and months summed from the requests"
        );
    }
    let keys = teams.metadata_keys();
    let metadata_value = |column: &str, key: &str| {
        format!(
            "coalesce({}({column}, '{}'), '')",
            metadata::NAME,
            key.replace('\'', "''")
        )
    };
    let key_names: Vec<String> = (0..keys.len()).map(|k| format!("m{k}")).collect();
    let distinct =
        std::iter::once("coalesce(identity, '') AS identity".to_owned())
            .chain(std::iter::once(
                "coalesce(model_id, '') AS model_id".to_owned(),
            ))
            .chain(keys.iter().zip(&key_names).map(|(key, name)| {
                format!("{} AS {name}", metadata_value("request_metadata", key))
            }))
            .collect::<Vec<_>>()
            .join(", ");
    let pairs = run_statement(
        &ctx,
        &format!("SELECT DISTINCT {distinct} FROM daily_usage ORDER BY 1, 2"),
        &[],
    )
    .await?;
    let names: Vec<String> = ["identity", "model_id"]
        .into_iter()
        .map(str::to_owned)
        .chain(key_names.iter().cloned())
        .chain(["team", "cost_center", "end_user"].map(str::to_owned))
        .collect();
    let mut columns: Vec<Vec<String>> = vec![Vec::new(); names.len()];
    for batch in &pairs.batches {
        let batch = Columns::new(batch);
        for row in 0..batch.rows() {
            let key: Vec<String> = (0..2 + keys.len())
                .map(|column| batch.text(column, row).unwrap_or_default())
                .collect();
            let metadata: Vec<(&str, &str)> = keys
                .iter()
                .zip(&key[2..])
                .map(|(k, v)| (*k, v.as_str()))
                .collect();
            let charged = attribute(
                &Request {
                    identity: Some(key[0].as_str()).filter(|i| !i.is_empty()),
                    model_id: Some(key[1].as_str()).filter(|m| !m.is_empty()),
                    metadata: &metadata,
                },
                teams,
                profiles,
            );
            let values =
                key.into_iter()
                    .chain([charged.team, charged.cost_center, charged.end_user]);
            for (column, value) in columns.iter_mut().zip(values) {
                column.push(value);
            }
        }
    }
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|name| Field::new(name, DataType::Utf8, false))
            .collect::<Vec<_>>(),
    ));
    let arrays = columns
        .into_iter()
        .map(|values| Arc::new(StringArray::from(values)) as _)
        .collect();
    let attribution = RecordBatch::try_new(Arc::clone(&schema), arrays)?;
    ctx.register_table(
        "attribution",
        Arc::new(MemTable::try_new(schema, vec![vec![attribution]])?),
    )?;
    let metadata_join: String = keys
        .iter()
        .zip(&key_names)
        .map(|(key, name)| {
            format!(
                " AND {} = a.{name}",
                metadata_value("i.request_metadata", key)
            )
        })
        .collect();
    for (view, table) in [
        ("charged_invocations", "invocations"),
        ("charged_daily_usage", "daily_usage"),
    ] {
        ctx.sql(&format!(
            "CREATE VIEW {view} AS \
             SELECT i.*, a.team, a.cost_center, a.end_user FROM {table} i JOIN attribution a \
             ON coalesce(i.identity, '') = a.identity AND coalesce(i.model_id, '') = a.model_id\
             {metadata_join}"
        ))
        .await?;
    }
    Ok((ctx, version))
}

/// Runs a named query over `months` on `engine`.
pub async fn run_named(
    engine: &dyn Engine,
    query: NamedQuery,
    months: &MonthRange,
) -> Result<QueryResult, QueryError> {
    run_on(
        engine,
        query.sql_for(engine.kind()),
        &[("from_month", &months.from), ("to_month", &months.to)],
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_query_has_a_description() {
        for query in NAMED_QUERIES {
            assert!(query.description().len() > 20, "{}", query.name);
            for sql in [Some(query.sql), query.athena_sql].into_iter().flatten() {
                assert!(
                    sql.contains("$from_month") && sql.contains("$to_month"),
                    "{} takes the month range",
                    query.name
                );
            }
        }
        let mut names: Vec<&str> = NAMED_QUERIES.iter().map(|q| q.name).collect();
        names.sort();
        assert_eq!(names, NAMED_QUERIES.map(|q| q.name));
    }

    #[test]
    fn checks_months() {
        for good in ["2025-01", "2025-12", "1999-10"] {
            assert_eq!(parse_month(good).as_deref(), Ok(good));
        }
        for bad in ["2025-13", "2025-1", "25-10", "2025-10-01", "last-month", ""] {
            assert!(parse_month(bad).is_err(), "{bad}");
        }
    }
}
