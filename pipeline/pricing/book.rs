//! The price book: a CSV finance can read and edit, validated whole before anything is priced.
//!
//! ```text
//! model,scope,region,effective_from,input,output,cache_read,cache_write_5m,cache_write_1h,
//! long_context_threshold,lc_input,lc_output,lc_cache_read,lc_cache_write_5m,lc_cache_write_1h
//! ```
//! Rates are decimal USD per 1,000,000 tokens, kept as integers of 10⁻⁶ USD per million tokens
//! (at most 6 decimals), so that `tokens × rate` is an exact count of 10⁻¹² USD. The optional
//! column `tier` names the service tier a row prices (default `standard`); `source` and `note`
//! are kept with each row so that a book can be written back out; other columns are ignored.

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

/// Optional columns that are kept with each row and written back out, in this order.
pub const TEXT_COLUMNS: [&str; 2] = ["source", "note"];

/// Service tiers a row can price. An invocation log records the tier of a request (see
/// `decode::record`); a request is priced only by a row of its own tier.
pub const TIERS: [&str; 4] = ["standard", "priority", "flex", "optimized"];

/// The tier of a row without a `tier` cell, and of a request whose log names none.
pub const STANDARD_TIER: &str = "standard";

/// Decimal places a rate may have.
pub const RATE_SCALE: u32 = 6;

/// A `scope` or `region` cell: one value, or `*` for any. `*` sorts first, so that a written
/// book lists a model's default row before its exceptions.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Selector {
    Any,
    Exact(String),
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
    /// One of [`TIERS`].
    pub tier: String,
    pub effective_from: NaiveDate,
    pub standard: Rates,
    /// Above this many input tokens (input + cache read + cache write) every bucket of the
    /// request is priced at the long-context rates.
    pub long_context: Option<(u64, Rates)>,
    /// Where the figures come from (the `source` column), and any remark (`note`).
    pub source: String,
    pub note: String,
}

impl PriceRow {
    /// A stable reference to the row, stored with every priced request. The tier is named only
    /// when it is not `standard`, so references written before tiers existed stay valid.
    pub fn reference(&self) -> String {
        let tier = if self.tier == STANDARD_TIER {
            String::new()
        } else {
            format!("|{}", self.tier)
        };
        format!(
            "{}|{}|{}|{}{tier}",
            self.model,
            self.scope.as_str(),
            self.region.as_str(),
            self.effective_from
        )
    }

    /// What identifies the row within a book: two rows with the same key are refused.
    pub fn key(&self) -> RowKey {
        RowKey {
            model: self.model.clone(),
            scope: self.scope.clone(),
            region: self.region.clone(),
            tier: self.tier.clone(),
        }
    }
}

/// A row's identity less its date: the rows of one key form its price history.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RowKey {
    pub model: String,
    pub scope: Selector,
    pub region: Selector,
    pub tier: String,
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

        let optional = |name: &str| headers.iter().position(|h| h == name);
        let (tier_index, source_index, note_index) = (
            optional("tier"),
            optional(TEXT_COLUMNS[0]),
            optional(TEXT_COLUMNS[1]),
        );

        let mut book = PriceBook::default();
        let mut seen: HashMap<(RowKey, NaiveDate), u64> = HashMap::new();
        for record in reader.records() {
            let record = record.map_err(csv_error)?;
            let line = record.position().map_or(0, |p| p.line());
            let cell = |column: usize| record.get(index[column]).unwrap_or_default();
            let text = |column: Option<usize>| {
                column
                    .and_then(|c| record.get(c))
                    .unwrap_or_default()
                    .to_owned()
            };
            let mut row = parse_row(line, &cell)?;
            row.tier = parse_tier(line, &text(tier_index))?;
            row.source = text(source_index);
            row.note = text(note_index);
            let key = (row.key(), row.effective_from);
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
    /// `None` to match only `*` rows) in service `tier` from `region` on `date`: among the rows
    /// of that tier in force on that date, exact region beats `*`, then exact scope beats `*`,
    /// then the latest `effective_from`.
    pub fn lookup(
        &self,
        model: &str,
        scope: Option<&str>,
        tier: &str,
        region: &str,
        date: NaiveDate,
    ) -> Option<&PriceRow> {
        self.by_model
            .get(model)?
            .iter()
            .filter(|row| row.tier == tier)
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

    /// Every row, ordered by model, scope, region, tier and date (the order a written book has).
    pub fn rows(&self) -> Vec<&PriceRow> {
        let mut rows: Vec<&PriceRow> = self.by_model.values().flatten().collect();
        rows.sort_by_key(|row| (row.key(), row.effective_from));
        rows
    }

    /// Whether the book has any row for `model`.
    pub fn knows_model(&self, model: &str) -> bool {
        self.by_model.contains_key(model)
    }
}

fn parse_tier(line: u64, cell: &str) -> Result<String, PriceBookError> {
    match cell {
        "" => Ok(STANDARD_TIER.to_owned()),
        tier if TIERS.contains(&tier) => Ok(tier.to_owned()),
        tier => Err(row_error(
            line,
            format!("unknown tier {tier:?} (expected {})", TIERS.join(", ")),
        )),
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
        tier: STANDARD_TIER.to_owned(),
        effective_from,
        standard,
        long_context,
        source: String::new(),
        note: String::new(),
    })
}

