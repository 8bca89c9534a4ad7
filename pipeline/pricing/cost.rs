//! Pricing one request: pick the price row, pick the tier, multiply. Integers only: a rate is
//! 10⁻⁶ USD per million tokens, so `tokens × rate` is exactly the cost in 10⁻¹² USD (the scale of
//! the cost columns); nothing is rounded until a report prints micro-dollars.

use chrono::NaiveDate;

use super::book::{PriceBook, PriceRow, Rates};
use crate::rows::TokenCounts;

/// Decimal places of stored costs: `tokens × rate` has exactly this many.
pub const COST_SCALE: i8 = 12;

/// The parts of a request's cost, in 10⁻¹² USD.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CostParts {
    pub input: i128,
    pub output: i128,
    pub cache_read: i128,
    /// 5-minute and 1-hour writes together.
    pub cache_write: i128,
    /// What the cache reads would have cost at the input rate, minus what they cost.
    pub cache_read_savings: i128,
}

impl CostParts {
    /// The total cost.
    pub fn total(&self) -> i128 {
        self.input + self.output + self.cache_read + self.cache_write
    }
}

/// The outcome of pricing one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pricing<'a> {
    Priced {
        parts: CostParts,
        row: &'a PriceRow,
        long_context: bool,
    },
    /// Usage that no price row covers: shown loudly, never as $0.
    Unpriced(UnpricedReason),
    /// No token counters at all (a failed call): costs nothing.
    NoUsage,
}

impl Pricing<'_> {
    /// The value of the `price_status` column.
    pub fn status(&self) -> &'static str {
        match self {
            Pricing::Priced { .. } => "priced",
            Pricing::Unpriced(_) => "unpriced",
            Pricing::NoUsage => "no_usage",
        }
    }
}

/// Why a request with usage has no price.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UnpricedReason {
    /// The model id names no base model (an unmapped application profile, a router, ...).
    UnknownModel,
    /// Provisioned throughput is billed by the hour, not by the token.
    Provisioned,
    /// The book has no row for the model at all.
    ModelNotInBook,
    /// The book knows the model, but no row fits this scope, tier and region on this date.
    NoRowInForce,
    /// The row in force has no rate for a bucket the request used (named by its column).
    NoRate(&'static str),
}

impl UnpricedReason {
    /// A sentence for people.
    pub fn describe(self) -> String {
        match self {
            UnpricedReason::UnknownModel => {
                "the model id names no base model (an application profile, router or custom model: map it with --profiles)"
                    .to_owned()
            }
            UnpricedReason::Provisioned => {
                "provisioned throughput is billed by the hour, not per token".to_owned()
            }
            UnpricedReason::ModelNotInBook => "the price book has no row for this model".to_owned(),
            UnpricedReason::NoRowInForce => {
                "no row for this scope, tier and region in force on that date".to_owned()
            }
            UnpricedReason::NoRate(column) => {
                format!("the row in force has no `{column}` rate for tokens the request used")
            }
        }
    }
}

/// What pricing needs to know about a request.
#[derive(Clone, Copy, Debug)]
pub struct PricedRequest<'a> {
    pub model: Option<&'a str>,
    pub inference_scope: Option<&'a str>,
    pub region: Option<&'a str>,
    /// The service tier the log records (`standard` when it records none).
    pub tier: &'a str,
    pub date: NaiveDate,
    pub tokens: TokenCounts,
    pub usage_reported: bool,
}

/// Prices one request against `book`.
pub fn price<'a>(book: &'a PriceBook, request: &PricedRequest<'_>) -> Pricing<'a> {
    if !request.usage_reported {
        return Pricing::NoUsage;
    }
    if request.inference_scope == Some("provisioned") {
        return Pricing::Unpriced(UnpricedReason::Provisioned);
    }
    let Some(model) = request.model else {
        return Pricing::Unpriced(UnpricedReason::UnknownModel);
    };
    let scope = match request.inference_scope {
        Some(scope @ ("in_region" | "geo" | "global")) => Some(scope),
        // Routers and the like: only rows that apply to any scope fit.
        _ => None,
    };
    if !book.knows_model(model) {
        return Pricing::Unpriced(UnpricedReason::ModelNotInBook);
    }
    let Some(row) = book.lookup(
        model,
        scope,
        request.tier,
        request.region.unwrap_or(""),
        request.date,
    ) else {
        return Pricing::Unpriced(UnpricedReason::NoRowInForce);
    };
    let tokens = &request.tokens;
    let context_tokens = tokens.input_tokens + tokens.cache_read_tokens + tokens.cache_write_tokens;
    let (rates, long_context) = match row.long_context {
        Some((threshold, rates)) if context_tokens > threshold => (rates, true),
        _ => (row.standard, false),
    };
    match cost_parts(tokens, &rates, long_context) {
        Ok(parts) => Pricing::Priced {
            parts,
            row,
            long_context,
        },
        Err(reason) => Pricing::Unpriced(reason),
    }
}

