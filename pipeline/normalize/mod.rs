//! Normalization: from a [`RawRecord`] as Bedrock wrote it to an [`Invocation`], the row the
//! dataset stores: UTC event time, charged identity, base model and scope, integer token counts.
//!
//! Pure: no I/O, no clock. Everything that can make a record unusable (no request id, no valid
//! timestamp) is reported as a [`NormalizeError`] so the caller can file it as a reject.

pub mod identity;
pub mod model;

use chrono::DateTime;

use crate::decode::counter::Counter;
use crate::decode::record::RawRecord;
use crate::rows::{InferenceScope, Invocation, Origin, TokenCounts};
pub use identity::resolve_principal;
pub use model::{ProfileEntry, ProfileMap, ResolvedModel, resolve_model};

impl crate::decode::Normalize for ProfileMap {
    fn normalize(&self, raw: RawRecord<'_>, origin: Origin) -> Result<Invocation, String> {
        normalize(raw, origin, self).map_err(|error| error.to_string())
    }
}

/// Why a record cannot become an invocation.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum NormalizeError {
    #[error("record has no requestId")]
    MissingRequestId,
    #[error("record has no timestamp")]
    MissingTimestamp,
    #[error("record timestamp is not RFC 3339: {0:?}")]
    BadTimestamp(String),
    #[error("{field} is {found}, not a token count (a whole number from 0 to {max})", max = crate::decode::counter::MAX_TOKEN_COUNT)]
    BadCounter { field: &'static str, found: String },
}

/// Parses an RFC 3339 timestamp into UTC milliseconds since the epoch.
pub fn parse_timestamp_ms(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Turns a parsed record into an invocation.
pub fn normalize(
    raw: RawRecord<'_>,
    origin: Origin,
    profiles: &ProfileMap,
) -> Result<Invocation, NormalizeError> {
    let request_id = raw
        .request_id
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .ok_or(NormalizeError::MissingRequestId)?
        .to_owned();
    let timestamp_ms = match raw.timestamp.as_deref() {
        Some(text) => {
            parse_timestamp_ms(text).ok_or_else(|| NormalizeError::BadTimestamp(text.to_owned()))?
        }
        None => origin
            .framing_time_ms
            .ok_or(NormalizeError::MissingTimestamp)?,
    };

    let input = raw.input();
    let output = raw.output();
    // An absent counter is 0 (documented); one that is present must be a token count.
    let counter = |field: &'static str, c: Option<&Option<Counter>>| {
        c.and_then(Option::as_ref)
            .map(|c| {
                c.count().map_err(|found| NormalizeError::BadCounter {
                    field,
                    found: found.to_owned(),
                })
            })
            .transpose()
    };
    let input_tokens = counter("inputTokenCount", input.map(|i| &i.input_token_count))?;
    let cache_read = counter(
        "cacheReadInputTokenCount",
        input.map(|i| &i.cache_read_input_token_count),
    )?;
    let cache_write = counter(
        "cacheWriteInputTokenCount",
        input.map(|i| &i.cache_write_input_token_count),
    )?;
    let output_tokens = counter("outputTokenCount", output.map(|o| &o.output_token_count))?;
    let usage_reported = [input_tokens, cache_read, cache_write, output_tokens]
        .iter()
        .any(Option::is_some);

    let body = output.and_then(|o| o.body.clone()).unwrap_or_default();
    let cache_write_tokens = cache_write.unwrap_or(0);
    let tokens = TokenCounts {
        input_tokens: input_tokens.unwrap_or(0),
        output_tokens: output_tokens.unwrap_or(0),
        cache_read_tokens: cache_read.unwrap_or(0),
        cache_write_tokens,
        // A split larger than the total would bill tokens that were never written.
        cache_write_1h_tokens: body
            .cache_write_1h_tokens
            .unwrap_or(0)
            .min(cache_write_tokens),
    };

    let model_id = raw.model_id.as_deref().map(str::to_owned);
    let resolved = model_id.as_deref().map(|id| {
        let mut resolved = resolve_model(id, profiles);
        if resolved.model.is_none() && resolved.scope == InferenceScope::PromptRouter {
            resolved.model = body
                .routed_model_id
                .as_deref()
                .and_then(|routed| resolve_model(routed, profiles).model);
        }
        resolved
    });
    let identity_arn = raw.identity_arn().map(str::to_owned);
    let principal = resolve_principal(identity_arn.as_deref());
    // A guardrail that intervened is what ended the request, whatever the model's stop reason.
    let stop_reason = if body.guardrail_intervened {
        Some("guardrail_intervened".to_owned())
    } else {
        body.stop_reason
    };

    Ok(Invocation {
        request_id,
        timestamp_ms,
        account_id: owned(&raw.account_id),
        region: owned(&raw.region),
        inference_region: owned(&raw.inference_region),
        operation: owned(&raw.operation),
        model_id,
        model: resolved.as_ref().and_then(|r| r.model.clone()),
        inference_scope: resolved.map(|r| r.scope),
        identity_arn,
        principal,
        tokens,
        usage_reported,
        latency_ms: body.latency_ms,
        first_byte_latency_ms: body.first_byte_latency_ms,
        error_code: owned(&raw.error_code).filter(|code| !code.is_empty()),
        stop_reason,
        service_tier: service_tier(
            body.service_tier.as_deref(),
            raw.latency_mode().or(body.latency_mode.as_deref()),
        ),
        request_metadata: raw
            .request_metadata
            .and_then(|m| m.into_inner())
            .map(metadata_json),
        origin,
    })
}

