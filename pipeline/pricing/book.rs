//! The price book: a CSV finance can read and edit, validated whole before anything is priced.
//!
//! ```text
//! model,scope,region,effective_from,input,output,cache_read,cache_write_5m,cache_write_1h,
//! long_context_threshold,lc_input,lc_output,lc_cache_read,lc_cache_write_5m,lc_cache_write_1h
//! ```
//! Rates are decimal USD per 1,000,000 tokens, kept as integers of 10⁻⁶ USD per million tokens
//! (at most 6 decimals), so that `tokens × rate` is an exact count of 10⁻¹² USD. Other columns
//! (`source`, `note`, ...) are allowed and ignored.

use std::collections::HashMap;

use chrono::NaiveDate;

/// The columns a price book must have, in the documented order.
pub const PRICE_COLUMNS: [&str; 15] = [
    "model",
    "scope",
    "region",
    "effective_from",
    "input",
    "output",
    "cache_read",
    "cache_write_5m",
    "cache_write_1h",
    "long_context_threshold",
    "lc_input",
    "lc_output",
    "lc_cache_read",
    "lc_cache_write_5m",
    "lc_cache_write_1h",
];

/// Decimal places a rate may have.
pub const RATE_SCALE: u32 = 6;

/// A `scope` or `region` cell: one value, or `*` for any.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Selector {
    Exact(String),
    Any,
}

impl Selector {
    fn parse(cell: &str) -> Selector {
        if cell == "*" {
            Selector::Any
        } else {
            Selector::Exact(cell.to_owned())
        }
    }

    fn matches(&self, value: &str) -> bool {
        match self {
            Selector::Exact(exact) => exact == value,
            Selector::Any => true,
        }
    }

    fn is_exact(&self) -> bool {
        matches!(self, Selector::Exact(_))
    }

    /// The cell as written.
    pub fn as_str(&self) -> &str {
        match self {
            Selector::Exact(exact) => exact,
            Selector::Any => "*",
        }
    }
}

/// Rates of one tier, in 10⁻⁶ USD per million tokens. A cache rate may be absent (the model has
/// no such cache); a request with tokens in an absent bucket is unpriced, never priced at $0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rates {
    pub input: i128,
    pub output: i128,
    pub cache_read: Option<i128>,
    pub cache_write_5m: Option<i128>,
    pub cache_write_1h: Option<i128>,
}

/// One row of the price book.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceRow {
    /// 1-based line in the file, for messages.
    pub line: u64,
    pub model: String,
    pub scope: Selector,
    pub region: Selector,
    pub effective_from: NaiveDate,
    pub standard: Rates,
    /// Above this many input tokens (input + cache read + cache write) every bucket of the
    /// request is priced at the long-context rates.
    pub long_context: Option<(u64, Rates)>,
}

impl PriceRow {
    /// A stable reference to the row, stored with every priced request.
    pub fn reference(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.model,
            self.scope.as_str(),
            self.region.as_str(),
            self.effective_from
        )
    }
}

/// A validated price book.
#[derive(Clone, Debug, Default)]
pub struct PriceBook {
    by_model: HashMap<String, Vec<PriceRow>>,
}

/// Why a price book was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PriceBookError {
    #[error("line 1: the header lacks the column `{0}` (required: {cols})", cols = PRICE_COLUMNS.join(","))]
    MissingColumn(&'static str),
    #[error("line 1: the column `{0}` appears twice")]
    RepeatedColumn(String),
    #[error("line {line}: {message}")]
    Row { line: u64, message: String },
    #[error("line {line}: duplicate of line {first}: {key}")]
    Duplicate { line: u64, first: u64, key: String },
    #[error("line {line}: {message}")]
    Csv { line: u64, message: String },
}

fn row_error(line: u64, message: impl Into<String>) -> PriceBookError {
    PriceBookError::Row {
        line,
        message: message.into(),
    }
}

