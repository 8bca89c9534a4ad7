//! The monthly chargeback: one CSV row per (team, cost center, identity, end user, model) and a JSON
//! manifest that lets finance check it.
//!
//! Costs are summed exactly (12 decimals) and each row's cost rounded once, half to even, to the
//! micro-dollar. The manifest's total is the sum of the CSV rows as written (re-read from the
//! CSV bytes and checked), next to the exact total computed straight from the dataset and the
//! rounding difference between them, which is bounded by half a micro-dollar per row.

use std::cmp::Reverse;

use chrono::DateTime;
use serde::Serialize;

use super::values::Columns;
use super::{MonthRange, named_query, run_named};
use crate::pricing::{format_micros, round_to_micros, sha256_hex};
use crate::query::{Engine, QueryError, run_on};

/// The chargeback CSV header, in order.
pub const HEADER: [&str; 19] = [
    "month",
    "team",
    "cost_center",
    "identity",
    "end_user",
    "principal_type",
    "model",
    "requests",
    "failed_requests",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "input_cost_usd",
    "output_cost_usd",
    "cache_read_cost_usd",
    "cache_write_cost_usd",
    "total_cost_usd",
    "unpriced_requests",
];

/// Counts of a row or a total: requests, failed, four token kinds, unpriced requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub requests: i64,
    pub failed_requests: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
    pub unpriced_requests: i64,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.requests += other.requests;
        self.failed_requests += other.failed_requests;
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cache_read_tokens += other.cache_read_tokens;
        self.cache_write_tokens += other.cache_write_tokens;
        self.unpriced_requests += other.unpriced_requests;
    }
}

/// The cost columns: input, output, cache read, cache write, total.
pub type Costs = [i128; 5];

/// One line of the chargeback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChargebackRow {
    pub month: String,
    pub team: String,
    pub cost_center: String,
    pub identity: Option<String>,
    /// The person a gateway request was made for (a `metadata:` teams rule); empty otherwise.
    pub end_user: String,
    pub principal_type: String,
    pub model: Option<String>,
    pub counts: Counts,
    /// Exact costs in 10⁻¹² USD.
    pub exact: Costs,
    /// Costs rounded to micro-dollars, as printed.
    pub micros: Costs,
}

/// Unpriced usage of one model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnpricedModel {
    pub model: Option<String>,
    pub requests: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
}

/// Money in the manifest, as decimal strings (never floats).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Money {
    pub input_cost_usd: String,
    pub output_cost_usd: String,
    pub cache_read_cost_usd: String,
    pub cache_write_cost_usd: String,
    pub total_cost_usd: String,
}

impl Money {
    fn new(values: Costs, format: impl Fn(i128) -> String) -> Self {
        let [input, output, read, write, total] = values.map(format);
        Money {
            input_cost_usd: input,
            output_cost_usd: output,
            cache_read_cost_usd: read,
            cache_write_cost_usd: write,
            total_cost_usd: total,
        }
    }
}

/// What the manifest says about the data behind the month.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Coverage {
    pub first_event: Option<String>,
    pub last_event: Option<String>,
    /// Objects whose records are in the month.
    pub objects: i64,
    /// Rejected lines or objects in those objects.
    pub rejects: i64,
}

/// The manifest written beside the CSV.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Manifest {
    pub month: String,
    pub rows: usize,
    /// What the CSV bills: the sum of its rows.
    pub total_cost_usd: String,
    /// Totals computed straight from the dataset; costs exact, before any rounding.
    pub grand_totals: Counts,
    pub grand_totals_exact_usd: Money,
    /// The CSV re-read and summed.
    pub sum_of_rows: Counts,
    pub sum_of_rows_usd: Money,
    /// `sum_of_rows_usd.total_cost_usd` minus the exact grand total.
    pub rounding_difference_usd: String,
    pub unpriced_requests: i64,
    pub unpriced_by_model: Vec<UnpricedModel>,
    /// SHA-256 of the price book that priced the month (every row records it).
    pub price_book_sha256: Option<String>,
    /// The version of the `invocations` table the report read: `--as-of` it to reproduce it.
    pub table_version: u64,
    pub coverage: Coverage,
    pub csv_sha256: String,
}

/// A rendered chargeback.
#[derive(Clone, Debug)]
pub struct Chargeback {
    pub rows: Vec<ChargebackRow>,
    pub csv: Vec<u8>,
    pub manifest: Manifest,
}

