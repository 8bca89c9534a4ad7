//! Price-book coverage of a dataset: every (month, model, scope, region, tier) whose usage a
//! book does not price, with requests and tokens, read from the stored token counts (so a new
//! book can be checked before `reprice`).

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::prelude::SessionContext;
use futures::TryStreamExt;

use crate::dataset::DatasetError;
use crate::dataset::batch::with_plain_types;
use crate::pricing::PriceBook;
use crate::pricing::coverage::{CoverageCheck, UnpricedKey, UsageTotals};
use crate::query::QueryResult;

/// Usage a book leaves unpriced.
#[derive(Debug)]
pub struct Coverage {
    /// Requests with usage that were checked.
    pub requests_with_usage: u64,
    /// The unpriced groups, sorted.
    pub unpriced: Vec<(UnpricedKey, UsageTotals)>,
}

impl Coverage {
    /// Unpriced requests in all.
    pub fn unpriced_requests(&self) -> u64 {
        self.unpriced.iter().map(|(_, t)| t.requests).sum()
    }
}

/// Prices every request with usage in `months` (every month when empty) of the session's
/// `invocations` table against `book`, streaming, and returns what stays unpriced.
pub async fn check_coverage(
    ctx: &SessionContext,
    book: &PriceBook,
    months: &[String],
) -> Result<Coverage, DatasetError> {
    let filter = if months.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = months
            .iter()
            .map(|m| format!("'{}'", m.replace('\'', "''")))
            .collect();
        format!(" AND month IN ({})", list.join(", "))
    };
    let sql = format!(
        "SELECT month, model, inference_scope, region, service_tier, timestamp, input_tokens, output_tokens, \
         cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, usage_reported \
         FROM invocations WHERE usage_reported{filter}"
    );
    let mut stream = ctx.sql(&sql).await?.execute_stream().await?;
    let mut check = CoverageCheck::new(book);
    while let Some(batch) = stream.try_next().await? {
        check.add_batch(&with_plain_types(&batch)?)?;
    }
    Ok(Coverage {
        requests_with_usage: check.requests_with_usage,
        unpriced: check.unpriced(),
    })
}

/// The unpriced groups as a result to print in any output format.
pub fn coverage_table(coverage: &Coverage) -> Result<QueryResult, DatasetError> {
    let text = |name: &str| Field::new(name, DataType::Utf8, true);
    let count = |name: &str| Field::new(name, DataType::UInt64, false);
    let schema = Arc::new(Schema::new(vec![
        text("month"),
        text("model"),
        text("scope"),
        text("region"),
        text("tier"),
        count("requests"),
        count("input_tokens"),
        count("output_tokens"),
        count("cache_read_tokens"),
        count("cache_write_tokens"),
        text("why"),
    ]));
    let groups = &coverage.unpriced;
    let strings = |f: &dyn Fn(&UnpricedKey) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from(
            groups.iter().map(|(k, _)| f(k)).collect::<Vec<_>>(),
        ))
    };
    let counts = |f: &dyn Fn(&UsageTotals) -> u64| -> ArrayRef {
        Arc::new(UInt64Array::from(
            groups.iter().map(|(_, t)| f(t)).collect::<Vec<_>>(),
        ))
    };
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            strings(&|k| Some(k.month.clone())),
            strings(&|k| k.model.clone()),
            strings(&|k| k.scope.clone()),
            strings(&|k| k.region.clone()),
            strings(&|k| Some(k.tier.clone())),
            counts(&|t| t.requests),
            counts(&|t| t.input_tokens),
            counts(&|t| t.output_tokens),
            counts(&|t| t.cache_read_tokens),
            counts(&|t| t.cache_write_tokens),
            strings(&|k| Some(k.reason.describe())),
        ],
    )?;
    Ok(QueryResult {
        schema,
        batches: vec![batch],
    })
}
