//! The dataset's tables and their Arrow schemas: the contract analysts, reports and Athena rely
//! on. Column names and meanings are documented in the README; change them only deliberately.

use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// Name of the table of normalized invocations.
pub const INVOCATIONS: &str = "invocations";
/// Name of the table of undecodable lines and objects.
pub const REJECTS: &str = "rejects";
/// The partition column of `invocations` (UTC month of the event, `YYYY-MM`).
pub const MONTH: &str = "month";
/// The column of `invocations` naming the price book that priced the row (its SHA-256).
pub const PRICE_BOOK: &str = "price_book_sha256";

fn text(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}

fn required_text(name: &str) -> Field {
    Field::new(name, DataType::Utf8, false)
}

fn count(name: &str) -> Field {
    Field::new(name, DataType::Int64, false)
}

/// The event-time type: milliseconds, UTC.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

/// Columns decoded from the logs: what staging holds and what pricing starts from.
pub static INVOCATION_BASE_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        required_text("request_id"),
        Field::new("timestamp", timestamp_type(), false),
        text("account_id"),
        text("region"),
        text("inference_region"),
        text("operation"),
        text("model_id"),
        text("model"),
        text("inference_scope"),
        text("identity_arn"),
        text("identity"),
        required_text("principal_type"),
        text("principal_name"),
        text("session_name"),
        count("input_tokens"),
        count("output_tokens"),
        count("cache_read_tokens"),
        count("cache_write_tokens"),
        count("cache_write_1h_tokens"),
        Field::new("usage_reported", DataType::Boolean, false),
        Field::new("latency_ms", DataType::Int64, true),
        Field::new("first_byte_latency_ms", DataType::Int64, true),
        text("error_code"),
        text("stop_reason"),
        // Nullable: datasets written before the column existed read as standard.
        text("service_tier"),
        text("request_metadata"),
        required_text("source"),
        required_text("source_format"),
        count("source_line"),
    ]))
});

/// The type of money columns: exact USD with 12 decimals (a rate in 10⁻⁶ USD per million tokens
/// times a token count).
pub fn money_type() -> DataType {
    DataType::Decimal128(38, crate::pricing::COST_SCALE)
}

/// Columns pricing adds to the base columns.
pub fn priced_fields() -> Vec<Field> {
    let money = |name: &str| Field::new(name, money_type(), true);
    vec![
        money("input_cost_usd"),
        money("output_cost_usd"),
        money("cache_read_cost_usd"),
        money("cache_write_cost_usd"),
        money("cost_usd"),
        money("cache_read_savings_usd"),
        required_text("price_status"),
        text("price_ref"),
        Field::new("long_context", DataType::Boolean, false),
    ]
}

/// The base columns, priced: what pricing returns (the table adds [`PRICE_BOOK`] and [`MONTH`]).
pub static INVOCATION_FILE_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields: Vec<Field> = INVOCATION_BASE_SCHEMA
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.extend(priced_fields());
    Arc::new(Schema::new(fields))
});

/// Columns of `rejects/*.parquet`.
pub static REJECT_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        required_text("source"),
        text("source_format"),
        Field::new("line", DataType::Int64, true),
        Field::new("byte_offset", DataType::Int64, true),
        required_text("reason"),
        required_text("excerpt"),
    ]))
});
