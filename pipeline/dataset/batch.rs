//! Rows to Arrow record batches, in the column order of [`super::schema`].

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Schema, SchemaRef, TimeUnit};
use arrow::error::ArrowError;

use crate::rows::schema::{INVOCATION_BASE_SCHEMA, REJECT_SCHEMA};
use crate::rows::{Invocation, Reject};

fn strings<'a, T: 'a>(rows: &'a [T], get: impl Fn(&'a T) -> Option<&'a str>) -> ArrayRef {
    Arc::new(rows.iter().map(get).collect::<StringArray>())
}

fn counts<T>(rows: &[T], get: impl Fn(&T) -> Option<u64>) -> ArrayRef {
    // Token counts above i64::MAX do not occur; saturate rather than wrap if one ever did.
    Arc::new(
        rows.iter()
            .map(|r| get(r).map(|v| i64::try_from(v).unwrap_or(i64::MAX)))
            .collect::<Int64Array>(),
    )
}

/// Builds a batch of decoded (not yet priced) invocations.
pub fn invocations_batch(rows: &[Invocation]) -> Result<RecordBatch, ArrowError> {
    let columns: Vec<ArrayRef> = vec![
        strings(rows, |r| Some(r.request_id.as_str())),
        Arc::new(
            rows.iter()
                .map(|r| Some(r.timestamp_ms))
                .collect::<TimestampMillisecondArray>()
                .with_timezone("UTC"),
        ),
        strings(rows, |r| r.account_id.as_deref()),
        strings(rows, |r| r.region.as_deref()),
        strings(rows, |r| r.inference_region.as_deref()),
        strings(rows, |r| r.operation.as_deref()),
        strings(rows, |r| r.model_id.as_deref()),
        strings(rows, |r| r.model.as_deref()),
        strings(rows, |r| r.inference_scope.map(|s| s.as_str())),
        strings(rows, |r| r.identity_arn.as_deref()),
        strings(rows, |r| r.principal.identity.as_deref()),
        strings(rows, |r| Some(r.principal.principal_type.as_str())),
        strings(rows, |r| r.principal.principal_name.as_deref()),
        strings(rows, |r| r.principal.session_name.as_deref()),
        counts(rows, |r| Some(r.tokens.input_tokens)),
        counts(rows, |r| Some(r.tokens.output_tokens)),
        counts(rows, |r| Some(r.tokens.cache_read_tokens)),
        counts(rows, |r| Some(r.tokens.cache_write_tokens)),
        counts(rows, |r| Some(r.tokens.cache_write_1h_tokens)),
        Arc::new(
            rows.iter()
                .map(|r| Some(r.usage_reported))
                .collect::<BooleanArray>(),
        ),
        counts(rows, |r| r.latency_ms),
        counts(rows, |r| r.first_byte_latency_ms),
        strings(rows, |r| r.error_code.as_deref()),
        strings(rows, |r| r.stop_reason.as_deref()),
        strings(rows, |r| Some(r.service_tier)),
        strings(rows, |r| r.request_metadata.as_deref()),
        strings(rows, |r| Some(&*r.origin.source)),
        strings(rows, |r| Some(r.origin.format.as_str())),
        counts(rows, |r| Some(r.origin.line)),
    ];
    RecordBatch::try_new(Arc::clone(&INVOCATION_BASE_SCHEMA), columns)
}

/// Builds a `rejects` batch.
pub fn rejects_batch(rows: &[Reject]) -> Result<RecordBatch, ArrowError> {
    let columns: Vec<ArrayRef> = vec![
        strings(rows, |r| Some(&*r.source)),
        strings(rows, |r| r.format.map(|f| f.as_str())),
        counts(rows, |r| r.line),
        counts(rows, |r| r.byte_offset),
        strings(rows, |r| Some(r.reason.as_str())),
        strings(rows, |r| Some(r.excerpt.as_str())),
    ];
    RecordBatch::try_new(Arc::clone(&REJECT_SCHEMA), columns)
}

/// `batch` with the column types pricing and the row readers expect: string views and
/// dictionaries (Delta's partition values) as plain strings, timestamps in milliseconds (Delta
/// tables hand back microseconds).
pub fn with_plain_types(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    let mut fields = Vec::with_capacity(batch.num_columns());
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        let plain = match field.data_type() {
            DataType::Utf8View | DataType::LargeUtf8 | DataType::Dictionary(_, _) => {
                Some(DataType::Utf8)
            }
            DataType::Timestamp(unit, zone) if *unit != TimeUnit::Millisecond => {
                Some(DataType::Timestamp(TimeUnit::Millisecond, zone.clone()))
            }
            _ => None,
        };
        match plain {
            Some(data_type) => {
                columns.push(arrow::compute::cast(column, &data_type)?);
                fields.push(field.as_ref().clone().with_data_type(data_type));
            }
            None => {
                columns.push(Arc::clone(column));
                fields.push(field.as_ref().clone());
            }
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// `batch` with exactly the columns of `schema`, in its order and types (a query may hand back
/// string views or microsecond timestamps; nullability is checked on the way).
pub fn conform(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, ArrowError> {
    let columns = schema
        .fields()
        .iter()
        .map(|field| {
            let column = batch.column_by_name(field.name()).ok_or_else(|| {
                ArrowError::SchemaError(format!("the rows have no column {}", field.name()))
            })?;
            arrow::compute::cast(column, field.data_type())
        })
        .collect::<Result<Vec<_>, ArrowError>>()?;
    RecordBatch::try_new(Arc::clone(schema), columns)
}
