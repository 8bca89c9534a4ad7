//! The ground floor: the rows every stage shares, as data flows raw record → [`Invocation`] →
//! priced row, and the vocabulary of their columns. Decoding yields [`Decoded`] slices of
//! invocations and [`Reject`]s, normalization fills an [`Invocation`], pricing adds cost columns
//! to batches of them ([`schema`]), and the dataset stores them. Every stage imports this module
//! and the output of the stage before it, nothing downstream.
//!
//! Types and their column names only: no parsing, no I/O, no policy.

pub mod schema;

use std::fmt;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::error::ArrowError;
use chrono::{DateTime, Datelike, Utc};

/// The delivery shape an object was decoded as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceFormat {
    /// Native delivery to S3: (gzip) JSON lines.
    S3Native,
    /// A CloudWatch Logs export task: `<timestamp> <record>` lines.
    CloudWatchExport,
    /// A CloudWatch Logs subscription delivered by Firehose: concatenated envelopes.
    Firehose,
    /// A saved `aws logs filter-log-events` / `get-log-events` page.
    LogsCliPage,
    /// Read from CloudWatch Logs through its API (`cwlogs://`).
    CloudWatchLogs,
}

impl SourceFormat {
    /// The name stored in the `source_format` column.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::S3Native => "s3_native",
            SourceFormat::CloudWatchExport => "cloudwatch_export",
            SourceFormat::Firehose => "firehose",
            SourceFormat::LogsCliPage => "logs_cli_page",
            SourceFormat::CloudWatchLogs => "cloudwatch_logs",
        }
    }
}

/// Where a record was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// URI of the object (`file:///...`, later `s3://...`).
    pub source: Arc<str>,
    pub format: SourceFormat,
    /// 1-based line number, or ordinal of the event in envelope/page objects.
    pub line: u64,
    /// When the framing carries its own event time (export line prefix, log event timestamp),
    /// in milliseconds since the epoch; used only if the record has none.
    pub framing_time_ms: Option<i64>,
}

/// Token counters of one request. Absent counters are 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenCounts {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// The part of `cache_write_tokens` written with a 1-hour lifetime.
    pub cache_write_1h_tokens: u64,
}

/// One normalized model invocation: a row of the `invocations` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    pub request_id: String,
    /// Event time in milliseconds since the Unix epoch, UTC.
    pub timestamp_ms: i64,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub inference_region: Option<String>,
    pub operation: Option<String>,
    pub model_id: Option<String>,
    pub model: Option<String>,
    pub inference_scope: Option<InferenceScope>,
    pub identity_arn: Option<String>,
    pub principal: Principal,
    pub tokens: TokenCounts,
    /// Whether the record carried any token counter at all (absent is not the same as 0).
    pub usage_reported: bool,
    pub latency_ms: Option<u64>,
    pub first_byte_latency_ms: Option<u64>,
    pub error_code: Option<String>,
    pub stop_reason: Option<String>,
    /// The service tier the record shows (see [`service_tier`]).
    pub service_tier: &'static str,
    /// `requestMetadata` as a compact JSON object with sorted keys.
    pub request_metadata: Option<String>,
    pub origin: Origin,
}

impl Invocation {
    /// The UTC month of the event, `YYYY-MM`: the partition the row belongs to.
    pub fn month(&self) -> String {
        month_of(self.timestamp_ms)
    }

    /// The UTC day of the event, `YYYY-MM-DD`: the unit a month is committed in.
    pub fn day(&self) -> String {
        day_of(self.timestamp_ms)
    }
}

/// `YYYY-MM` of a UTC millisecond timestamp.
pub fn month_of(timestamp_ms: i64) -> String {
    let time = DateTime::<Utc>::from_timestamp_millis(timestamp_ms).unwrap_or_default();
    format!("{:04}-{:02}", time.year(), time.month())
}

/// `YYYY-MM-DD` of a UTC millisecond timestamp.
pub fn day_of(timestamp_ms: i64) -> String {
    let time = DateTime::<Utc>::from_timestamp_millis(timestamp_ms).unwrap_or_default();
    time.format("%Y-%m-%d").to_string()
}

