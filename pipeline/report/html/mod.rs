//! The monthly report for finance and team leads: one self-contained HTML page (inline CSS and
//! SVG charts, no script, nothing fetched) that prints on A4.
//!
//! Every amount about spend comes from the month's chargeback rows, summed exactly in
//! micro-dollars, so the page and the CSV agree figure by figure; each amount carries its exact
//! value (`data-usd`) beside the cents it shows. The other sections (spend per day, per model and
//! scope, cache savings, anomalies, latency) are the named queries of `queries/`, run on the same
//! engine. The page is a minijinja template (`report.html`), autoescaped.

mod charts;
pub mod figures;
mod tables;

use std::collections::BTreeMap;

use chrono::{Months, NaiveDate};
use serde::Serialize;

use super::chargeback::{Chargeback, ChargebackError, ChargebackRow, Manifest, chargeback};
use super::{MonthRange, named_query, run_named};
use crate::query::{Engine, QueryError};
use charts::{ChartError, daily_bars, horizontal_bars};
use figures::{Figure, count_text, percent_text};
use tables::Table;

/// How many identities the report names; the rest are summed in one line.
const TOP_IDENTITIES: usize = 10;

/// Why the report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum HtmlError {
    #[error(transparent)]
    Chargeback(#[from] ChargebackError),
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error(transparent)]
    Chart(#[from] ChartError),
    #[error("rendering the page: {0:#}")]
    Template(#[from] minijinja::Error),
    #[error("{0}")]
    Month(String),
}

/// Everything the page shows, in the template's terms.
#[derive(Debug, Serialize)]
pub struct MonthlyReport {
    pub month: String,
    pub version: &'static str,
    pub total: Figure,
    pub previous: Option<PreviousMonth>,
    pub requests: String,
    pub failed_requests: String,
    pub tokens: Vec<(String, String)>,
    pub teams: Vec<ShareRow>,
    pub cost_centers: Vec<ShareRow>,
    pub identities: Vec<ShareRow>,
    /// Spend of the identities after the top ones, when there are more.
    pub other_identities: Option<ShareRow>,
    pub models: Vec<ModelRow>,
    pub by_scope: Table,
    pub cache: Table,
    pub cache_savings: Figure,
    pub unpriced_requests: i64,
    pub unpriced: Vec<UnpricedRow>,
    pub anomalies: Table,
    pub latency: Table,
    pub charts: Charts,
    pub manifest: Manifest,
}

/// Last month's total, for the change.
#[derive(Debug, Serialize)]
pub struct PreviousMonth {
    pub month: String,
    pub total: Figure,
    /// `+12.5%`, or empty when last month billed nothing.
    pub change: String,
}

/// One line of a breakdown: who, what they spent, their share of the month.
#[derive(Debug, Serialize)]
pub struct ShareRow {
    pub label: String,
    pub detail: String,
    pub requests: String,
    pub cost: Figure,
    pub share: String,
}

/// Spend and tokens of one model.
#[derive(Debug, Serialize)]
pub struct ModelRow {
    pub model: String,
    pub requests: String,
    pub input_tokens: String,
    pub output_tokens: String,
    pub cache_read_tokens: String,
    pub cache_write_tokens: String,
    pub cost: Figure,
    pub share: String,
}

/// Usage no price covers.
#[derive(Debug, Serialize)]
pub struct UnpricedRow {
    pub model: String,
    pub requests: String,
    pub tokens: String,
}

/// The charts, as inline SVG.
#[derive(Debug, Serialize)]
pub struct Charts {
    pub daily: String,
    pub teams: String,
    pub models: String,
}

/// Gathers the report of the month of `current` (its chargeback, already built on `engine`,
/// which the page's amounts are summed from): last month's chargeback and the named queries
/// run on the same engine and table version.
pub async fn monthly_report(
    engine: &dyn Engine,
    current: &Chargeback,
) -> Result<MonthlyReport, HtmlError> {
    let month = current.manifest.month.as_str();
    let table_version = current.manifest.table_version;
    let previous_month = previous_month(month)?;
    let previous = chargeback(engine, table_version, &previous_month).await?;
    let months = MonthRange::single(month).map_err(HtmlError::Month)?;
    let query = async |name: &str| {
        let query = named_query(name).expect("the report's queries ship with the binary");
        run_named(engine, query, &months).await
    };
    let daily = query("daily_trend").await?;
    let by_scope = query("by_model").await?;
    let cache = query("cache_savings").await?;
    let anomalies = query("anomalies").await?;
    let latency = query("latency").await?;

    let rows = &current.rows;
    let total = total_micros(rows);
    let teams = breakdown(rows, total, "team", |r| {
        (r.team.clone(), Some(r.cost_center.clone()))
    });
    let cost_centers = breakdown(rows, total, "cost_center", |r| {
        (r.cost_center.clone(), None)
    });
    let mut identities = breakdown(rows, total, "identity", |r| {
        (
            r.identity.clone().unwrap_or_default(),
            Some(r.end_user.clone()),
        )
    });
    let other_identities = (identities.len() > TOP_IDENTITIES).then(|| {
        let rest = identities.split_off(TOP_IDENTITIES);
        let micros: i128 = rest.iter().map(|r| r.micros).sum();
        let requests: i64 = rest.iter().map(|r| r.requests).sum();
        ShareRow {
            label: format!("{} other identities", rest.len()),
            detail: String::new(),
            requests: count_text(requests),
            cost: Figure::new("identity:(others)", micros),
            share: percent_text(micros, total),
        }
    });
    let models = models(rows, total);
    let cache_savings = tables::column_micros(&cache, "cache_read_savings_usd");
    let days = daily_spend(&daily, month)?;

    let charts = Charts {
        daily: daily_bars(&format!("Spend per day, {month} (UTC)"), &days)?,
        teams: horizontal_bars(
            "Spend by team",
            &teams
                .iter()
                .map(|t| (t.label.clone(), t.micros))
                .collect::<Vec<_>>(),
        )?,
        models: horizontal_bars(
            "Spend by model",
            &models
                .iter()
                .map(|m| (m.model.clone(), m.micros))
                .collect::<Vec<_>>(),
        )?,
    };
    let counts = current.manifest.sum_of_rows;
    Ok(MonthlyReport {
        month: month.to_owned(),
        version: env!("CARGO_PKG_VERSION"),
        total: Figure::new("total", total),
        previous: previous_total(&previous, &previous_month, total),
        requests: count_text(counts.requests),
        failed_requests: count_text(counts.failed_requests),
        tokens: vec![
            ("Input".to_owned(), count_text(counts.input_tokens)),
            ("Output".to_owned(), count_text(counts.output_tokens)),
            (
                "Cache read".to_owned(),
                count_text(counts.cache_read_tokens),
            ),
            (
                "Cache write".to_owned(),
                count_text(counts.cache_write_tokens),
            ),
        ],
        teams: teams.into_iter().map(Share::into_row).collect(),
        cost_centers: cost_centers.into_iter().map(Share::into_row).collect(),
        identities: identities.into_iter().map(Share::into_row).collect(),
        other_identities,
        models: models.into_iter().map(|m| m.row).collect(),
        by_scope: Table::from_result(&by_scope, &["month", "identities", "latency_mean_ms"]),
        cache: Table::from_result(&cache, &[]),
        cache_savings: Figure::new("cache_savings", cache_savings),
        unpriced_requests: current.manifest.unpriced_requests,
        unpriced: current
            .manifest
            .unpriced_by_model
            .iter()
            .map(|u| UnpricedRow {
                model: u.model.clone().unwrap_or_else(|| "(no model)".to_owned()),
                requests: count_text(u.requests),
                tokens: count_text(
                    u.input_tokens + u.output_tokens + u.cache_read_tokens + u.cache_write_tokens,
                ),
            })
            .collect(),
        anomalies: Table::from_result(&anomalies, &[]),
        latency: Table::from_result(
            &latency,
            &[
                "month",
                "timed_requests",
                "streamed_requests",
                "latency_mean_ms",
                "first_byte_mean_ms",
            ],
        ),
        charts,
        manifest: current.manifest.clone(),
    })
}

/// Renders the page.
pub fn render(report: &MonthlyReport) -> Result<String, HtmlError> {
    let mut env = minijinja::Environment::new();
    env.add_template("report.html", include_str!("report.html"))?;
    Ok(env.get_template("report.html")?.render(report)?)
}

/// The month before `month` (`YYYY-MM`).
fn previous_month(month: &str) -> Result<String, HtmlError> {
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .map_err(|_| HtmlError::Month(format!("{month:?} is not a month (YYYY-MM)")))?;
    let previous = first - Months::new(1);
    Ok(previous.format("%Y-%m").to_string())
}

fn previous_total(previous: &Chargeback, month: &str, total: i128) -> Option<PreviousMonth> {
    if previous.rows.is_empty() {
        return None;
    }
    let before = total_micros(&previous.rows);
    Some(PreviousMonth {
        month: month.to_owned(),
        total: Figure::new("previous_total", before),
        change: if before == 0 {
            String::new()
        } else {
            let change = percent_text(total - before, before);
            if total >= before {
                format!("+{change}")
            } else {
                change
            }
        },
    })
}

/// What the CSV bills: the sum of its rows' totals, as printed.
fn total_micros(rows: &[ChargebackRow]) -> i128 {
    rows.iter().map(|r| r.micros[4]).sum()
}

/// A breakdown line before formatting.
struct Share {
    key: String,
    label: String,
    detail: String,
    requests: i64,
    micros: i128,
    total: i128,
}

impl Share {
    fn into_row(self) -> ShareRow {
        ShareRow {
            cost: Figure::new(self.key, self.micros),
            share: percent_text(self.micros, self.total),
            requests: count_text(self.requests),
            label: self.label,
            detail: self.detail,
        }
    }
}

/// Sums the rows per `(label, detail)`; largest spend first, then by name. The figure's key
/// is `kind:label|detail`, or `kind:label` when there is no detail.
fn breakdown(
    rows: &[ChargebackRow],
    total: i128,
    kind: &str,
    key: impl Fn(&ChargebackRow) -> (String, Option<String>),
) -> Vec<Share> {
    let mut sums: BTreeMap<(String, Option<String>), (i64, i128)> = BTreeMap::new();
    for row in rows {
        let sum = sums.entry(key(row)).or_default();
        sum.0 += row.counts.requests;
        sum.1 += row.micros[4];
    }
    let mut shares: Vec<Share> = sums
        .into_iter()
        .map(|((label, detail), (requests, micros))| Share {
            key: match &detail {
                Some(detail) => format!("{kind}:{label}|{detail}"),
                None => format!("{kind}:{label}"),
            },
            label,
            detail: detail.unwrap_or_default(),
            requests,
            micros,
            total,
        })
        .collect();
    shares.sort_by(|a, b| b.micros.cmp(&a.micros).then_with(|| a.key.cmp(&b.key)));
    shares
}

struct ModelShare {
    model: String,
    micros: i128,
    row: ModelRow,
}

/// Spend and tokens per model, largest spend first.
fn models(rows: &[ChargebackRow], total: i128) -> Vec<ModelShare> {
    let mut sums: BTreeMap<String, (super::chargeback::Counts, i128)> = BTreeMap::new();
    for row in rows {
        let model = row.model.clone().unwrap_or_else(|| "(no model)".to_owned());
        let sum = sums.entry(model).or_default();
        let c = &row.counts;
        sum.0.requests += c.requests;
        sum.0.input_tokens += c.input_tokens;
        sum.0.output_tokens += c.output_tokens;
        sum.0.cache_read_tokens += c.cache_read_tokens;
        sum.0.cache_write_tokens += c.cache_write_tokens;
        sum.1 += row.micros[4];
    }
    let mut models: Vec<ModelShare> = sums
        .into_iter()
        .map(|(model, (c, micros))| ModelShare {
            row: ModelRow {
                model: model.clone(),
                requests: count_text(c.requests),
                input_tokens: count_text(c.input_tokens),
                output_tokens: count_text(c.output_tokens),
                cache_read_tokens: count_text(c.cache_read_tokens),
                cache_write_tokens: count_text(c.cache_write_tokens),
                cost: Figure::new(format!("model:{model}"), micros),
                share: percent_text(micros, total),
            },
            model,
            micros,
        })
        .collect();
    models.sort_by(|a, b| b.micros.cmp(&a.micros).then_with(|| a.model.cmp(&b.model)));
    models
}

/// Spend of every day of the month (zero on days without requests), from `daily_trend`.
fn daily_spend(daily: &crate::query::QueryResult, month: &str) -> Result<Vec<i128>, HtmlError> {
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .map_err(|_| HtmlError::Month(format!("{month:?} is not a month (YYYY-MM)")))?;
    let days = (first + Months::new(1) - first).num_days() as usize;
    let mut spend = vec![0; days];
    for (day, micros) in tables::daily_micros(daily, "day", "cost_usd") {
        let index = (day - first).num_days();
        if let Some(slot) = usize::try_from(index).ok().and_then(|i| spend.get_mut(i)) {
            *slot += micros;
        }
    }
    Ok(spend)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_month_before() {
        let cases = [
            ("2026-10", "2026-09"),
            ("2026-01", "2025-12"),
            ("2024-03", "2024-02"),
        ];
        for (month, before) in cases {
            assert_eq!(previous_month(month).unwrap(), before);
        }
        assert!(previous_month("2026-13").is_err());
    }
}
