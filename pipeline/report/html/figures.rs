//! Money and counts as the report prints them. A figure carries its exact micro-dollars (what
//! the chargeback CSV says) beside the text shown, so a reader — or a test — can check every
//! number on the page against the CSV.

use serde::Serialize;

use crate::pricing::{div_half_even, format_micros};

/// One amount on the page: `key` names what it is (`total`, `team:web`, …), `usd` is the exact
/// value with 6 decimals as in the CSV, `text` the amount in whole cents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Figure {
    pub key: String,
    pub usd: String,
    pub text: String,
}

impl Figure {
    pub fn new(key: impl Into<String>, micros: i128) -> Self {
        Figure {
            key: key.into(),
            usd: format_micros(micros),
            text: usd_text(micros),
        }
    }
}

/// Micro-dollars as `$1,234.57`: rounded half to even to the cent, as finance rounds.
pub fn usd_text(micros: i128) -> String {
    let cents = div_half_even(micros, 10_000);
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}${}.{:02}", thousands(cents / 100), cents % 100)
}

/// A count with thousands separators: `1234567` → `1,234,567`.
pub fn count_text(n: i64) -> String {
    let sign = if n < 0 { "-" } else { "" };
    format!("{sign}{}", thousands(n.unsigned_abs().into()))
}

/// `part` as a percentage of `whole` with one decimal; empty when `whole` is 0.
pub fn percent_text(part: i128, whole: i128) -> String {
    if whole == 0 {
        return String::new();
    }
    // Tenths of a percent, rounded half to even.
    let tenths = div_half_even(part * 1000, whole);
    let sign = if tenths < 0 { "-" } else { "" };
    let tenths = tenths.unsigned_abs();
    format!("{sign}{}.{}%", tenths / 10, tenths % 10)
}

fn thousands(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_to_the_cent_half_to_even() {
        let cases: &[(i128, &str)] = &[
            (0, "$0.00"),
            (4_999, "$0.00"),
            (5_000, "$0.00"),
            (15_000, "$0.02"),
            (25_000, "$0.02"),
            (25_001, "$0.03"),
            (1_234_567_890_000, "$1,234,567.89"),
            (-1_005_000, "-$1.00"),
            (-1_015_000, "-$1.02"),
        ];
        for (micros, text) in cases {
            assert_eq!(usd_text(*micros), *text, "{micros}");
        }
        assert_eq!(
            Figure::new("team:web", 128_112),
            Figure {
                key: "team:web".into(),
                usd: "0.128112".into(),
                text: "$0.13".into()
            }
        );
    }

    #[test]
    fn formats_counts_and_shares() {
        let counts: &[(i64, &str)] = &[
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (-1_234_567, "-1,234,567"),
        ];
        for (n, text) in counts {
            assert_eq!(count_text(*n), *text);
        }
        let shares: &[(i128, i128, &str)] = &[
            (1, 3, "33.3%"),
            (2, 3, "66.7%"),
            (1, 2000, "0.0%"),
            (1, 1, "100.0%"),
            (5, 0, ""),
            (-1, 8, "-12.5%"),
            (1, 16, "6.2%"),
        ];
        for (part, whole, text) in shares {
            assert_eq!(percent_text(*part, *whole), *text, "{part}/{whole}");
        }
    }
}
