//! Pricing: every request priced exactly with the rates in force on its UTC date.
//!
//! [`book`] reads, validates and writes the price book, [`cost`] prices one request (pure,
//! integer arithmetic), [`batch`] prices Arrow batches as a month is written, [`coverage`] finds
//! the usage a book leaves unpriced. The price book shipped
//! with the binary is `prices.csv` beside this file.

pub mod batch;
pub mod book;
pub mod cost;
pub mod coverage;
pub mod merge;
pub mod offer;

pub use book::{PriceBook, PriceBookError};
pub use cost::{
    COST_SCALE, CostParts, PricedRequest, Pricing, UnpricedReason, div_half_even, format_micros,
    price, round_to_micros,
};

use arrow::array::RecordBatch;
use arrow::error::ArrowError;
use sha2::{Digest, Sha256};

/// The price book shipped with the binary (see `pipeline/pricing/prices.csv` for dates and sources).
pub const DEFAULT_PRICE_BOOK: &str = include_str!("prices.csv");

/// A price book together with what identifies it in reports.
#[derive(Clone, Debug)]
pub struct PriceBookInUse {
    pub book: PriceBook,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    /// The file it came from, or `built-in`.
    pub origin: String,
}

impl PriceBookInUse {
    /// Validates `bytes` as a price book read from `origin`.
    pub fn parse(bytes: &[u8], origin: impl Into<String>) -> Result<Self, PriceBookError> {
        Ok(PriceBookInUse {
            book: PriceBook::from_csv(bytes)?,
            sha256: sha256_hex(bytes),
            origin: origin.into(),
        })
    }

    /// The price book shipped with the binary.
    pub fn built_in() -> Self {
        Self::parse(DEFAULT_PRICE_BOOK.as_bytes(), "built-in")
            .expect("the shipped price book is valid")
    }
}

impl crate::rows::PriceRows for PriceBookInUse {
    fn sha256(&self) -> &str {
        &self.sha256
    }

    fn price(&self, base: &RecordBatch) -> Result<RecordBatch, ArrowError> {
        batch::price_batch(base, &self.book)
    }
}