/// Why a chargeback could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ChargebackError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("writing the CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("the chargeback does not add up: {0}")]
    Inconsistent(String),
}

/// Builds the chargeback of `month` on `engine` (a report session, or Athena).
pub async fn chargeback(
    engine: &dyn Engine,
    table_version: u64,
    month: &str,
) -> Result<Chargeback, ChargebackError> {
    let months = MonthRange::single(month).map_err(ChargebackError::Inconsistent)?;
    let query = named_query("chargeback").expect("the chargeback query ships with the binary");
    let result = run_named(engine, query, &months).await?;
    let mut rows = Vec::new();
    for batch in &result.batches {
        let c = Columns::new(batch);
        for row in 0..c.rows() {
            let exact = [13, 14, 15, 16, 17].map(|i| c.decimal(i, row));
            rows.push(ChargebackRow {
                month: c.text(0, row).unwrap_or_default(),
                team: c.text(1, row).unwrap_or_default(),
                cost_center: c.text(2, row).unwrap_or_default(),
                identity: c.text(3, row),
                end_user: c.text(4, row).unwrap_or_default(),
                principal_type: c.text(5, row).unwrap_or_default(),
                model: c.text(6, row),
                counts: Counts {
                    requests: c.integer(7, row),
                    failed_requests: c.integer(8, row),
                    input_tokens: c.integer(9, row),
                    output_tokens: c.integer(10, row),
                    cache_read_tokens: c.integer(11, row),
                    cache_write_tokens: c.integer(12, row),
                    unpriced_requests: c.integer(18, row),
                },
                exact,
                micros: exact.map(round_to_micros),
            });
        }
    }
    sort_rows(&mut rows);
    let csv = render_csv(&rows)?;
    let manifest = manifest(engine, table_version, month, &rows, &csv).await?;
    Ok(Chargeback {
        rows,
        csv,
        manifest,
    })
}

/// Total cost (as printed) descending, then the key columns; a missing identity or model last.
pub fn sort_rows(rows: &mut [ChargebackRow]) {
    rows.sort_by(|a, b| {
        let key = |r: &ChargebackRow| {
            (
                Reverse(r.micros[4]),
                r.team.clone(),
                r.cost_center.clone(),
                (r.identity.is_none(), r.identity.clone()),
                r.end_user.clone(),
                (r.model.is_none(), r.model.clone()),
            )
        };
        key(a).cmp(&key(b))
    });
}