/// Writes rows as a price book: the required columns with `tier` after `region`, then `source`
/// and `note`. Rates are written with as few decimals as they need, so that reading the output
/// gives the same rows back.
pub fn write_csv<'a>(rows: impl IntoIterator<Item = &'a PriceRow>) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = PRICE_COLUMNS.to_vec();
    header.insert(3, "tier");
    header.extend(TEXT_COLUMNS);
    let rates = |rates: &Rates| {
        [
            Some(rates.input),
            Some(rates.output),
            rates.cache_read,
            rates.cache_write_5m,
            rates.cache_write_1h,
        ]
        .map(|rate| rate.map(format_rate).unwrap_or_default())
    };
    // Writing to a Vec cannot fail.
    writer.write_record(&header).expect("in memory");
    for row in rows {
        let mut record = vec![
            row.model.clone(),
            row.scope.as_str().to_owned(),
            row.region.as_str().to_owned(),
            row.tier.clone(),
            row.effective_from.to_string(),
        ];
        record.extend(rates(&row.standard));
        match &row.long_context {
            Some((threshold, long)) => {
                record.push(threshold.to_string());
                record.extend(rates(long));
            }
            None => record.extend(std::iter::repeat_n(String::new(), 6)),
        }
        record.push(row.source.clone());
        record.push(row.note.clone());
        writer.write_record(&record).expect("in memory");
    }
    writer.into_inner().expect("in memory")
}

/// A rate in 10⁻⁶ USD per million tokens as a decimal without trailing zeros: `3300000` → `3.3`.
pub fn format_rate(rate: i128) -> String {
    let scale = 10i128.pow(RATE_SCALE);
    let (whole, fraction) = (rate / scale, rate % scale);
    if fraction == 0 {
        return whole.to_string();
    }
    let fraction = format!("{fraction:0width$}", width = RATE_SCALE as usize);
    format!("{whole}.{}", fraction.trim_end_matches('0'))
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
            .lookup(
                "m",
                Some("geo"),
                "standard",
                "us-east-1",
                date("2025-02-01"),
            )
            .unwrap();
        assert_eq!(row.standard.output, 15_000_000);
        assert_eq!(row.long_context.unwrap().0, 200_000);
        assert_eq!(row.long_context.unwrap().1.output, 22_500_000);
    }

    #[test]
    fn prices_each_tier_only_from_its_own_rows() {
        let text = format!(
            "{HEADER},tier\nm,*,*,2025-01-01,1,1,,,,,,,,,,\nm,*,*,2025-01-01,2,2,,,,,,,,,,priority\n"
        );
        let book = PriceBook::from_csv(text.as_bytes()).unwrap();
        let day = date("2025-02-01");
        let line = |tier| {
            book.lookup("m", Some("geo"), tier, "us-east-1", day)
                .map(|r| r.line)
        };
        assert_eq!(line("standard"), Some(2));
        assert_eq!(line("priority"), Some(3));
        assert_eq!(line("flex"), None);
        assert_eq!(
            book.rows()[0].reference(),
            "m|*|*|2025-01-01|priority",
            "a tier other than standard is part of the reference"
        );
        let error = PriceBook::from_csv(
            format!("{HEADER},tier\nm,*,*,2025-01-01,1,1,,,,,,,,,,fast\n").as_bytes(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.starts_with("line 2: unknown tier \"fast\""),
            "{error}"
        );
    }

    #[test]
    fn writes_a_book_that_reads_back_the_same() {
        let text = format!(
            "{HEADER},tier,source,note\n\
             m,global,*,2025-01-01,3.30,16.5,0.33,4.125,6.6,200000,6.6,24.75,0.66,8.25,13.2,,AWS \"quoted\",\n\
             m,*,us-gov-west-1,2025-02-01,0.000001,1,,,,,,,,,,flex,a,\"b, c\"\n"
        );
        let book = PriceBook::from_csv(text.as_bytes()).unwrap();
        let written = write_csv(book.rows());
        assert_eq!(
            String::from_utf8(written.clone()).unwrap(),
            "model,scope,region,tier,effective_from,input,output,cache_read,cache_write_5m,cache_write_1h,long_context_threshold,lc_input,lc_output,lc_cache_read,lc_cache_write_5m,lc_cache_write_1h,source,note\n\
             m,*,us-gov-west-1,flex,2025-02-01,0.000001,1,,,,,,,,,,a,\"b, c\"\n\
             m,global,*,standard,2025-01-01,3.3,16.5,0.33,4.125,6.6,200000,6.6,24.75,0.66,8.25,13.2,\"AWS \"\"quoted\"\"\",\n"
        );
        let again = PriceBook::from_csv(&written).unwrap();
        let strip_lines = |book: &PriceBook| {
            book.rows()
                .into_iter()
                .map(|r| PriceRow {
                    line: 0,
                    ..r.clone()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(strip_lines(&again), strip_lines(&book));
    }

    #[test]
    fn formats_rates_with_the_decimals_they_need() {
        for (rate, text) in [
            (3_000_000, "3"),
            (3_300_000, "3.3"),
            (80_000, "0.08"),
            (1, "0.000001"),
            (0, "0"),
            (16_500_000, "16.5"),
        ] {
            assert_eq!(format_rate(rate), text);
        }
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
            let found = book
                .lookup("m", *scope, "standard", region, date(day))
                .map(|r| r.line);
            assert_eq!(found, *line, "{scope:?} {region} {day}");
        }
        assert!(
            book.lookup(
                "unknown",
                Some("geo"),
                "standard",
                "us-east-1",
                date("2025-07-01")
            )
            .is_none()
        );
    }
}