const SCOPES: [&str; 4] = ["in_region", "geo", "global", "*"];

impl PriceBook {
    /// Parses and validates a price book.
    pub fn from_csv(bytes: &[u8]) -> Result<PriceBook, PriceBookError> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(bytes);
        let csv_error = |e: csv::Error| PriceBookError::Csv {
            line: e.position().map_or(1, |p| p.line()),
            message: e.to_string(),
        };
        let headers = reader.headers().map_err(csv_error)?.clone();
        for (i, name) in headers.iter().enumerate() {
            if headers.iter().take(i).any(|earlier| earlier == name) {
                return Err(PriceBookError::RepeatedColumn(name.to_owned()));
            }
        }
        let mut index = [0usize; PRICE_COLUMNS.len()];
        for (slot, name) in index.iter_mut().zip(PRICE_COLUMNS) {
            *slot = headers
                .iter()
                .position(|h| h == name)
                .ok_or(PriceBookError::MissingColumn(name))?;
        }

        let mut book = PriceBook::default();
        let mut seen: HashMap<(String, Selector, Selector, NaiveDate), u64> = HashMap::new();
        for record in reader.records() {
            let record = record.map_err(csv_error)?;
            let line = record.position().map_or(0, |p| p.line());
            let cell = |column: usize| record.get(index[column]).unwrap_or_default();
            let row = parse_row(line, &cell)?;
            let key = (
                row.model.clone(),
                row.scope.clone(),
                row.region.clone(),
                row.effective_from,
            );
            if let Some(&first) = seen.get(&key) {
                return Err(PriceBookError::Duplicate {
                    line,
                    first,
                    key: row.reference(),
                });
            }
            seen.insert(key, line);
            book.by_model
                .entry(row.model.clone())
                .or_default()
                .push(row);
        }
        Ok(book)
    }

    /// The row that prices a request for `model` with `scope` (`in_region`, `geo`, `global`, or
    /// `None` to match only `*` rows) from `region` on `date`: among the rows in force on that
    /// date, exact region beats `*`, then exact scope beats `*`, then the latest `effective_from`.
    pub fn lookup(
        &self,
        model: &str,
        scope: Option<&str>,
        region: &str,
        date: NaiveDate,
    ) -> Option<&PriceRow> {
        self.by_model
            .get(model)?
            .iter()
            .filter(|row| row.effective_from <= date && row.region.matches(region))
            .filter(|row| match scope {
                Some(scope) => row.scope.matches(scope),
                None => !row.scope.is_exact(),
            })
            .max_by_key(|row| {
                (
                    row.region.is_exact(),
                    row.scope.is_exact(),
                    row.effective_from,
                )
            })
    }
}

fn parse_row<'a>(line: u64, cell: &impl Fn(usize) -> &'a str) -> Result<PriceRow, PriceBookError> {
    let model = cell(0);
    if model.is_empty() {
        return Err(row_error(line, "`model` is empty"));
    }
    let scope = cell(1);
    if !SCOPES.contains(&scope) {
        return Err(row_error(
            line,
            format!("unknown scope {scope:?} (expected in_region, geo, global or *)"),
        ));
    }
    let region = cell(2);
    if region.is_empty() {
        return Err(row_error(line, "`region` is empty (use * for any region)"));
    }
    let effective_from = NaiveDate::parse_from_str(cell(3), "%Y-%m-%d").map_err(|_| {
        row_error(
            line,
            format!("effective_from {:?} is not a date (YYYY-MM-DD)", cell(3)),
        )
    })?;
    let rate = |column: usize| parse_rate(line, PRICE_COLUMNS[column], cell(column));
    let required = |column: usize| {
        rate(column)?
            .ok_or_else(|| row_error(line, format!("`{}` is empty", PRICE_COLUMNS[column])))
    };
    let standard = Rates {
        input: required(4)?,
        output: required(5)?,
        cache_read: rate(6)?,
        cache_write_5m: rate(7)?,
        cache_write_1h: rate(8)?,
    };
    let threshold = cell(9);
    let long_context = if threshold.is_empty() {
        if let Some(column) = (10..15).find(|&c| !cell(c).is_empty()) {
            return Err(row_error(
                line,
                format!(
                    "`{}` is set but long_context_threshold is empty",
                    PRICE_COLUMNS[column]
                ),
            ));
        }
        None
    } else {
        let threshold: u64 = threshold.parse().map_err(|_| {
            row_error(
                line,
                format!("long_context_threshold {threshold:?} is not a whole number of tokens"),
            )
        })?;
        let rates = Rates {
            input: required(10)?,
            output: required(11)?,
            cache_read: rate(12)?,
            cache_write_5m: rate(13)?,
            cache_write_1h: rate(14)?,
        };
        Some((threshold, rates))
    };
    Ok(PriceRow {
        line,
        model: model.to_owned(),
        scope: Selector::parse(scope),
        region: Selector::parse(region),
        effective_from,
        standard,
        long_context,
    })
}

