//! Monthly budgets per team or identity: the budgets file (`scope,pattern,monthly_usd`), what a
//! month spent against each of its rows, the month-end forecast, and the status.
//!
//! Money stays exact: spent is the exact sum of `cost_usd` (10⁻¹² USD), budgets are exact
//! micro-dollars, statuses compare the exact amounts, and printed amounts are rounded once, half
//! to even, to the micro-dollar. The forecast scales what was spent by the length of the month
//! over the part of it the data covers, up to its newest event (see `docs/budgets.md`).
//!
//! `file` reads the budgets file; `spend` reads what the month spent, by who it is charged to,
//! from a report session; `month` says how much of the month the data covers and forecasts its
//! end; [`evaluate`], here, sets each budget against the spend and gives its [`Status`]; `table`
//! lays the lines out to print.

mod file;
mod month;
mod spend;
mod table;

use chrono::NaiveDate;

use crate::pricing::{COST_SCALE, div_half_even, round_to_micros};
pub use file::{Budget, Budgets, BudgetsFileError};
pub use month::{Month, Progress};
pub use spend::{MonthSpend, SpendError, month_spend};
pub use table::budget_table;

/// The largest amount a budget or a month's spend may reach: 10¹⁵ USD. Far beyond any real
/// bill, and small enough that every product the forecast, the statuses and the percentages
/// take fits an `i128`.
const MAX_PICOS: i128 = 1_000_000_000_000_000 * PICOS_PER_USD;
const PICOS_PER_USD: i128 = 10i128.pow(COST_SCALE as u32);
const PICOS_PER_MICRO: i128 = PICOS_PER_USD / 1_000_000;

/// Where a budget stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// Not over yet, but the month-end forecast is.
    ForecastOver,
    /// Spent more than the budget.
    Over,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::ForecastOver => "forecast over",
            Status::Over => "over",
        }
    }
}

/// One budget row against the month.
#[derive(Clone, Debug)]
pub struct BudgetLine<'a> {
    pub budget: &'a Budget,
    pub(crate) requests: i64,
    /// Requests without a price: spent is a lower bound when there are any.
    pub unpriced_requests: i64,
    /// Exact, in 10⁻¹² USD.
    spent_picos: i128,
    pub forecast_micros: i128,
    pub status: Status,
}

impl BudgetLine<'_> {
    /// Spent, rounded half to even to the micro-dollar.
    pub fn spent_micros(&self) -> i128 {
        round_to_micros(self.spent_picos)
    }

    /// Spent as a percentage of the budget, with one decimal (half to even).
    pub(crate) fn used_pct(&self) -> String {
        let tenths = div_half_even(
            self.spent_picos * 1000,
            self.budget.monthly_micros * PICOS_PER_MICRO,
        );
        format!("{}.{}", tenths / 10, tenths % 10)
    }
}

