//! Exact money for the reconciliation: decimal text → 10⁻¹² USD, and percentages of exact
//! amounts.
//!
//! A CUR cost arrives as text (the gzip CSV) or as a double (Parquet, read back through its
//! shortest round-trip decimal, which is the text AWS wrote). Either way it is parsed digit by
//! digit, never through floating point, onto the scale of the dataset's cost columns
//! ([`crate::pricing::COST_SCALE`] decimals). Digits past the 12th (a double's noise, far below a
//! picodollar) are rounded half to even.

use crate::pricing::{COST_SCALE, div_half_even};

/// Most significant digits a decimal may have: 10³⁸ still fits in an `i128`.
const MAX_DIGITS: usize = 38;

/// Parses a decimal number (`-0.0000033`, `12`, `1.5E-7`) into units of 10⁻¹², exactly up to
/// the 12th decimal and rounded half to even beyond it. NaN, infinities, empty text and anything
/// that is not a plain decimal are refused with the reason.
pub fn parse_picos(text: &str) -> Result<i128, String> {
    let bad = || format!("{text:?} is not a decimal number");
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => {
            let exponent: i32 = unsigned[at + 1..].parse().map_err(|_| bad())?;
            (&unsigned[..at], exponent)
        }
        None => (unsigned, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !digits(whole) || !digits(fraction) {
        return Err(bad());
    }
    let all = format!("{whole}{fraction}");
    let significant = all.trim_start_matches('0');
    if significant.len() > MAX_DIGITS || exponent.unsigned_abs() > 100 {
        return Err(format!("{text:?} is out of range"));
    }
    let value: i128 = if significant.is_empty() {
        0
    } else {
        significant.parse().map_err(|_| bad())?
    };
    // value × 10^(exponent − fraction digits) USD = value × 10^shift picodollars.
    let shift = exponent + i32::from(COST_SCALE) - fraction.len() as i32;
    let picos = if shift >= 0 {
        10i128
            .checked_pow(shift.unsigned_abs())
            .and_then(|scale| value.checked_mul(scale))
            .ok_or_else(|| format!("{text:?} is out of range"))?
    } else {
        divide_half_even(value, shift.unsigned_abs())
    };
    Ok(if negative { -picos } else { picos })
}

/// `value / 10^drop`, rounded half to even (`value` ≥ 0).
fn divide_half_even(value: i128, drop: u32) -> i128 {
    let Some(divisor) = 10i128.checked_pow(drop) else {
        // value < 10³⁸ < half of 10^drop: it rounds to 0.
        return 0;
    };
    div_half_even(value, divisor)
}

/// `part / whole` as a percentage with two decimals, rounded half to even (`-3.25`), or `None`
/// when `whole` is 0.
pub fn percent(part: i128, whole: i128) -> Option<String> {
    if whole == 0 {
        return None;
    }
    // Hundredths of a percent, with the signs folded onto the numerator.
    let (part, whole) = if whole < 0 {
        (-part, -whole)
    } else {
        (part, whole)
    };
    let scaled = part.checked_mul(10_000)?;
    let magnitude = {
        let (quotient, remainder) = (scaled.abs() / whole, scaled.abs() % whole);
        match (remainder * 2).cmp(&whole) {
            std::cmp::Ordering::Less => quotient,
            std::cmp::Ordering::Greater => quotient + 1,
            std::cmp::Ordering::Equal => quotient + (quotient & 1),
        }
    };
    let sign = if scaled < 0 && magnitude != 0 {
        "-"
    } else {
        ""
    };
    Some(format!("{sign}{}.{:02}", magnitude / 100, magnitude % 100))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cur_decimals_exactly() {
        let cases: &[(&str, Result<i128, ()>)] = &[
            ("0", Ok(0)),
            ("0.0000033", Ok(3_300_000)),
            ("0.0000033000", Ok(3_300_000)),
            ("12", Ok(12_000_000_000_000)),
            ("-0.05", Ok(-50_000_000_000)),
            ("+1.5", Ok(1_500_000_000_000)),
            (".25", Ok(250_000_000_000)),
            ("3.", Ok(3_000_000_000_000)),
            ("1.5E-7", Ok(150_000)),
            ("2e3", Ok(2_000_000_000_000_000)),
            // a double's noise below a picodollar is rounded half to even
            ("0.30000000000000004", Ok(300_000_000_000)),
            ("0.0000000000005", Ok(0)),
            ("0.0000000000015", Ok(2)),
            ("0.00000000000150001", Ok(2)),
            ("1e-200", Err(())),
            ("NaN", Err(())),
            ("inf", Err(())),
            ("-inf", Err(())),
            ("", Err(())),
            ("-", Err(())),
            (".", Err(())),
            ("1,5", Err(())),
            ("0x10", Err(())),
            ("1.2.3", Err(())),
            ("1e", Err(())),
            (" 1", Err(())),
            ("123456789012345678901234567890123456789", Err(())),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_picos(text).map_err(|_| ()), *expected, "{text}");
        }
        assert_eq!(
            parse_picos("abc").unwrap_err(),
            "\"abc\" is not a decimal number"
        );
    }

    #[test]
    fn percentages_round_half_to_even_and_are_absent_for_zero() {
        let cases: &[(i128, i128, Option<&str>)] = &[
            (1, 4, Some("25.00")),
            (-1, 3, Some("-33.33")),
            (2, 3, Some("66.67")),
            (1, 8, Some("12.50")),
            // 0.125% → 0.12, 0.375% → 0.38
            (1, 800, Some("0.12")),
            (3, 800, Some("0.38")),
            (-1, 1_000_000, Some("0.00")),
            (5, -10, Some("-50.00")),
            (0, 7, Some("0.00")),
            (7, 0, None),
        ];
        for (part, whole, expected) in cases {
            assert_eq!(
                percent(*part, *whole).as_deref(),
                *expected,
                "{part}/{whole}"
            );
        }
    }
}
