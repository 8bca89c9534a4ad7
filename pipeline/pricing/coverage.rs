//! Coverage: which usage a price book leaves unpriced, grouped by month, model, scope, region,
//! tier and reason. This is what `prices check` and the nightly `run` warn about before finance
//! sees a report with a hole in it.
//!
//! Pure: batches of stored invocations in, groups out. Reading the dataset is the caller's job.

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::error::ArrowError;

use super::batch::RequestColumns;
use super::book::PriceBook;
use super::cost::{Pricing, UnpricedReason, price};

/// What identifies one group of unpriced usage.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnpricedKey {
    pub month: String,
    pub model: Option<String>,
    pub scope: Option<String>,
    pub region: Option<String>,
    pub tier: String,
    pub reason: UnpricedReason,
}

/// Requests and tokens of one group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UsageTotals {
    pub requests: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
}

/// Accumulates, batch by batch, the usage that a book does not price.
#[derive(Debug)]
pub struct CoverageCheck<'a> {
    book: &'a PriceBook,
    unpriced: BTreeMap<UnpricedKey, UsageTotals>,
    /// Requests with usage seen, priced or not.
    pub requests_with_usage: u64,
}

impl<'a> CoverageCheck<'a> {
    /// A check against `book`.
    pub fn new(book: &'a PriceBook) -> Self {
        CoverageCheck {
            book,
            unpriced: BTreeMap::new(),
            requests_with_usage: 0,
        }
    }

    /// Prices every row of `batch`, which needs the columns pricing reads plus `month`.
    pub fn add_batch(&mut self, batch: &RecordBatch) -> Result<(), ArrowError> {
        let requests = RequestColumns::new(batch)?;
        let month = batch
            .column_by_name("month")
            .and_then(|c| c.as_string_opt::<i32>())
            .ok_or_else(|| ArrowError::SchemaError("coverage needs a `month` column".into()))?;
        for row in 0..batch.num_rows() {
            let request = requests.request(row);
            if !request.usage_reported {
                continue;
            }
            self.requests_with_usage += 1;
            let Pricing::Unpriced(reason) = price(self.book, &request) else {
                continue;
            };
            let key = UnpricedKey {
                month: if month.is_valid(row) {
                    month.value(row).to_owned()
                } else {
                    String::new()
                },
                model: request.model.map(str::to_owned),
                scope: request.inference_scope.map(str::to_owned),
                region: request.region.map(str::to_owned),
                tier: request.tier.to_owned(),
                reason,
            };
            let totals = self.unpriced.entry(key).or_default();
            let tokens = request.tokens;
            totals.requests += 1;
            totals.input_tokens += tokens.input_tokens;
            totals.output_tokens += tokens.output_tokens;
            totals.cache_read_tokens += tokens.cache_read_tokens;
            totals.cache_write_tokens += tokens.cache_write_tokens;
        }
        Ok(())
    }