/// Every budget, in file order, against the spend of its month as known on `today`.
pub fn evaluate<'a>(
    budgets: &'a Budgets,
    spend: &MonthSpend,
    today: NaiveDate,
) -> Vec<BudgetLine<'a>> {
    let progress = spend.progress(today);
    budgets
        .rows()
        .iter()
        .map(|budget| {
            let covered = spend.groups().iter().filter(|g| budget.covers(g));
            let (requests, unpriced_requests, spent_picos) = covered
                .fold((0, 0, 0), |(r, u, c), g| {
                    (r + g.requests, u + g.unpriced_requests, c + g.cost_picos)
                });
            let budget_picos = budget.monthly_micros * PICOS_PER_MICRO;
            let status = if spent_picos > budget_picos {
                Status::Over
            } else if progress.forecast_exceeds(spent_picos, budget_picos) {
                Status::ForecastOver
            } else {
                Status::Ok
            };
            BudgetLine {
                budget,
                requests,
                unpriced_requests,
                spent_picos,
                forecast_micros: progress.forecast_micros(spent_picos),
                status,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::spend::ChargedGroup;
    use super::*;
    use crate::pricing::format_micros;

    // `day`, `ms`, `budgets` and `group` serve the tests of the other files too.

    pub(super) fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    pub(super) fn ms(text: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_millis()
    }

    pub(super) fn budgets(text: &str) -> Budgets {
        Budgets::from_csv(text.as_bytes()).unwrap()
    }

    pub(super) fn group(
        team: &str,
        identity: &str,
        end_user: &str,
        cost_picos: i128,
    ) -> ChargedGroup {
        ChargedGroup {
            team: team.into(),
            identity: identity.into(),
            end_user: end_user.into(),
            requests: 2,
            unpriced_requests: i64::from(cost_picos == 0),
            cost_picos,
        }
    }

    /// The lines as CSV.
    fn csv(lines: &[BudgetLine<'_>]) -> String {
        let table = budget_table(lines).unwrap();
        let bytes = crate::query::format_result(&table, crate::query::OutputFormat::Csv).unwrap();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn evaluates_each_budget_against_the_requests_its_pattern_matches() {
        const USD: i128 = PICOS_PER_USD;
        const CI: &str = "arn:aws:iam::111122223333:role/ci-runner";
        const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
        const GATEWAY: &str = "arn:aws:iam::444455556666:role/llm-gateway";
        let groups = vec![
            group("platform", CI, "", 6 * USD),
            group("platform-eu", CI, "", USD),
            group("web", ALICE, "", 3 * USD),
            group("web", "", "", 0),
            group("UNALLOCATED", GATEWAY, "jane@example.com", 2 * USD),
            group("UNALLOCATED", GATEWAY, "", USD / 2),
        ];
        // Half of November has passed: forecasts are twice what was spent.
        let month = Month::parse("2026-11").unwrap();
        let spend = MonthSpend::new(month, groups, Some(ms("2026-11-16T00:00:00Z"))).unwrap();
        let budgets = budgets(
            "scope,pattern,monthly_usd\n\
             team,platform,5\n\
             team,platform*,20\n\
             team,web,4\n\
             identity,arn:aws:iam::111122223333:user/*,6\n\
             identity,jane@example.com,3\n\
             identity,*@example.com,1000\n\
             identity,arn:aws:iam::444455556666:role/*,2.5\n\
             team,research,1\n\
             identity,*,100\n",
        );
        // In file order. jane@example.com is an end user a gateway named: matched as an
        // identity is. `team,research` matches nothing: spent 0, not an error.
        assert_eq!(
            csv(&evaluate(&budgets, &spend, day("2026-11-16"))),
            "scope,pattern,spent_usd,forecast_usd,budget_usd,used_pct,status,requests,unpriced_requests\n\
             team,platform,6.000000,12.000000,5.000000,120.0,over,2,0\n\
             team,platform*,7.000000,14.000000,20.000000,35.0,ok,4,0\n\
             team,web,3.000000,6.000000,4.000000,75.0,forecast over,4,1\n\
             identity,arn:aws:iam::111122223333:user/*,3.000000,6.000000,6.000000,50.0,ok,2,0\n\
             identity,jane@example.com,2.000000,4.000000,3.000000,66.7,forecast over,2,0\n\
             identity,*@example.com,2.000000,4.000000,1000.000000,0.2,ok,2,0\n\
             identity,arn:aws:iam::444455556666:role/*,2.500000,5.000000,2.500000,100.0,forecast over,4,0\n\
             team,research,0.000000,0.000000,1.000000,0.0,ok,0,0\n\
             identity,*,12.500000,25.000000,100.000000,12.5,ok,12,1\n"
        );

        // The same spend once November is over: forecasts are what was spent.
        let over = evaluate(&budgets, &spend, day("2026-12-02"));
        let got: Vec<(i128, i128, Status)> = over
            .iter()
            .map(|l| (l.spent_micros(), l.forecast_micros, l.status))
            .collect();
        assert_eq!(got[0], (6_000_000, 6_000_000, Status::Over));
        assert_eq!(got[2], (3_000_000, 3_000_000, Status::Ok));
        assert_eq!(got[6], (2_500_000, 2_500_000, Status::Ok));
    }

    #[test]
    fn compares_exact_amounts_not_rounded_ones() {
        let spend = |picos| {
            let month = Month::parse("2026-10").unwrap();
            let groups = vec![group("web", "", "", picos)];
            MonthSpend::new(month, groups, Some(ms("2026-10-31T23:59:59.999Z"))).unwrap()
        };
        let budgets = budgets("scope,pattern,monthly_usd\nteam,web,10\n");
        let cases = [
            (10_000_000_000_000, Status::Ok, "10.000000", "100.0"),
            // Prints as 10.000000 but is more.
            (10_000_000_000_001, Status::Over, "10.000000", "100.0"),
            (10_000_000_400_000, Status::Over, "10.000000", "100.0"),
            (9_999_999_000_000, Status::Ok, "9.999999", "100.0"),
            (9_990_000_000_000, Status::Ok, "9.990000", "99.9"),
        ];
        for (picos, status, spent, pct) in cases {
            let lines = evaluate(&budgets, &spend(picos), day("2026-11-01"));
            let l = &lines[0];
            assert_eq!(
                (l.status, format_micros(l.spent_micros()), l.used_pct()),
                (status, spent.to_owned(), pct.to_owned()),
                "{picos}"
            );
        }
    }

    #[test]
    fn rounds_spent_once_half_to_even() {
        let budgets = budgets("scope,pattern,monthly_usd\nteam,web,4\nteam,*,0.5\n");
        let month = Month::parse("2026-10").unwrap();
        let groups = vec![group("web", "", "", 1_234_567_500_000)];
        let spend = MonthSpend::new(month, groups, None).unwrap();
        assert_eq!(
            csv(&evaluate(&budgets, &spend, day("2026-11-01"))),
            "scope,pattern,spent_usd,forecast_usd,budget_usd,used_pct,status,requests,unpriced_requests\n\
             team,web,1.234568,1.234568,4.000000,30.9,ok,2,0\n\
             team,*,1.234568,1.234568,0.500000,246.9,over,2,0\n"
        );
    }
}
