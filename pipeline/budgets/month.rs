//! The calendar month a check covers, and how much of it the data covers: the month-end
//! forecast scales what was spent by the length of the month over the part of it up to its
//! newest event, and is what was spent once the month is over.

use std::fmt;

use chrono::{Datelike, Days, Months, NaiveDate, NaiveTime};

use super::PICOS_PER_MICRO;
use crate::pricing::div_half_even;

/// A calendar month, UTC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Month {
    first_day: NaiveDate,
    next_first_day: NaiveDate,
}

impl Month {
    /// `YYYY-MM`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let month = crate::report::parse_month(text)?;
        NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
            .map(Month::containing)
            .map_err(|e| format!("{text:?}: {e}"))
    }

    /// The month `day` is in.
    pub fn containing(day: NaiveDate) -> Self {
        let first_day = day - Days::new(u64::from(day.day0()));
        Month {
            first_day,
            next_first_day: first_day + Months::new(1),
        }
    }

    /// Whether every day of the month is before `today`.
    pub fn is_over(&self, today: NaiveDate) -> bool {
        self.next_first_day <= today
    }

    fn start_ms(&self) -> i64 {
        self.first_day
            .and_time(NaiveTime::MIN)
            .and_utc()
            .timestamp_millis()
    }

    fn length_ms(&self) -> i64 {
        (self.next_first_day - self.first_day).num_milliseconds()
    }
}

impl fmt::Display for Month {
    /// `YYYY-MM`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.first_day.format("%Y-%m"))
    }
}

/// How much of a month the forecast extrapolates from, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    elapsed_ms: i128,
    month_ms: i128,
}

impl Progress {
    /// The whole month once it is over (the forecast is what was spent); otherwise the time
    /// from its start to `horizon_ms`, the newest event of the month in the data. Without an
    /// event after the month's first instant there is nothing to extrapolate from, and the
    /// forecast is what was spent.
    pub(crate) fn of(month: &Month, horizon_ms: Option<i64>, today: NaiveDate) -> Self {
        let month_ms = i128::from(month.length_ms());
        let elapsed_ms = match horizon_ms {
            Some(horizon) if !month.is_over(today) => {
                (i128::from(horizon) - i128::from(month.start_ms())).clamp(0, month_ms)
            }
            _ => month_ms,
        };
        Progress {
            elapsed_ms: if elapsed_ms == 0 {
                month_ms
            } else {
                elapsed_ms
            },
            month_ms,
        }
    }

    /// Whether the forecast is what was spent.
    pub fn is_complete(&self) -> bool {
        self.elapsed_ms == self.month_ms
    }

    /// The month-end forecast of `spent_picos`, in micro-dollars (half to even).
    pub(crate) fn forecast_micros(&self, spent_picos: i128) -> i128 {
        div_half_even(
            spent_picos * self.month_ms,
            self.elapsed_ms * PICOS_PER_MICRO,
        )
    }

    /// Whether the exact forecast of `spent_picos` is more than `budget_picos`.
    pub(crate) fn forecast_exceeds(&self, spent_picos: i128, budget_picos: i128) -> bool {
        spent_picos * self.month_ms > budget_picos * self.elapsed_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budgets::tests::{day, ms};

    #[test]
    fn reads_months() {
        let cases = [
            ("2026-02", "2026-02-01", 28),
            ("2024-02", "2024-02-01", 29),
            ("2026-11", "2026-11-01", 30),
            ("2026-12", "2026-12-01", 31),
        ];
        for (text, first, days) in cases {
            let month = Month::parse(text).unwrap();
            assert_eq!(month.to_string(), text);
            assert_eq!(month, Month::containing(day(first)));
            assert_eq!(month.start_ms(), ms(&format!("{first}T00:00:00Z")));
            assert_eq!(month.length_ms(), days * 86_400_000);
        }
        assert_eq!(
            Month::containing(day("2026-12-31")),
            Month::parse("2026-12").unwrap()
        );
        for bad in ["2026-13", "2026-1", "last-month"] {
            assert!(Month::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn forecasts_the_month_end_from_the_data_so_far() {
        // month, newest event (`-`: none), today, spent in 10⁻¹² USD => forecast in
        // micro-dollars, and whether the forecast is what was spent (`complete`) or not.
        let cases = [
            // 2 days 16:09 of 30 days (230,940 of 2,592,000 s); 0.0444114 USD so far.
            "2026-11 2026-11-03T16:09:00Z 2026-11-04 44411400000 => 498460 partial",
            // The same data once the month is over: the forecast is what was spent.
            "2026-11 2026-11-03T16:09:00Z 2026-12-01 44411400000 => 44411 complete",
            "2026-11 2026-11-03T16:09:00Z 2027-03-15 44411400000 => 44411 complete",
            // The month's last day is not over yet: 28 of 30 days.
            "2026-11 2026-11-29T00:00:00Z 2026-11-30 29000000 => 31 partial",
            // Half of February: twice what was spent, rounded half to even.
            "2026-02 2026-02-15T00:00:00Z 2026-02-16 1000000000000 => 2000000 partial",
            "2026-02 2026-02-15T00:00:00Z 2026-02-16 250000 => 0 partial",
            "2026-02 2026-02-15T00:00:00Z 2026-02-16 750000 => 2 partial",
            "2026-02 2026-02-15T00:00:00Z 2026-02-16 750001 => 2 partial",
            "2026-02 2026-02-15T00:00:00Z 2026-02-16 1250000 => 2 partial",
            // A millisecond of data extrapolates to the whole month (2,419,200,000 ms).
            "2026-02 2026-02-01T00:00:00.001Z 2026-02-02 1 => 2419 partial",
            // Nothing to extrapolate from: no event, or only at the first instant.
            "2026-11 - 2026-11-04 0 => 0 complete",
            "2026-11 2026-11-01T00:00:00Z 2026-11-04 7000000 => 7 complete",
        ];
        for case in cases {
            let fields: Vec<&str> = case.split_whitespace().collect();
            let &[month, horizon, today, spent, "=>", forecast, progress] = &fields[..] else {
                panic!("{case}");
            };
            let horizon = Some(horizon).filter(|h| *h != "-").map(ms);
            let got = Progress::of(&Month::parse(month).unwrap(), horizon, day(today));
            let spent: i128 = spent.parse().unwrap();
            assert_eq!(
                (got.forecast_micros(spent), got.is_complete()),
                (forecast.parse().unwrap(), progress == "complete"),
                "{case}"
            );
        }
    }
}