/// The tier a request was served in, as far as its record tells: `priority`, `flex` or
/// `reserved` from a Converse response's `serviceTier.type`; `optimized` when
/// `performanceConfig.latency` (top level or response) is `optimized`; otherwise `standard`.
/// InvokeModel carries both in HTTP headers that are not logged, so its records always read
/// `standard` (the README says how large that error can be).
pub fn service_tier(tier: Option<&str>, latency: Option<&str>) -> &'static str {
    match tier.map(str::to_ascii_lowercase).as_deref() {
        Some("priority") => "priority",
        Some("flex") => "flex",
        Some("reserved") => "reserved",
        _ if latency.is_some_and(|l| l.eq_ignore_ascii_case("optimized")) => "optimized",
        _ => "standard",
    }
}

fn owned(value: &Option<std::borrow::Cow<'_, str>>) -> Option<String> {
    value.as_deref().map(str::to_owned)
}

fn metadata_json(
    map: std::collections::BTreeMap<String, crate::decode::lenient::LenientString>,
) -> String {
    let strings: std::collections::BTreeMap<String, Option<String>> =
        map.into_iter().map(|(k, v)| (k, v.into_inner())).collect();
    serde_json::to_string(&strings).expect("a map of strings always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::record::parse_record;
    use crate::rows::SourceFormat;
    use std::sync::Arc;

    fn origin() -> Origin {
        Origin {
            source: Arc::from("file:///logs/a.json.gz"),
            format: SourceFormat::S3Native,
            line: 3,
            framing_time_ms: Some(1_700_000_000_000),
        }
    }

    fn normalized(json: &str) -> Result<Invocation, NormalizeError> {
        normalize(
            parse_record(json.as_bytes()).unwrap(),
            origin(),
            &ProfileMap::default(),
        )
    }

    #[test]
    fn rejects_records_without_key_or_time() {
        let cases: &[(&str, NormalizeError)] = &[
            (
                r#"{"timestamp":"2025-10-02T09:14:07Z"}"#,
                NormalizeError::MissingRequestId,
            ),
            (
                r#"{"requestId":"  ","timestamp":"2025-10-02T09:14:07Z"}"#,
                NormalizeError::MissingRequestId,
            ),
            (
                r#"{"requestId":"r","timestamp":"yesterday"}"#,
                NormalizeError::BadTimestamp("yesterday".into()),
            ),
        ];
        for (json, error) in cases {
            assert_eq!(normalized(json).unwrap_err(), *error, "{json}");
        }
    }

    #[test]
    fn rejects_a_counter_that_is_not_a_token_count() {
        let bad = |field: &'static str, found: &str| NormalizeError::BadCounter {
            field,
            found: found.to_owned(),
        };
        let record = |usage: &str| {
            format!(r#"{{"requestId":"r","timestamp":"2025-10-02T09:14:07Z",{usage}}}"#)
        };
        let cases = [
            (
                record(r#""input":{"inputTokenCount":-5}"#),
                bad("inputTokenCount", "-5"),
            ),
            (
                record(r#""input":{"inputTokenCount":18446744073709551616}"#),
                bad("inputTokenCount", "18446744073709552000"),
            ),
            (
                record(r#""input":{"inputTokenCount":1,"cacheReadInputTokenCount":2.5}"#),
                bad("cacheReadInputTokenCount", "2.5"),
            ),
            (
                record(r#""input":{"cacheWriteInputTokenCount":"many"}"#),
                bad("cacheWriteInputTokenCount", r#""many""#),
            ),
            (
                record(r#""output":{"outputTokenCount":true}"#),
                bad("outputTokenCount", "true"),
            ),
        ];
        for (json, error) in cases {
            assert_eq!(normalized(&json).unwrap_err(), error, "{json}");
        }
        assert_eq!(
            bad("inputTokenCount", "-5").to_string(),
            "inputTokenCount is -5, not a token count (a whole number from 0 to 4294967295)"
        );
        let absent = normalized(&record(r#""input":{"inputTokenCount":null}"#)).unwrap();
        assert_eq!(absent.tokens.input_tokens, 0);
        assert!(!absent.usage_reported);
    }

    #[test]
    fn event_time_is_utc_and_decides_the_month() {
        let cases: &[(&str, i64, &str)] = &[
            ("2025-09-30T23:59:59Z", 1_759_276_799_000, "2025-09"),
            ("2025-10-01T00:00:00Z", 1_759_276_800_000, "2025-10"),
            ("2025-10-01T01:30:00+02:00", 1_759_275_000_000, "2025-09"),
            ("2025-10-31T23:59:59.999Z", 1_761_955_199_999, "2025-10"),
        ];
        for (text, ms, month) in cases {
            let json = format!(r#"{{"requestId":"r","timestamp":"{text}"}}"#);
            let invocation = normalized(&json).unwrap();
            assert_eq!(invocation.timestamp_ms, *ms, "{text}");
            assert_eq!(invocation.month(), *month, "{text}");
        }
        let without_time = normalized(r#"{"requestId":"r"}"#).unwrap();
        assert_eq!(
            without_time.timestamp_ms, 1_700_000_000_000,
            "framing time is the fallback"
        );
    }

    #[test]
    fn counts_tokens_with_cache_split_and_absent_counters() {
        // (record, tokens, usage_reported)
        let cases: &[(&str, TokenCounts, bool)] = &[
            (
                r#"{"requestId":"r","timestamp":"2025-10-02T09:14:07Z","input":{"inputTokenCount":1,"cacheReadInputTokenCount":129709},"output":{"outputTokenCount":611}}"#,
                TokenCounts {
                    input_tokens: 1,
                    output_tokens: 611,
                    cache_read_tokens: 129_709,
                    ..Default::default()
                },
                true,
            ),
            (
                r#"{"requestId":"r","timestamp":"2025-10-02T09:14:07Z","input":{"inputTokenCount":3,"cacheWriteInputTokenCount":500},"output":{"outputTokenCount":9,"outputBodyJson":{"usage":{"cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":400}}}}}"#,
                TokenCounts {
                    input_tokens: 3,
                    output_tokens: 9,
                    cache_write_tokens: 500,
                    cache_write_1h_tokens: 400,
                    ..Default::default()
                },
                true,
            ),
            (
                r#"{"requestId":"r","timestamp":"2025-10-02T09:14:07Z","input":{"cacheWriteInputTokenCount":50},"output":{"outputBodyJson":{"usage":{"cache_creation":{"ephemeral_1h_input_tokens":400}}}}}"#,
                TokenCounts {
                    cache_write_tokens: 50,
                    cache_write_1h_tokens: 50,
                    ..Default::default()
                },
                true,
            ),
            (
                r#"{"requestId":"r","timestamp":"2025-10-02T09:14:07Z","errorCode":"ThrottlingException","input":{"inputBodyJson":{}}}"#,
                TokenCounts::default(),
                false,
            ),
        ];
        for (json, tokens, reported) in cases {
            let invocation = normalized(json).unwrap();
            assert_eq!(invocation.tokens, *tokens, "{json}");
            assert_eq!(invocation.usage_reported, *reported, "{json}");
        }
    }

    #[test]
    fn reads_the_service_tier_where_a_record_shows_it() {
        let tier = |json: &str| normalized(json).unwrap().service_tier;
        let cases: &[(&str, &str)] = &[
            (
                r#"{"requestId":"r","timestamp":"2026-10-02T09:14:07Z"}"#,
                "standard",
            ),
            (
                r#"{"requestId":"r","timestamp":"2026-10-02T09:14:07Z","performanceConfig":{"latency":"optimized"}}"#,
                "optimized",
            ),
            (
                r#"{"requestId":"r","timestamp":"2026-10-02T09:14:07Z","performanceConfig":{"latency":"standard"}}"#,
                "standard",
            ),
            (
                r#"{"requestId":"r","timestamp":"2026-10-02T09:14:07Z","output":{"outputBodyJson":{"serviceTier":{"type":"priority"}}}}"#,
                "priority",
            ),
            (
                r#"{"requestId":"r","timestamp":"2026-10-02T09:14:07Z","output":{"outputBodyJson":{"serviceTier":{"type":"flex"},"performanceConfig":{"latency":"optimized"}}}}"#,
                "flex",
            ),
            (
                r#"{"requestId":"r","timestamp":"2026-10-02T09:14:07Z","output":{"outputBodyJson":{"serviceTier":{"type":"default"},"performanceConfig":{"latency":"optimized"}}}}"#,
                "optimized",
            ),
            (
                r#"{"requestId":"r","timestamp":"2026-10-02T09:14:07Z","output":{"outputBodyJson":{"serviceTier":{"type":"reserved"}}}}"#,
                "reserved",
            ),
            // a value of the wrong type is not a tier
            (
                r#"{"requestId":"r","timestamp":"2026-10-02T09:14:07Z","performanceConfig":"optimized"}"#,
                "standard",
            ),
        ];
        for (json, expected) in cases {
            assert_eq!(tier(json), *expected, "{json}");
        }
    }

    #[test]
    fn carries_latency_stop_reason_metadata_and_router_choice() {
        let json = r#"{"requestId":"r","timestamp":"2025-10-02T09:14:07Z","operation":"Converse","modelId":"arn:aws:bedrock:us-east-1:111122223333:default-prompt-router/anthropic.claude:1","requestMetadata":{"user":"u@example.com","app":"ide"},"output":{"outputBodyJson":{"stopReason":"end_turn","metrics":{"latencyMs":812},"trace":{"promptRouter":{"invokedModelId":"arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0"}}}}}"#;
        let invocation = normalized(json).unwrap();
        assert_eq!(invocation.latency_ms, Some(812));
        assert_eq!(invocation.first_byte_latency_ms, None);
        assert_eq!(invocation.stop_reason.as_deref(), Some("end_turn"));
        assert_eq!(
            invocation.model.as_deref(),
            Some("anthropic.claude-3-5-haiku-20241022-v1:0")
        );
        assert_eq!(
            invocation.inference_scope,
            Some(InferenceScope::PromptRouter)
        );
        assert_eq!(
            invocation.request_metadata.as_deref(),
            Some(r#"{"app":"ide","user":"u@example.com"}"#)
        );

        let guardrail = r#"{"requestId":"r","timestamp":"2025-10-02T09:14:07Z","output":{"outputBodyJson":{"stop_reason":"end_turn","amazon-bedrock-guardrailAction":"INTERVENED"}}}"#;
        assert_eq!(
            normalized(guardrail).unwrap().stop_reason.as_deref(),
            Some("guardrail_intervened")
        );
    }
}