    /// The unpriced groups, sorted by month, model, scope, region, tier and reason.
    pub fn unpriced(&self) -> Vec<(UnpricedKey, UsageTotals)> {
        self.unpriced
            .iter()
            .map(|(key, totals)| (key.clone(), *totals))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{BooleanArray, Int64Array, StringArray, TimestampMillisecondArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;
    use crate::rows::schema::timestamp_type;

    const HEADER: &str = "model,scope,region,effective_from,input,output,cache_read,cache_write_5m,cache_write_1h,long_context_threshold,lc_input,lc_output,lc_cache_read,lc_cache_write_5m,lc_cache_write_1h";

    /// (month, model, scope, region, epoch ms, input, cache read, usage reported)
    type Row = (
        &'static str,
        Option<&'static str>,
        &'static str,
        &'static str,
        i64,
        i64,
        i64,
        bool,
    );

    fn batch(rows: &[Row]) -> RecordBatch {
        let text = |name: &str| Field::new(name, DataType::Utf8, true);
        let count = |name: &str| Field::new(name, DataType::Int64, false);
        let schema = Schema::new(vec![
            text("month"),
            text("model"),
            text("inference_scope"),
            text("region"),
            text("service_tier"),
            Field::new("timestamp", timestamp_type(), false),
            count("input_tokens"),
            count("output_tokens"),
            count("cache_read_tokens"),
            count("cache_write_tokens"),
            count("cache_write_1h_tokens"),
            Field::new("usage_reported", DataType::Boolean, false),
        ]);
        let strings = |f: &dyn Fn(&Row) -> Option<&'static str>| {
            Arc::new(StringArray::from(rows.iter().map(f).collect::<Vec<_>>())) as _
        };
        let ints = |f: &dyn Fn(&Row) -> i64| {
            Arc::new(Int64Array::from(rows.iter().map(f).collect::<Vec<_>>())) as _
        };
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                strings(&|r| Some(r.0)),
                strings(&|r| r.1),
                strings(&|r| Some(r.2)),
                strings(&|r| Some(r.3)),
                strings(&|_| None),
                Arc::new(
                    TimestampMillisecondArray::from(rows.iter().map(|r| r.4).collect::<Vec<_>>())
                        .with_timezone("UTC"),
                ),
                ints(&|r| r.5),
                ints(&|_| 1),
                ints(&|r| r.6),
                ints(&|_| 0),
                ints(&|_| 0),
                Arc::new(BooleanArray::from(
                    rows.iter().map(|r| r.7).collect::<Vec<_>>(),
                )),
            ],
        )
        .unwrap()
    }

    #[test]
    fn groups_what_the_book_does_not_price() {
        let book =
            PriceBook::from_csv(format!("{HEADER}\nm,*,*,2025-10-01,1,1,,,,,,,,,\n").as_bytes())
                .unwrap();
        // 2025-10-02 and 2025-09-15, in ms
        let (oct, sep) = (1_759_363_200_000, 1_757_894_400_000);
        let rows: &[Row] = &[
            ("2025-10", Some("m"), "geo", "us-east-1", oct, 10, 0, true),
            ("2025-10", Some("m"), "geo", "us-east-1", oct, 10, 5, true),
            ("2025-10", Some("m"), "geo", "us-east-1", oct, 7, 3, true),
            ("2025-09", Some("m"), "geo", "us-east-1", sep, 4, 0, true),
            (
                "2025-10",
                Some("new"),
                "global",
                "eu-west-1",
                oct,
                2,
                0,
                true,
            ),
            ("2025-10", None, "application", "us-east-1", oct, 1, 0, true),
            (
                "2025-10",
                Some("new"),
                "global",
                "eu-west-1",
                oct,
                0,
                0,
                false,
            ),
        ];
        let mut check = CoverageCheck::new(&book);
        check.add_batch(&batch(rows)).unwrap();
        assert_eq!(check.requests_with_usage, 6);
        let got: Vec<(String, Option<String>, UnpricedReason, u64, u64, u64)> = check
            .unpriced()
            .into_iter()
            .map(|(k, t)| {
                (
                    k.month,
                    k.model,
                    k.reason,
                    t.requests,
                    t.input_tokens,
                    t.cache_read_tokens,
                )
            })
            .collect();
        let want = vec![
            (
                "2025-09".to_owned(),
                Some("m".to_owned()),
                UnpricedReason::NoRowInForce,
                1,
                4,
                0,
            ),
            (
                "2025-10".to_owned(),
                None,
                UnpricedReason::UnknownModel,
                1,
                1,
                0,
            ),
            (
                "2025-10".to_owned(),
                Some("m".to_owned()),
                UnpricedReason::NoRate("cache_read"),
                2,
                17,
                8,
            ),
            (
                "2025-10".to_owned(),
                Some("new".to_owned()),
                UnpricedReason::ModelNotInBook,
                1,
                2,
                0,
            ),
        ];
        assert_eq!(got, want);
    }
}