/// SHA-256 of `bytes` as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::rows::TokenCounts;

    /// Parses "12.345678901234" into 10⁻¹² units.
    fn usd(text: &str) -> i128 {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        format!("{whole}{fraction:0<12}").parse().unwrap()
    }

    /// (model, scope, region, tier, date, [input, output, cache read, cache write, of them 1h], total USD)
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        [u64; 5],
        &'static str,
    );

    #[test]
    fn the_shipped_book_prices_one_request_of_every_family_to_the_hand_computed_cent() {
        // Each total is worked out by hand from the book's rates (USD per 1M tokens).
        let cases: &[Case] = &[
            // Claude 2.1: 1000 × 8 + 500 × 24
            (
                "anthropic.claude-v2:1",
                "in_region",
                "us-east-1",
                "standard",
                "2024-05-01",
                [1_000, 500, 0, 0, 0],
                "0.02",
            ),
            // Claude 3 Haiku: 10000 × 0.25 + 2000 × 1.25
            (
                "anthropic.claude-3-haiku-20240307-v1:0",
                "in_region",
                "us-east-1",
                "standard",
                "2024-06-01",
                [10_000, 2_000, 0, 0, 0],
                "0.005",
            ),
            // Claude 3.5 Haiku at its launch price, then after the cut with cache
            (
                "anthropic.claude-3-5-haiku-20241022-v1:0",
                "geo",
                "us-east-1",
                "standard",
                "2024-11-20",
                [1_000, 1_000, 0, 0, 0],
                "0.006",
            ),
            // 1000 × 0.80 + 1000 × 4 + 10000 × 0.08 + 2000 × 1.00
            (
                "anthropic.claude-3-5-haiku-20241022-v1:0",
                "geo",
                "us-east-1",
                "standard",
                "2025-01-10",
                [1_000, 1_000, 10_000, 2_000, 0],
                "0.0076",
            ),
            // Claude 3.5 Sonnet v2 under extended access: 1000 × 6 + 1000 × 30
            (
                "anthropic.claude-3-5-sonnet-20241022-v2:0",
                "in_region",
                "us-east-1",
                "standard",
                "2025-12-05",
                [1_000, 1_000, 0, 0, 0],
                "0.036",
            ),
            // Sonnet 4.5 geo: 12 × 3.30 + 611 × 16.50 + 48210 × 0.33 + 1000 × 4.125 + 350 × 6.60
            (
                "anthropic.claude-sonnet-4-5-20250929-v1:0",
                "geo",
                "us-east-1",
                "standard",
                "2026-02-01",
                [12, 611, 48_210, 1_350, 350],
                "0.0324654",
            ),
            // Opus 4.6 global, 210000 context tokens before 2026-03-13: the whole request at long-context rates
            // 150000 × 10 + 1000 × 37.50 + 60000 × 1
            (
                "anthropic.claude-opus-4-6-v1",
                "global",
                "us-east-1",
                "standard",
                "2026-02-20",
                [150_000, 1_000, 60_000, 0, 0],
                "1.5975",
            ),
            // the same request after the premium was dropped: 150000 × 5 + 1000 × 25 + 60000 × 0.50
            (
                "anthropic.claude-opus-4-6-v1",
                "global",
                "us-east-1",
                "standard",
                "2026-03-20",
                [150_000, 1_000, 60_000, 0, 0],
                "0.805",
            ),
            // Sonnet 4.6 through `in.` from Mumbai: 1000 × 3.30 + 1000 × 16.50
            (
                "anthropic.claude-sonnet-4-6",
                "geo",
                "ap-south-1",
                "standard",
                "2026-06-01",
                [1_000, 1_000, 0, 0, 0],
                "0.0198",
            ),
            // Opus 4.7 global with 1-hour writes: 2000 × 5 + 500 × 25 + 4000 × 10
            (
                "anthropic.claude-opus-4-7",
                "global",
                "us-east-1",
                "standard",
                "2026-05-01",
                [2_000, 500, 0, 4_000, 4_000],
                "0.0625",
            ),
            // GovCloud 3.7 Sonnet at 1.2 × list: 1000 × 3.60 + 100 × 18
            (
                "anthropic.claude-3-7-sonnet-20250219-v1:0",
                "geo",
                "us-gov-west-1",
                "standard",
                "2025-10-23",
                [1_000, 100, 0, 0, 0],
                "0.0054",
            ),
            // Nova Lite: cache writes cost $0: 10000 × 0.06 + 1000 × 0.24 + 5000 × 0.015 + 3000 × 0
            (
                "amazon.nova-lite-v1:0",
                "in_region",
                "us-east-1",
                "standard",
                "2025-06-01",
                [10_000, 1_000, 5_000, 3_000, 0],
                "0.000915",
            ),
            // Nova Lite in Frankfurt: 10000 × 0.078 + 1000 × 0.312
            (
                "amazon.nova-lite-v1:0",
                "in_region",
                "eu-central-1",
                "standard",
                "2025-06-01",
                [10_000, 1_000, 0, 0, 0],
                "0.001092",
            ),
            // Nova 2 Lite global: 1000 × 0.30 + 1000 × 2.50
            (
                "amazon.nova-2-lite-v1:0",
                "global",
                "us-east-1",
                "standard",
                "2026-01-10",
                [1_000, 1_000, 0, 0, 0],
                "0.0028",
            ),
            // Titan Text Embeddings V2: 5000 × 0.02
            (
                "amazon.titan-embed-text-v2:0",
                "in_region",
                "us-east-1",
                "standard",
                "2025-03-01",
                [5_000, 0, 0, 0, 0],
                "0.0001",
            ),
            // Llama 3.3 70B: 1000 × 0.72 + 250 × 0.72
            (
                "meta.llama3-3-70b-instruct-v1:0",
                "geo",
                "us-east-1",
                "standard",
                "2025-05-01",
                [1_000, 250, 0, 0, 0],
                "0.0009",
            ),
            // Llama 3.1 70B latency-optimized: 1000 × 0.90 + 1000 × 0.90
            (
                "meta.llama3-1-70b-instruct-v1:0",
                "geo",
                "us-east-2",
                "optimized",
                "2025-05-01",
                [1_000, 1_000, 0, 0, 0],
                "0.0018",
            ),
            // Mistral Large (24.02): 1000 × 4 + 1000 × 12
            (
                "mistral.mistral-large-2402-v1:0",
                "in_region",
                "us-east-1",
                "standard",
                "2024-09-01",
                [1_000, 1_000, 0, 0, 0],
                "0.016",
            ),
            // DeepSeek-R1 through `us.`: 1000 × 1.35 + 1000 × 5.40
            (
                "deepseek.r1-v1:0",
                "geo",
                "us-east-1",
                "standard",
                "2025-06-01",
                [1_000, 1_000, 0, 0, 0],
                "0.00675",
            ),
            // gpt-oss-120b: 1000 × 0.15 + 1000 × 0.60
            (
                "openai.gpt-oss-120b-1:0",
                "in_region",
                "us-west-2",
                "standard",
                "2025-09-01",
                [1_000, 1_000, 0, 0, 0],
                "0.00075",
            ),
            // Qwen3 32B: 2000 × 0.15 + 1000 × 0.60
            (
                "qwen.qwen3-32b-v1:0",
                "in_region",
                "us-east-1",
                "standard",
                "2025-10-01",
                [2_000, 1_000, 0, 0, 0],
                "0.0009",
            ),
            // Cohere Command R+: 1000 × 3 + 1000 × 15
            (
                "cohere.command-r-plus-v1:0",
                "in_region",
                "us-east-1",
                "standard",
                "2024-06-01",
                [1_000, 1_000, 0, 0, 0],
                "0.018",
            ),
            // AI21 Jamba 1.5 Mini: 1000 × 0.20 + 1000 × 0.40
            (
                "ai21.jamba-1-5-mini-v1:0",
                "in_region",
                "us-east-1",
                "standard",
                "2024-09-01",
                [1_000, 1_000, 0, 0, 0],
                "0.0006",
            ),
        ];
        let prices = PriceBookInUse::built_in();
        for (model, scope, region, tier, day, [input, output, read, write, write_1h], total) in
            cases
        {
            let request = PricedRequest {
                model: Some(model),
                inference_scope: Some(scope),
                region: Some(region),
                tier,
                date: chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap(),
                tokens: TokenCounts {
                    input_tokens: *input,
                    output_tokens: *output,
                    cache_read_tokens: *read,
                    cache_write_tokens: *write,
                    cache_write_1h_tokens: *write_1h,
                },
                usage_reported: true,
            };
            match price(&prices.book, &request) {
                Pricing::Priced { parts, .. } => {
                    assert_eq!(parts.total(), usd(total), "{model} {scope} {region} {day}")
                }
                other => panic!("{model} {scope} {region} {day}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_shipped_book_leaves_impossible_usage_unpriced() {
        let prices = PriceBookInUse::built_in();
        let request = |model, day, write_1h| PricedRequest {
            model: Some(model),
            inference_scope: Some("geo"),
            region: Some("us-east-1"),
            tier: "standard",
            date: chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap(),
            tokens: TokenCounts {
                input_tokens: 10,
                output_tokens: 10,
                cache_read_tokens: 0,
                cache_write_tokens: write_1h,
                cache_write_1h_tokens: write_1h,
            },
            usage_reported: true,
        };
        let cases = [
            // Bedrock had no 1-hour cache TTL before 2026-01-26
            (
                request(
                    "anthropic.claude-sonnet-4-5-20250929-v1:0",
                    "2025-12-01",
                    100,
                ),
                UnpricedReason::NoRate("cache_write_1h"),
            ),
            // nor for Sonnet 4 at all
            (
                request("anthropic.claude-sonnet-4-20250514-v1:0", "2026-06-01", 100),
                UnpricedReason::NoRate("cache_write_1h"),
            ),
            // before its launch
            (
                request("anthropic.claude-opus-4-7", "2026-04-15", 0),
                UnpricedReason::NoRowInForce,
            ),
            // an id form that is not Bedrock's is not guessed
            (
                request("anthropic.claude-opus-4-6-v1:0", "2026-06-01", 0),
                UnpricedReason::ModelNotInBook,
            ),
        ];
        for (request, reason) in cases {
            assert_eq!(
                price(&prices.book, &request),
                Pricing::Unpriced(reason),
                "{request:?}"
            );
        }
    }

    #[test]
    fn the_shipped_price_book_is_valid_and_covers_the_field_guide() {
        let prices = PriceBookInUse::built_in();
        let date = chrono::NaiveDate::from_ymd_opt(2025, 12, 1).unwrap();
        for model in [
            "anthropic.claude-opus-4-5-20251101-v1:0",
            "anthropic.claude-opus-4-1-20250805-v1:0",
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "anthropic.claude-sonnet-4-20250514-v1:0",
            "anthropic.claude-3-7-sonnet-20250219-v1:0",
            "anthropic.claude-haiku-4-5-20251001-v1:0",
            "anthropic.claude-3-5-haiku-20241022-v1:0",
            "amazon.nova-lite-v1:0",
            "amazon.nova-pro-v1:0",
            "meta.llama3-3-70b-instruct-v1:0",
        ] {
            for scope in ["in_region", "geo", "global"] {
                assert!(
                    prices
                        .book
                        .lookup(model, Some(scope), "standard", "us-east-1", date)
                        .is_some(),
                    "{model} {scope}"
                );
            }
        }
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