/// Costs of each bucket; the missing rate when a bucket has tokens but the row has no rate
/// for it.
fn cost_parts(
    tokens: &TokenCounts,
    rates: &Rates,
    long_context: bool,
) -> Result<CostParts, UnpricedReason> {
    let cost = |count: u64, rate: Option<i128>, column: (&'static str, &'static str)| match (
        count, rate,
    ) {
        (0, _) => Ok(0),
        (count, Some(rate)) => Ok(i128::from(count) * rate),
        (_, None) => Err(UnpricedReason::NoRate(if long_context {
            column.1
        } else {
            column.0
        })),
    };
    let writes_1h = tokens.cache_write_1h_tokens.min(tokens.cache_write_tokens);
    let writes_5m = tokens.cache_write_tokens - writes_1h;
    let cache_read = cost(
        tokens.cache_read_tokens,
        rates.cache_read,
        ("cache_read", "lc_cache_read"),
    )?;
    Ok(CostParts {
        input: cost(
            tokens.input_tokens,
            Some(rates.input),
            ("input", "lc_input"),
        )?,
        output: cost(
            tokens.output_tokens,
            Some(rates.output),
            ("output", "lc_output"),
        )?,
        cache_read,
        cache_write: cost(
            writes_5m,
            rates.cache_write_5m,
            ("cache_write_5m", "lc_cache_write_5m"),
        )? + cost(
            writes_1h,
            rates.cache_write_1h,
            ("cache_write_1h", "lc_cache_write_1h"),
        )?,
        cache_read_savings: i128::from(tokens.cache_read_tokens) * rates.input - cache_read,
    })
}

/// Rounds a cost in 10⁻¹² USD to 10⁻⁶ USD (micro-dollars), half to even.
pub fn round_to_micros(picos: i128) -> i128 {
    div_half_even(picos, 1_000_000)
}

/// `numerator ÷ denominator` rounded half to even (`denominator` > 0, either sign of
/// `numerator`): the one rounding rule of every amount and percentage the tool prints.
pub fn div_half_even(numerator: i128, denominator: i128) -> i128 {
    let quotient = numerator.div_euclid(denominator);
    let remainder = numerator.rem_euclid(denominator);
    match (2 * remainder).cmp(&denominator) {
        std::cmp::Ordering::Less => quotient,
        std::cmp::Ordering::Greater => quotient + 1,
        std::cmp::Ordering::Equal => quotient + (quotient & 1),
    }
}