/// What kind of principal made the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PrincipalType {
    User,
    /// A long-term Bedrock API key: an IAM user named `BedrockAPIKey-*`.
    ApiKey,
    Role,
    /// An IAM Identity Center session (`AWSReservedSSO_*` role).
    SsoUser,
    FederatedUser,
    Root,
    Unknown,
}

impl PrincipalType {
    /// The name stored in the `principal_type` column.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::User => "user",
            PrincipalType::ApiKey => "api_key",
            PrincipalType::Role => "role",
            PrincipalType::SsoUser => "sso_user",
            PrincipalType::FederatedUser => "federated_user",
            PrincipalType::Root => "root",
            PrincipalType::Unknown => "unknown",
        }
    }
}

impl fmt::Display for PrincipalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The normalized caller of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The ARN usage is charged to (see the module docs); `None` when the record names no caller.
    pub identity: Option<String>,
    pub principal_type: PrincipalType,
    /// User, role or federated-user name; for SSO the person (the session name); `root` for root.
    pub principal_name: Option<String>,
    /// The session name of an assumed role.
    pub session_name: Option<String>,
}

/// How a request reached its model, derived from the shape of `modelId`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InferenceScope {
    /// A base model id or foundation-model ARN, served in the calling region.
    InRegion,
    /// A geographic cross-region profile (`us.`, `eu.`, `apac.`, ...).
    Geo,
    /// The `global.` cross-region profile.
    Global,
    /// An application inference profile ARN whose mapping is unknown.
    Application,
    /// Provisioned throughput (`provisioned-model/`).
    Provisioned,
    /// A prompt router (`default-prompt-router/` or `prompt-router/`).
    PromptRouter,
    /// A custom or imported model (`custom-model-deployment/`, `custom-model/`, `imported-model/`).
    Custom,
}

impl InferenceScope {
    /// The name stored in the `inference_scope` column.
    pub fn as_str(self) -> &'static str {
        match self {
            InferenceScope::InRegion => "in_region",
            InferenceScope::Geo => "geo",
            InferenceScope::Global => "global",
            InferenceScope::Application => "application",
            InferenceScope::Provisioned => "provisioned",
            InferenceScope::PromptRouter => "prompt_router",
            InferenceScope::Custom => "custom",
        }
    }
}

impl fmt::Display for InferenceScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many bytes of a rejected line or object are kept to show what it looked like.
pub const EXCERPT_BYTES: usize = 200;

/// A line, event or object that could not be decoded, with where it came from and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    pub source: Arc<str>,
    /// The format of the object, when it was recognized.
    pub format: Option<SourceFormat>,
    /// 1-based line number, or ordinal of the event in envelope/page objects.
    pub line: Option<u64>,
    /// Offset of the line in the decompressed object, or of the gzip member in the object.
    pub byte_offset: Option<u64>,
    pub reason: String,
    /// The first [`EXCERPT_BYTES`] bytes of what was rejected, lossily decoded as UTF-8.
    pub excerpt: String,
}

/// The first [`EXCERPT_BYTES`] bytes of `bytes` as text.
pub fn excerpt(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        // A reject always shows something: that there was nothing is what it shows.
        return "(empty)".to_owned();
    }
    String::from_utf8_lossy(&bytes[..bytes.len().min(EXCERPT_BYTES)]).into_owned()
}

/// What one decoded slice of an object yields; objects are emitted in several of these.
#[derive(Debug, Default)]
pub struct Decoded {
    pub invocations: Vec<Invocation>,
    pub rejects: Vec<Reject>,
    /// Log events that are not records and not errors (permission messages, control messages).
    pub noise_events: u64,
}

impl Decoded {
    /// True when nothing was decoded.
    pub fn is_empty(&self) -> bool {
        self.invocations.is_empty() && self.rejects.is_empty() && self.noise_events == 0
    }
}

/// What the sink needs of a price book: to price batches of base rows (the
/// [`schema::INVOCATION_BASE_SCHEMA`] columns, adding [`schema::priced_fields`]) and to name
/// itself, so that every row records the book that priced it.
pub trait PriceRows: Sync {
    /// SHA-256 of the book, hex.
    fn sha256(&self) -> &str;
    /// `base` with the cost columns added.
    fn price(&self, base: &RecordBatch) -> Result<RecordBatch, ArrowError>;
}
