//! What a month spent, read with SQL from a report session's `charged_daily_usage`: requests
//! and their exact cost by who they are charged to, and the newest event the forecast reaches.

use arrow::array::AsArray;
use arrow::datatypes::{DataType, Decimal128Type, Int64Type, TimeUnit, TimestampMillisecondType};
use arrow::error::ArrowError;
use chrono::NaiveDate;

use super::MAX_PICOS;
use super::month::{Month, Progress};
use crate::pricing::COST_SCALE;
use crate::query::{Engine, QueryError, run_on};

/// The requests of a month charged to one (team, identity, end user).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ChargedGroup {
    pub(crate) team: String,
    /// `''` for a request without one.
    pub(crate) identity: String,
    /// Whom a gateway made the request for; `''` when none.
    pub(crate) end_user: String,
    pub(crate) requests: i64,
    pub(crate) unpriced_requests: i64,
    /// The exact cost of the priced requests, in 10⁻¹² USD.
    pub(crate) cost_picos: i128,
}

/// A month's spend by who it is charged to, and how far its data reaches.
#[derive(Clone, Debug)]
pub struct MonthSpend {
    month: Month,
    groups: Vec<ChargedGroup>,
    horizon_ms: Option<i64>,
}

/// Why a month's spend could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SpendError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("reading the spend of the month: {0}")]
    Arrow(#[from] ArrowError),
    #[error("the costs of {0} add up to more than 10^15 USD: the dataset is corrupt")]
    Implausible(Month),
}

impl MonthSpend {
    /// `groups` of `month`, whose newest event is at `horizon_ms` (none without a request).
    /// Refuses a month whose costs add up to more than any bill could.
    pub(crate) fn new(
        month: Month,
        groups: Vec<ChargedGroup>,
        horizon_ms: Option<i64>,
    ) -> Result<Self, SpendError> {
        let total = groups
            .iter()
            .try_fold(0i128, |sum, g| sum.checked_add(g.cost_picos.checked_abs()?));
        if total.is_none_or(|total| total > MAX_PICOS) {
            return Err(SpendError::Implausible(month));
        }
        Ok(MonthSpend {
            month,
            groups,
            horizon_ms,
        })
    }

    pub fn month(&self) -> &Month {
        &self.month
    }

    /// The month's requests by who they are charged to.
    pub(crate) fn groups(&self) -> &[ChargedGroup] {
        &self.groups
    }

    /// The newest event of the month in the data, in milliseconds since the epoch.
    pub fn horizon_ms(&self) -> Option<i64> {
        self.horizon_ms
    }

    /// How much of the month the forecast extrapolates from, on `today`.
    pub fn progress(&self, today: NaiveDate) -> Progress {
        Progress::of(&self.month, self.horizon_ms, today)
    }
}

const SPEND_SQL: &str = "\
SELECT team, coalesce(identity, '') AS identity, coalesce(end_user, '') AS end_user,
  sum(requests) AS requests,
  sum(CASE WHEN price_status = 'unpriced' THEN requests ELSE 0 END) AS unpriced_requests,
  coalesce(sum(cost_usd), CAST(0 AS DECIMAL(38, 12))) AS cost_usd,
  max(last_timestamp) AS newest
FROM charged_daily_usage
WHERE month = $month
GROUP BY team, coalesce(identity, ''), coalesce(end_user, '')";

/// Reads the spend of `month` from a report session's `charged_daily_usage`.
pub async fn month_spend(engine: &dyn Engine, month: &Month) -> Result<MonthSpend, SpendError> {
    let result = run_on(engine, SPEND_SQL, &[("month", &month.to_string())]).await?;
    let mut groups = Vec::new();
    let mut horizon_ms: Option<i64> = None;
    let utc = Some("UTC".into());
    for batch in &result.batches {
        let column = |index: usize, to: &DataType| arrow::compute::cast(batch.column(index), to);
        let text = |index: usize| column(index, &DataType::Utf8);
        let (team, identity, end_user) = (text(0)?, text(1)?, text(2)?);
        let (requests, unpriced) = (column(3, &DataType::Int64)?, column(4, &DataType::Int64)?);
        let cost = column(5, &DataType::Decimal128(38, COST_SCALE))?;
        let newest = column(6, &DataType::Timestamp(TimeUnit::Millisecond, utc.clone()))?;
        let newest = newest.as_primitive::<TimestampMillisecondType>();
        for row in 0..batch.num_rows() {
            groups.push(ChargedGroup {
                team: team.as_string::<i32>().value(row).to_owned(),
                identity: identity.as_string::<i32>().value(row).to_owned(),
                end_user: end_user.as_string::<i32>().value(row).to_owned(),
                requests: requests.as_primitive::<Int64Type>().value(row),
                unpriced_requests: unpriced.as_primitive::<Int64Type>().value(row),
                cost_picos: cost.as_primitive::<Decimal128Type>().value(row),
            });
            horizon_ms = horizon_ms.max(Some(newest.value(row)));
        }
    }
    MonthSpend::new(month.clone(), groups, horizon_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budgets::PICOS_PER_USD;
    use crate::budgets::tests::group;

    #[test]
    fn refuses_a_month_no_bill_could_reach() {
        let month = || Month::parse("2026-10").unwrap();
        let usd = |n: i128| n * PICOS_PER_USD;
        let limit = vec![
            group("a", "", "", usd(600_000_000_000_000)),
            group("b", "", "", usd(400_000_000_000_000)),
        ];
        assert!(MonthSpend::new(month(), limit, None).is_ok());
        for groups in [
            vec![group("a", "", "", usd(1_000_000_000_000_000) + 1)],
            vec![group("a", "", "", i128::MAX), group("b", "", "", i128::MAX)],
            vec![group("a", "", "", i128::MIN)],
        ] {
            assert!(matches!(
                MonthSpend::new(month(), groups, None),
                Err(SpendError::Implausible(_))
            ));
        }
    }
}