/// Renders rows as RFC 4180 CSV with the [`HEADER`].
pub fn render_csv(rows: &[ChargebackRow]) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    writer.write_record(HEADER)?;
    for row in rows {
        let c = &row.counts;
        let mut record = vec![
            row.month.clone(),
            row.team.clone(),
            row.cost_center.clone(),
            row.identity.clone().unwrap_or_default(),
            row.end_user.clone(),
            row.principal_type.clone(),
            row.model.clone().unwrap_or_default(),
        ];
        record.extend(
            [
                c.requests,
                c.failed_requests,
                c.input_tokens,
                c.output_tokens,
                c.cache_read_tokens,
                c.cache_write_tokens,
            ]
            .map(|n| n.to_string()),
        );
        record.extend(row.micros.map(format_micros));
        record.push(c.unpriced_requests.to_string());
        writer.write_record(&record)?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

/// Re-reads a rendered CSV and sums its columns: what the manifest's `sum_of_rows` says.
pub fn sum_csv(csv: &[u8]) -> Result<(Counts, Costs), ChargebackError> {
    let mut reader = csv::Reader::from_reader(csv);
    let mut counts = Counts::default();
    let mut costs: Costs = [0; 5];
    let bad =
        |what: &str| ChargebackError::Inconsistent(format!("unreadable {what} in the written CSV"));
    for record in reader.records() {
        let record = record?;
        let integer = |i: usize| {
            record
                .get(i)
                .and_then(|v| v.parse::<i64>().ok())
                .ok_or_else(|| bad(HEADER[i]))
        };
        counts.add(&Counts {
            requests: integer(7)?,
            failed_requests: integer(8)?,
            input_tokens: integer(9)?,
            output_tokens: integer(10)?,
            cache_read_tokens: integer(11)?,
            cache_write_tokens: integer(12)?,
            unpriced_requests: integer(18)?,
        });
        for (slot, column) in costs.iter_mut().zip(13..18) {
            let text = record.get(column).unwrap_or_default();
            let (whole, fraction) = text.split_once('.').ok_or_else(|| bad(HEADER[column]))?;
            let micros: i128 = format!("{whole}{fraction}")
                .parse()
                .map_err(|_| bad(HEADER[column]))?;
            *slot += micros;
        }
    }
    Ok((counts, costs))
}

// The statements behind the manifest, in `sql/` so that the Athena SQL check reads them too:
// they run on whichever engine builds the chargeback.
const GRAND_TOTALS_SQL: &str = include_str!("sql/grand_totals.sql");
const UNPRICED_SQL: &str = include_str!("sql/unpriced.sql");
const SOURCES_SQL: &str = include_str!("sql/sources.sql");

async fn manifest(
    engine: &dyn Engine,
    table_version: u64,
    month: &str,
    rows: &[ChargebackRow],
    csv: &[u8],
) -> Result<Manifest, ChargebackError> {
    let params = [("month", month)];
    let totals = run_on(engine, GRAND_TOTALS_SQL, &params).await?;
    let t = Columns::new(&totals.batches[0]);
    let grand_totals = Counts {
        requests: t.integer(0, 0),
        failed_requests: t.integer(1, 0),
        input_tokens: t.integer(2, 0),
        output_tokens: t.integer(3, 0),
        cache_read_tokens: t.integer(4, 0),
        cache_write_tokens: t.integer(5, 0),
        unpriced_requests: t.integer(6, 0),
    };
    let exact: Costs = [7, 8, 9, 10, 11].map(|i| t.decimal(i, 0));
    let time = |i: usize| {
        t.timestamp_ms(i, 0)
            .and_then(DateTime::from_timestamp_millis)
            .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    };
    let sources = run_on(engine, SOURCES_SQL, &params).await?;
    let sources = Columns::new(&sources.batches[0]);
    let coverage = Coverage {
        first_event: time(12),
        last_event: time(13),
        objects: sources.integer(0, 0),
        rejects: sources.integer(1, 0),
    };

    let (sum_of_rows, sum_micros) = sum_csv(csv)?;
    if sum_of_rows != grand_totals {
        return Err(ChargebackError::Inconsistent(format!(
            "rows sum to {sum_of_rows:?}, the dataset holds {grand_totals:?}"
        )));
    }
    let rounded_total_picos = sum_micros[4] * 1_000_000;
    let rounding_difference = rounded_total_picos - exact[4];
    let bound = rows.len() as i128 * 500_000;
    if rounding_difference.abs() > bound {
        return Err(ChargebackError::Inconsistent(format!(
            "rows total {} but the exact total is {}",
            format_micros(sum_micros[4]),
            format_picos(exact[4])
        )));
    }

    let unpriced = run_on(engine, UNPRICED_SQL, &params).await?;
    let mut unpriced_by_model = Vec::new();
    for batch in &unpriced.batches {
        let u = Columns::new(batch);
        for row in 0..u.rows() {
            unpriced_by_model.push(UnpricedModel {
                model: u.text(0, row),
                requests: u.integer(1, row),
                input_tokens: u.integer(2, row),
                output_tokens: u.integer(3, row),
                cache_read_tokens: u.integer(4, row),
                cache_write_tokens: u.integer(5, row),
            });
        }
    }

    Ok(Manifest {
        month: month.to_owned(),
        rows: rows.len(),
        total_cost_usd: format_micros(sum_micros[4]),
        grand_totals,
        grand_totals_exact_usd: Money::new(exact, format_picos),
        sum_of_rows,
        sum_of_rows_usd: Money::new(sum_micros, format_micros),
        rounding_difference_usd: format_picos(rounding_difference),
        unpriced_requests: grand_totals.unpriced_requests,
        unpriced_by_model,
        price_book_sha256: month_price_book(engine, month).await?,
        table_version,
        coverage,
        csv_sha256: sha256_hex(csv),
    })
}

const PRICE_BOOKS_SQL: &str = include_str!("sql/price_books.sql");

/// The price book that priced `month` (`None` when the month is empty). A month priced with
/// several books cannot be reported: its rows would not add up to one price list.
pub async fn month_price_book(
    engine: &dyn Engine,
    month: &str,
) -> Result<Option<String>, ChargebackError> {
    let books = run_on(engine, PRICE_BOOKS_SQL, &[("month", month)]).await?;
    let mut found = Vec::new();
    for batch in &books.batches {
        let c = Columns::new(batch);
        found.extend((0..c.rows()).filter_map(|row| c.text(0, row)));
    }
    match found.len() {
        0 | 1 => Ok(found.pop()),
        _ => Err(ChargebackError::Inconsistent(format!(
            "{month} holds rows priced with {} price books ({}); run `bedrock-ledger reprice`",
            found.len(),
            found.join(", ")
        ))),
    }
}

/// Formats 10⁻¹² USD with 12 decimals.
pub fn format_picos(picos: i128) -> String {
    let sign = if picos < 0 { "-" } else { "" };
    let abs = picos.unsigned_abs();
    format!(
        "{sign}{}.{:012}",
        abs / 1_000_000_000_000,
        abs % 1_000_000_000_000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        team: &str,
        identity: Option<&str>,
        model: Option<&str>,
        exact_total: i128,
    ) -> ChargebackRow {
        let exact = [exact_total, 0, 0, 0, exact_total];
        ChargebackRow {
            month: "2025-10".into(),
            team: team.into(),
            cost_center: "CC-1".into(),
            identity: identity.map(Into::into),
            end_user: String::new(),
            principal_type: "user".into(),
            model: model.map(Into::into),
            counts: Counts {
                requests: 2,
                input_tokens: 10,
                unpriced_requests: 1,
                ..Counts::default()
            },
            exact,
            micros: exact.map(round_to_micros),
        }
    }

    #[test]
    fn sorts_by_printed_total_then_keys() {
        let mut rows = vec![
            row("web", Some("b"), Some("m"), 1_400_000),
            row("web", None, Some("m"), 5_000_000),
            row("ads", Some("a"), Some("m"), 1_100_000),
            row("web", Some("a"), None, 5_000_000),
            row("web", Some("a"), Some("m"), 5_000_000),
        ];
        sort_rows(&mut rows);
        let order: Vec<(&str, Option<&str>, Option<&str>)> = rows
            .iter()
            .map(|r| (r.team.as_str(), r.identity.as_deref(), r.model.as_deref()))
            .collect();
        assert_eq!(
            order,
            [
                ("web", Some("a"), Some("m")),
                ("web", Some("a"), None),
                ("web", None, Some("m")),
                ("ads", Some("a"), Some("m")),
                ("web", Some("b"), Some("m")),
            ]
        );
    }

    #[test]
    fn renders_rfc4180_and_sums_back() {
        let rows = vec![
            row(
                "web, ads",
                Some("arn:aws:iam::1:user/\"q\""),
                Some("m"),
                2_500_000,
            ),
            row("web", None, None, 123_456_789_500_000),
        ];
        let csv = render_csv(&rows).unwrap();
        let text = String::from_utf8(csv.clone()).unwrap();
        assert_eq!(
            text,
            "month,team,cost_center,identity,end_user,principal_type,model,requests,failed_requests,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,input_cost_usd,output_cost_usd,cache_read_cost_usd,cache_write_cost_usd,total_cost_usd,unpriced_requests\r\n\
             2025-10,\"web, ads\",CC-1,\"arn:aws:iam::1:user/\"\"q\"\"\",,user,m,2,0,10,0,0,0,0.000002,0.000000,0.000000,0.000000,0.000002,1\r\n\
             2025-10,web,CC-1,,,user,,2,0,10,0,0,0,123.456790,0.000000,0.000000,0.000000,123.456790,1\r\n"
        );
        let (counts, costs) = sum_csv(&csv).unwrap();
        assert_eq!(
            counts,
            Counts {
                requests: 4,
                input_tokens: 20,
                unpriced_requests: 2,
                ..Counts::default()
            }
        );
        assert_eq!(costs, [123_456_792, 0, 0, 0, 123_456_792]);
    }

    #[test]
    fn formats_exact_picodollars() {
        let cases: &[(i128, &str)] = &[
            (0, "0.000000000000"),
            (28_726_500_000, "0.028726500000"),
            (1_000_000_000_000, "1.000000000000"),
            (-1, "-0.000000000001"),
        ];
        for (picos, text) in cases {
            assert_eq!(format_picos(*picos), *text);
        }
    }
}