/// Formats micro-dollars with 6 decimals: `1234567` → `1.234567`.
pub fn format_micros(micros: i128) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let abs = micros.unsigned_abs();
    format!("{sign}{}.{:06}", abs / 1_000_000, abs % 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "model,scope,region,effective_from,input,output,cache_read,cache_write_5m,cache_write_1h,long_context_threshold,lc_input,lc_output,lc_cache_read,lc_cache_write_5m,lc_cache_write_1h";
    const SONNET: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";

    fn book() -> PriceBook {
        let rows = [
            // list price, charged for global
            format!("{SONNET},global,*,2025-09-29,3,15,0.30,3.75,6,200000,6,22.50,0.60,7.50,12"),
            // geo and in-region: 10% more
            format!(
                "{SONNET},*,*,2025-09-29,3.30,16.50,0.33,4.125,6.60,200000,6.60,24.75,0.66,8.25,13.20"
            ),
            "meta.llama3-3-70b-instruct-v1:0,*,*,2024-12-01,0.72,0.72,,,,,,,,,".to_owned(),
        ];
        PriceBook::from_csv(format!("{HEADER}\n{}\n", rows.join("\n")).as_bytes()).unwrap()
    }

    fn request(model: &str, scope: &str, tokens: TokenCounts) -> PricedRequest<'static> {
        PricedRequest {
            model: Some(Box::leak(model.to_owned().into_boxed_str())),
            inference_scope: Some(Box::leak(scope.to_owned().into_boxed_str())),
            region: Some("us-east-1"),
            tier: "standard",
            date: NaiveDate::from_ymd_opt(2025, 10, 2).unwrap(),
            tokens,
            usage_reported: true,
        }
    }

    fn tokens(input: u64, output: u64, read: u64, write: u64, write_1h: u64) -> TokenCounts {
        TokenCounts {
            input_tokens: input,
            output_tokens: output,
            cache_read_tokens: read,
            cache_write_tokens: write,
            cache_write_1h_tokens: write_1h,
        }
    }

    /// Parses "12.345678901234" into 10⁻¹² units, to write expectations as decimals.
    fn usd(text: &str) -> i128 {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        format!("{whole}{fraction:0<12}").parse().unwrap()
    }

    #[test]
    fn prices_every_bucket_with_hand_checked_decimals() {
        // (model, scope, tokens, input, output, cache read, cache write, total, long context)
        type Case = (
            &'static str,
            &'static str,
            TokenCounts,
            &'static str,
            &'static str,
            &'static str,
            &'static str,
            &'static str,
            bool,
        );
        let cases: &[Case] = &[
            // 12 × 3/M = 0.000036; 611 × 15/M = 0.009165; 48210 × 0.30/M = 0.014463; 1350 × 3.75/M = 0.0050625
            (
                SONNET,
                "global",
                tokens(12, 611, 48_210, 1_350, 0),
                "0.000036",
                "0.009165",
                "0.014463",
                "0.0050625",
                "0.0287265",
                false,
            ),
            // geo: 12 × 3.30/M = 0.0000396; 611 × 16.50/M = 0.0100815; 48210 × 0.33/M = 0.0159093; 1350 × 4.125/M = 0.00556875
            (
                SONNET,
                "geo",
                tokens(12, 611, 48_210, 1_350, 0),
                "0.0000396",
                "0.0100815",
                "0.0159093",
                "0.00556875",
                "0.03159915",
                false,
            ),
            // in_region uses the * row like geo
            (
                SONNET,
                "in_region",
                tokens(1, 0, 0, 0, 0),
                "0.0000033",
                "0",
                "0",
                "0",
                "0.0000033",
                false,
            ),
            // cache split: 500 writes, 400 of them 1h: 100 × 3.75/M + 400 × 6/M = 0.000375 + 0.0024
            (
                SONNET,
                "global",
                tokens(3, 9, 0, 500, 400),
                "0.000009",
                "0.000135",
                "0",
                "0.002775",
                "0.002919",
                false,
            ),
            // exactly at the threshold: standard rates (200000 is not above 200000)
            (
                SONNET,
                "global",
                tokens(100_000, 10, 50_000, 50_000, 0),
                "0.3",
                "0.00015",
                "0.015",
                "0.1875",
                "0.50265",
                false,
            ),
            // one token above: the whole request at the long-context rates
            // 100001 × 6/M = 0.600006; 10 × 22.5/M = 0.000225; 50000 × 0.6/M = 0.03; 50000 × 7.5/M = 0.375
            (
                SONNET,
                "global",
                tokens(100_001, 10, 50_000, 50_000, 0),
                "0.600006",
                "0.000225",
                "0.03",
                "0.375",
                "1.005231",
                true,
            ),
            // long context, geo, with 1h writes: 250000 × 6.60/M = 1.65; 1000 × 24.75/M = 0.02475; 10 × 13.20/M = 0.000132
            (
                SONNET,
                "geo",
                tokens(250_000, 1_000, 0, 10, 10),
                "1.65",
                "0.02475",
                "0",
                "0.000132",
                "1.674882",
                true,
            ),
            // the real record: 1 input token, 129709 cache reads
            (
                SONNET,
                "geo",
                tokens(1, 544, 129_709, 0, 0),
                "0.0000033",
                "0.008976",
                "0.04280397",
                "0",
                "0.05178327",
                false,
            ),
            (
                "meta.llama3-3-70b-instruct-v1:0",
                "in_region",
                tokens(1_000, 250, 0, 0, 0),
                "0.00072",
                "0.00018",
                "0",
                "0",
                "0.0009",
                false,
            ),
        ];
        let book = book();
        for (model, scope, tokens, input, output, read, write, total, long_context) in cases {
            let pricing = price(&book, &request(model, scope, *tokens));
            let Pricing::Priced {
                parts,
                long_context: lc,
                ..
            } = pricing
            else {
                panic!("{model} {scope} {tokens:?}: {pricing:?}");
            };
            let got = (
                parts.input,
                parts.output,
                parts.cache_read,
                parts.cache_write,
                parts.total(),
                lc,
            );
            let want = (
                usd(input),
                usd(output),
                usd(read),
                usd(write),
                usd(total),
                *long_context,
            );
            assert_eq!(got, want, "{model} {scope} {tokens:?}");
        }
    }

    #[test]
    fn computes_what_cache_reads_saved() {
        // 48210 reads: at input 3.30/M they would cost 0.159093, at 0.33/M they cost 0.0159093.
        let book = book();
        let pricing = price(
            &book,
            &request(SONNET, "geo", tokens(12, 611, 48_210, 0, 0)),
        );
        let Pricing::Priced { parts, .. } = pricing else {
            panic!("{pricing:?}")
        };
        assert_eq!(parts.cache_read_savings, usd("0.1431837"));
    }

    #[test]
    fn says_why_a_request_is_not_priced() {
        let book = book();
        let mut early = request(SONNET, "geo", tokens(1, 1, 0, 0, 0));
        early.date = NaiveDate::from_ymd_opt(2025, 9, 28).unwrap();
        let mut failed = request(SONNET, "geo", TokenCounts::default());
        failed.usage_reported = false;
        let mut no_model = request(SONNET, "application", tokens(1, 1, 0, 0, 0));
        no_model.model = None;
        let cases: Vec<(PricedRequest, &str)> = vec![
            (
                request(
                    "anthropic.claude-opus-4-6-v1",
                    "in_region",
                    tokens(1, 1, 0, 0, 0),
                ),
                "unpriced",
            ),
            (early, "unpriced"),
            (no_model, "unpriced"),
            (
                request(SONNET, "provisioned", tokens(1, 1, 0, 0, 0)),
                "unpriced",
            ),
            // llama has no cache rates: cache tokens cannot be priced at $0
            (
                request(
                    "meta.llama3-3-70b-instruct-v1:0",
                    "in_region",
                    tokens(1, 1, 5, 0, 0),
                ),
                "unpriced",
            ),
            (failed, "no_usage"),
            (
                request(SONNET, "prompt_router", tokens(1, 1, 0, 0, 0)),
                "priced",
            ),
            (request(SONNET, "geo", TokenCounts::default()), "priced"),
        ];
        for (request, status) in cases {
            assert_eq!(price(&book, &request).status(), status, "{request:?}");
        }
    }

    #[test]
    fn names_the_reason_a_request_is_unpriced() {
        use UnpricedReason::*;
        let book = book();
        let mut early = request(SONNET, "geo", tokens(1, 1, 0, 0, 0));
        early.date = NaiveDate::from_ymd_opt(2025, 9, 28).unwrap();
        let mut priority = request(SONNET, "geo", tokens(1, 1, 0, 0, 0));
        priority.tier = "priority";
        let mut no_model = request(SONNET, "application", tokens(1, 1, 0, 0, 0));
        no_model.model = None;
        let cases: Vec<(PricedRequest, UnpricedReason)> = vec![
            (
                request("anthropic.claude-opus-4-6-v1", "geo", tokens(1, 1, 0, 0, 0)),
                ModelNotInBook,
            ),
            (early, NoRowInForce),
            (priority, NoRowInForce),
            (no_model, UnknownModel),
            (
                request(SONNET, "provisioned", tokens(1, 1, 0, 0, 0)),
                Provisioned,
            ),
            (
                request(
                    "meta.llama3-3-70b-instruct-v1:0",
                    "in_region",
                    tokens(1, 1, 5, 0, 0),
                ),
                NoRate("cache_read"),
            ),
            (
                request(
                    "meta.llama3-3-70b-instruct-v1:0",
                    "in_region",
                    tokens(1, 1, 0, 7, 7),
                ),
                NoRate("cache_write_1h"),
            ),
        ];
        for (request, reason) in cases {
            assert_eq!(
                price(&book, &request),
                Pricing::Unpriced(reason),
                "{request:?}"
            );
        }
    }

    #[test]
    fn rounds_half_to_even_at_the_micro_dollar() {
        let cases: &[(i128, i128, &str)] = &[
            (0, 0, "0.000000"),
            (499_999, 0, "0.000000"),
            (500_000, 0, "0.000000"),
            (500_001, 1, "0.000001"),
            (1_500_000, 2, "0.000002"),
            (2_500_000, 2, "0.000002"),
            (2_500_001, 3, "0.000003"),
            (28_726_500_000, 28_726, "0.028726"),
            (1_005_231_000_000, 1_005_231, "1.005231"),
            (-1_500_000, -2, "-0.000002"),
        ];
        for (picos, micros, text) in cases {
            assert_eq!(round_to_micros(*picos), *micros, "{picos}");
            assert_eq!(format_micros(*micros), *text, "{micros}");
        }
    }
}
