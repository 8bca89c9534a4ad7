//! Pricing a batch of decoded invocations: the base columns in, the same columns plus the cost
//! columns out (see [`crate::rows::schema::priced_fields`]).

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Decimal128Array, Int64Array, RecordBatch, StringArray,
};
use arrow::datatypes::{Int64Type, TimestampMillisecondType};
use arrow::error::ArrowError;
use chrono::DateTime;

use super::book::{PriceBook, STANDARD_TIER};
use super::cost::{COST_SCALE, PricedRequest, Pricing, price};
use crate::rows::TokenCounts;
use crate::rows::schema::INVOCATION_FILE_SCHEMA;

fn column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a ArrayRef, ArrowError> {
    batch
        .column_by_name(name)
        .ok_or_else(|| ArrowError::SchemaError(format!("pricing needs the column `{name}`")))
}

fn strings<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a StringArray, ArrowError> {
    column(batch, name)?
        .as_string_opt::<i32>()
        .ok_or_else(|| ArrowError::SchemaError(format!("`{name}` is not a string column")))
}

fn counts<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a Int64Array, ArrowError> {
    column(batch, name)?
        .as_primitive_opt::<Int64Type>()
        .ok_or_else(|| ArrowError::SchemaError(format!("`{name}` is not an int64 column")))
}

fn optional(array: &StringArray, row: usize) -> Option<&str> {
    array.is_valid(row).then(|| array.value(row))
}

/// The columns of a batch that pricing reads, by name, so that a projection of the
/// `invocations` table works as well as a whole batch.
pub struct RequestColumns<'a> {
    model: &'a StringArray,
    scope: &'a StringArray,
    region: &'a StringArray,
    tier: &'a StringArray,
    timestamp: &'a arrow::array::TimestampMillisecondArray,
    usage_reported: &'a BooleanArray,
    tokens: [&'a Int64Array; 5],
}

impl<'a> RequestColumns<'a> {
    /// Finds the columns in `batch`.
    pub fn new(batch: &'a RecordBatch) -> Result<Self, ArrowError> {
        let timestamp = column(batch, "timestamp")?
            .as_primitive_opt::<TimestampMillisecondType>()
            .ok_or_else(|| {
                ArrowError::SchemaError("`timestamp` is not a millisecond timestamp".into())
            })?;
        let usage_reported = column(batch, "usage_reported")?
            .as_boolean_opt()
            .ok_or_else(|| {
                ArrowError::SchemaError("`usage_reported` is not a boolean column".into())
            })?;
        let [input, output, read, write, write_1h] = [
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
            "cache_write_1h_tokens",
        ]
        .map(|name| counts(batch, name));
        Ok(RequestColumns {
            model: strings(batch, "model")?,
            scope: strings(batch, "inference_scope")?,
            region: strings(batch, "region")?,
            tier: strings(batch, "service_tier")?,
            timestamp,
            usage_reported,
            tokens: [input?, output?, read?, write?, write_1h?],
        })
    }

    /// What pricing needs to know about request `row`.
    pub fn request(&self, row: usize) -> PricedRequest<'a> {
        let date = DateTime::from_timestamp_millis(self.timestamp.value(row))
            .unwrap_or_default()
            .date_naive();
        // Counts are stored from u64 and never negative; a negative one would be a corrupt file.
        let [input, output, read, write, write_1h] = self
            .tokens
            .map(|array| u64::try_from(array.value(row)).unwrap_or(0));
        PricedRequest {
            model: optional(self.model, row),
            inference_scope: optional(self.scope, row),
            region: optional(self.region, row),
            // A row written before the column existed has no tier: standard, as it was priced.
            tier: optional(self.tier, row).unwrap_or(STANDARD_TIER),
            date,
            tokens: TokenCounts {
                input_tokens: input,
                output_tokens: output,
                cache_read_tokens: read,
                cache_write_tokens: write,
                cache_write_1h_tokens: write_1h,
            },
            usage_reported: self.usage_reported.value(row),
        }
    }
}

/// Prices every row of `batch` (which has at least the base columns) and returns the batch in
/// the stored schema.
pub fn price_batch(batch: &RecordBatch, book: &PriceBook) -> Result<RecordBatch, ArrowError> {
    let requests = RequestColumns::new(batch)?;
    let rows = batch.num_rows();
    let mut costs: [Vec<Option<i128>>; 6] = Default::default();
    let mut status = Vec::with_capacity(rows);
    let mut reference = Vec::with_capacity(rows);
    let mut long_context = Vec::with_capacity(rows);
    for row in 0..rows {
        let pricing = price(book, &requests.request(row));
        status.push(pricing.status());
        let (values, row_ref, lc) = match &pricing {
            Pricing::Priced {
                parts,
                row,
                long_context,
            } => (
                [
                    parts.input,
                    parts.output,
                    parts.cache_read,
                    parts.cache_write,
                    parts.total(),
                    parts.cache_read_savings,
                ]
                .map(Some),
                Some(row.reference()),
                *long_context,
            ),
            Pricing::NoUsage => ([Some(0); 6], None, false),
            Pricing::Unpriced(_) => ([None; 6], None, false),
        };
        for (column, value) in costs.iter_mut().zip(values) {
            column.push(value);
        }
        reference.push(row_ref);
        long_context.push(lc);
    }

    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    for values in costs {
        let array = Decimal128Array::from(values).with_precision_and_scale(38, COST_SCALE)?;
        columns.push(Arc::new(array));
    }
    columns.push(Arc::new(StringArray::from(status)));
    columns.push(Arc::new(StringArray::from(reference)));
    columns.push(Arc::new(BooleanArray::from(long_context)));
    RecordBatch::try_new(Arc::clone(&INVOCATION_FILE_SCHEMA), columns)
}