/// A rate cell: empty, or a non-negative decimal with at most [`RATE_SCALE`] decimals, returned
/// in 10⁻⁶ units.
fn parse_rate(line: u64, column: &str, text: &str) -> Result<Option<i128>, PriceBookError> {
    if text.is_empty() {
        return Ok(None);
    }
    let bad = |why: &str| row_error(line, format!("`{column}` = {text:?} {why}"));
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || !digits(whole)
        || !digits(fraction)
        || (text.contains('.') && fraction.is_empty())
    {
        return Err(bad("is not a non-negative decimal number"));
    }
    if fraction.len() > RATE_SCALE as usize {
        return Err(bad("has more than 6 decimals"));
    }
    if whole.len() > 18 {
        return Err(bad("is too large"));
    }
    let scaled_fraction = format!("{fraction:0<width$}", width = RATE_SCALE as usize);
    let value = format!("{whole}{scaled_fraction}")
        .parse::<i128>()
        .map_err(|_| bad("is not a number"))?;
    Ok(Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "model,scope,region,effective_from,input,output,cache_read,cache_write_5m,cache_write_1h,long_context_threshold,lc_input,lc_output,lc_cache_read,lc_cache_write_5m,lc_cache_write_1h";

    fn book(rows: &[&str]) -> Result<PriceBook, PriceBookError> {
        let text = format!("{HEADER}\n{}\n", rows.join("\n"));
        PriceBook::from_csv(text.as_bytes())
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn parses_rates_exactly() {
        let cases: &[(&str, Option<i128>)] = &[
            ("3", Some(3_000_000)),
            ("3.30", Some(3_300_000)),
            ("0.08", Some(80_000)),
            ("0.000001", Some(1)),
            ("16.5", Some(16_500_000)),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_rate(2, "input", text).unwrap(), *expected, "{text}");
        }
        for bad in ["-1", "1e3", "abc", "1.", ".5", "0.0000001", "1,5", "1.2.3"] {
            assert!(parse_rate(2, "input", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_malformed_books_naming_the_line() {
        let row = "m,*,*,2025-01-01,3,15,0.3,3.75,6,,,,,,";
        let cases: Vec<(String, &str)> = vec![
            (
                "model,scope,region\n".to_owned(),
                "line 1: the header lacks the column `effective_from`",
            ),
            (
                format!("{HEADER},input\n"),
                "line 1: the column `input` appears twice",
            ),
            (
                format!("{HEADER}\n{row}\nm,*,*,2025-01-01,3,15,,,,,,,,,\n"),
                "line 3: duplicate of line 2: m|*|*|2025-01-01",
            ),
            (
                format!("{HEADER}\nm,regional,*,2025-01-01,3,15,,,,,,,,,\n"),
                "line 2: unknown scope \"regional\"",
            ),
            (
                format!("{HEADER}\nm,*,*,2025-01-01,three,15,,,,,,,,,\n"),
                "line 2: `input` = \"three\" is not a non-negative decimal number",
            ),
            (
                format!("{HEADER}\nm,*,*,2025-01-01,3,,,,,,,,,,\n"),
                "line 2: `output` is empty",
            ),
            (
                format!("{HEADER}\nm,*,*,01/02/2025,3,15,,,,,,,,,\n"),
                "line 2: effective_from \"01/02/2025\" is not a date",
            ),
            (
                format!("{HEADER}\nm,*,*,2025-01-01,3,15,,,,,6,,,,\n"),
                "line 2: `lc_input` is set but long_context_threshold is empty",
            ),
            (
                format!("{HEADER}\nm,*,*,2025-01-01,3,15,,,,200000,6,,,,\n"),
                "line 2: `lc_output` is empty",
            ),
            (format!("{HEADER}\n{row}\nm,*,*,2025-01-01\n"), "line 3:"),
            (
                format!("{HEADER}\n,*,*,2025-01-01,3,15,,,,,,,,,\n"),
                "line 2: `model` is empty",
            ),
        ];
        for (text, message) in cases {
            let error = PriceBook::from_csv(text.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(
                error.starts_with(message),
                "{text:?}\n  gave {error}\n  not  {message}"
            );
        }
    }

    #[test]
    fn accepts_extra_columns_in_any_position() {
        let text = format!(
            "note,{HEADER},source\nfirst,m,geo,us-east-1,2025-01-01,3,15,0.3,3.75,6,200000,6,22.5,0.6,7.5,12,aws\n"
        );
        let book = PriceBook::from_csv(text.as_bytes()).unwrap();
        let row = book
            .lookup("m", Some("geo"), "us-east-1", date("2025-02-01"))
            .unwrap();
        assert_eq!(row.standard.output, 15_000_000);
        assert_eq!(row.long_context.unwrap().0, 200_000);
        assert_eq!(row.long_context.unwrap().1.output, 22_500_000);
    }

    #[test]
    fn picks_the_most_specific_row_in_force() {
        let book = book(&[
            "m,*,*,2025-01-01,1,1,,,,,,,,,",
            "m,*,*,2025-06-01,2,2,,,,,,,,,",
            "m,global,*,2025-01-01,3,3,,,,,,,,,",
            "m,*,eu-west-1,2025-03-01,4,4,,,,,,,,,",
            "m,geo,eu-west-1,2025-09-01,5,5,,,,,,,,,",
            "other,*,*,2024-01-01,9,9,,,,,,,,,",
        ])
        .unwrap();
        // (scope, region, date, expected line)
        let cases: &[(Option<&str>, &str, &str, Option<u64>)] = &[
            (Some("in_region"), "us-east-1", "2024-12-31", None),
            (Some("in_region"), "us-east-1", "2025-01-01", Some(2)),
            (Some("in_region"), "us-east-1", "2025-05-31", Some(2)),
            (Some("in_region"), "us-east-1", "2025-06-01", Some(3)),
            (Some("global"), "us-east-1", "2025-07-01", Some(4)),
            (Some("global"), "eu-west-1", "2025-07-01", Some(5)),
            (Some("geo"), "eu-west-1", "2025-08-31", Some(5)),
            (Some("geo"), "eu-west-1", "2025-09-01", Some(6)),
            (Some("geo"), "eu-west-1", "2025-02-01", Some(2)),
            (None, "us-east-1", "2025-07-01", Some(3)),
            (None, "eu-west-1", "2025-09-02", Some(5)),
        ];
        for (scope, region, day, line) in cases {
            let found = book.lookup("m", *scope, region, date(day)).map(|r| r.line);
            assert_eq!(found, *line, "{scope:?} {region} {day}");
        }
        assert!(
            book.lookup("unknown", Some("geo"), "us-east-1", date("2025-07-01"))
                .is_none()
        );
    }
}
