//! Pricing: every request priced exactly with the rates in force on its UTC date.
//!
//! [`book`] reads and validates the price book, [`cost`] prices one request (pure, integer
//! arithmetic), [`batch`] prices Arrow batches as a month is written. The price book shipped
//! with the binary is `prices.csv` beside this file.

pub mod batch;
pub mod book;
pub mod cost;

pub use book::{PriceBook, PriceBookError};
pub use cost::{
    COST_SCALE, CostParts, PricedRequest, Pricing, format_micros, price, round_to_micros,
};

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
                        .lookup(model, Some(scope), "us-east-1", date)
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
