//! One model-invocation record: the JSON object Bedrock writes per request, parsed by name.
//!
//! Only the handful of fields the ledger needs are read. Request bodies are skipped without being
//! parsed into a tree, and from response bodies only a few nested facts are kept (stop reason,
//! latency, the 1-hour cache-write split, guardrail action, the model a router picked). Key order
//! is irrelevant. This module knows nothing about framing (lines, envelopes) or normalization.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::counter::Counter;
use super::lenient::{Lenient, LenientString, LenientU64};

/// A record as written by Bedrock, borrowing strings from the input where no unescaping is needed.
#[derive(Debug, Default, Deserialize)]
pub struct RawRecord<'a> {
    #[serde(rename = "requestId", borrow, default)]
    pub request_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "accountId", borrow, default)]
    pub account_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub region: Option<Cow<'a, str>>,
    #[serde(rename = "inferenceRegion", borrow, default)]
    pub inference_region: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub operation: Option<Cow<'a, str>>,
    #[serde(rename = "modelId", borrow, default)]
    pub model_id: Option<Cow<'a, str>>,
    #[serde(rename = "errorCode", borrow, default)]
    pub error_code: Option<Cow<'a, str>>,
    #[serde(default)]
    pub identity: Option<Lenient<RawIdentity>>,
    #[serde(rename = "requestMetadata", default)]
    pub request_metadata: Option<Lenient<BTreeMap<String, LenientString>>>,
    #[serde(default)]
    pub input: Option<Lenient<RawInput>>,
    #[serde(default)]
    pub output: Option<Lenient<RawOutput>>,
    /// `performanceConfig` (`{"latency": "standard" | "optimized"}`), as some accounts' records
    /// carry it at the top level.
    #[serde(rename = "performanceConfig", default)]
    pub performance_config: Option<Lenient<RawPerformanceConfig>>,
}

/// `performanceConfig` of a record or a Converse response.
#[derive(Debug, Default, Deserialize)]
pub struct RawPerformanceConfig {
    #[serde(default)]
    pub latency: Option<LenientString>,
}

/// `serviceTier` of a Converse response.
#[derive(Debug, Default, Deserialize)]
struct RawServiceTier {
    #[serde(rename = "type", default)]
    kind: Option<LenientString>,
}

/// `identity` of a record.
#[derive(Debug, Default, Deserialize)]
pub struct RawIdentity {
    #[serde(default)]
    pub arn: Option<LenientString>,
}

/// `input` of a record: token counters only; the request body is skipped.
#[derive(Debug, Default, Deserialize)]
pub struct RawInput {
    #[serde(rename = "inputTokenCount", default)]
    pub input_token_count: Option<Counter>,
    #[serde(rename = "cacheReadInputTokenCount", default)]
    pub cache_read_input_token_count: Option<Counter>,
    #[serde(rename = "cacheWriteInputTokenCount", default)]
    pub cache_write_input_token_count: Option<Counter>,
}

/// `output` of a record: the output counter and the facts read from the response body.
#[derive(Debug, Default, Deserialize)]
pub struct RawOutput {
    #[serde(rename = "outputTokenCount", default)]
    pub output_token_count: Option<Counter>,
    #[serde(rename = "outputBodyJson", default)]
    pub body: Option<BodyFacts>,
}

/// What the ledger reads from a response body, whether it is one object (Converse, InvokeModel)
/// or an array of stream chunks (InvokeModelWithResponseStream).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BodyFacts {
    pub stop_reason: Option<String>,
    pub latency_ms: Option<u64>,
    pub first_byte_latency_ms: Option<u64>,
    /// `usage.cache_creation.ephemeral_1h_input_tokens`, when the body reports the split.
    pub cache_write_1h_tokens: Option<u64>,
    /// `"amazon-bedrock-guardrailAction":"INTERVENED"` was present.
    pub guardrail_intervened: bool,
    /// The model a prompt router sent the request to (`trace.promptRouter.invokedModelId`).
    pub routed_model_id: Option<String>,
    /// `serviceTier.type` of a Converse response (`default`, `priority`, `flex`, `reserved`).
    pub service_tier: Option<String>,
    /// `performanceConfig.latency` of a Converse response (`standard`, `optimized`).
    pub latency_mode: Option<String>,
}

/// Why a record could not be read.
#[derive(Debug, thiserror::Error)]
#[error("invalid record JSON: {0}")]
pub struct RecordError(String);

/// Parses one record from its JSON text. serde_json skips the unnamed fields (the bodies) with
/// its fast `IgnoredAny` path; on body-heavy records it measured faster than sonic-rs here
/// (`cargo bench --bench decode`).
pub fn parse_record(json: &[u8]) -> Result<RawRecord<'_>, RecordError> {
    serde_json::from_slice(json).map_err(|e| RecordError(e.to_string()))
}

impl RawRecord<'_> {
    /// `performanceConfig.latency` at the top level, if present and a string.
    pub fn latency_mode(&self) -> Option<&str> {
        self.performance_config
            .as_ref()?
            .get()?
            .latency
            .as_ref()?
            .0
            .as_deref()
    }

    /// `identity.arn`, if present and a string.
    pub fn identity_arn(&self) -> Option<&str> {
        self.identity.as_ref()?.get()?.arn.as_ref()?.0.as_deref()
    }

    /// The parsed `input` object, if any.
    pub fn input(&self) -> Option<&RawInput> {
        self.input.as_ref()?.get()
    }

    /// The parsed `output` object, if any.
    pub fn output(&self) -> Option<&RawOutput> {
        self.output.as_ref()?.get()
    }
}

// ---- response bodies ------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct ObjectBody {
    #[serde(rename = "stopReason", default)]
    stop_reason_camel: Option<LenientString>,
    #[serde(default)]
    stop_reason: Option<LenientString>,
    #[serde(default)]
    metrics: Option<Lenient<Metrics>>,
    #[serde(default)]
    usage: Option<Lenient<Usage>>,
    #[serde(rename = "amazon-bedrock-invocationMetrics", default)]
    invocation_metrics: Option<Lenient<InvocationMetrics>>,
    #[serde(rename = "amazon-bedrock-guardrailAction", default)]
    guardrail_action: Option<LenientString>,
    #[serde(default)]
    trace: Option<Lenient<Trace>>,
    #[serde(rename = "serviceTier", default)]
    service_tier: Option<Lenient<RawServiceTier>>,
    #[serde(rename = "performanceConfig", default)]
    performance_config: Option<Lenient<RawPerformanceConfig>>,
}

#[derive(Debug, Default, Deserialize)]
struct StreamChunk {
    #[serde(default)]
    message: Option<Lenient<ChunkMessage>>,
    #[serde(default)]
    delta: Option<Lenient<ChunkDelta>>,
    #[serde(rename = "messageStop", default)]
    message_stop: Option<Lenient<ChunkDelta>>,
    #[serde(rename = "stopReason", default)]
    stop_reason_camel: Option<LenientString>,
    #[serde(default)]
    stop_reason: Option<LenientString>,
    #[serde(rename = "amazon-bedrock-invocationMetrics", default)]
    invocation_metrics: Option<Lenient<InvocationMetrics>>,
    #[serde(rename = "amazon-bedrock-guardrailAction", default)]
    guardrail_action: Option<LenientString>,
}

#[derive(Debug, Default, Deserialize)]
struct ChunkMessage {
    #[serde(default)]
    usage: Option<Lenient<Usage>>,
}

#[derive(Debug, Default, Deserialize)]
struct ChunkDelta {
    #[serde(rename = "stopReason", default)]
    stop_reason_camel: Option<LenientString>,
    #[serde(default)]
    stop_reason: Option<LenientString>,
}

#[derive(Debug, Default, Deserialize)]
struct Metrics {
    #[serde(rename = "latencyMs", default)]
    latency_ms: Option<LenientU64>,
}

#[derive(Debug, Default, Deserialize)]
struct Usage {
    #[serde(default)]
    cache_creation: Option<Lenient<CacheCreation>>,
}

#[derive(Debug, Default, Deserialize)]
struct CacheCreation {
    #[serde(default)]
    ephemeral_1h_input_tokens: Option<LenientU64>,
}

#[derive(Debug, Default, Deserialize)]
struct InvocationMetrics {
    #[serde(rename = "invocationLatency", default)]
    invocation_latency: Option<LenientU64>,
    #[serde(rename = "firstByteLatency", default)]
    first_byte_latency: Option<LenientU64>,
}

#[derive(Debug, Default, Deserialize)]
struct Trace {
    #[serde(rename = "promptRouter", default)]
    prompt_router: Option<Lenient<PromptRouter>>,
}

#[derive(Debug, Default, Deserialize)]
struct PromptRouter {
    #[serde(rename = "invokedModelId", default)]
    invoked_model_id: Option<LenientString>,
}

fn u64_of(value: &Option<LenientU64>) -> Option<u64> {
    value.and_then(|v| v.0)
}

fn string_of(value: Option<LenientString>) -> Option<String> {
    value.and_then(LenientString::into_inner)
}

fn lenient<T>(value: Option<Lenient<T>>) -> Option<T> {
    value.and_then(Lenient::into_inner)
}

fn one_hour_writes(usage: Option<Lenient<Usage>>) -> Option<u64> {
    u64_of(&lenient(lenient(usage)?.cache_creation)?.ephemeral_1h_input_tokens)
}

fn is_intervened(action: Option<LenientString>) -> bool {
    string_of(action).is_some_and(|a| a.eq_ignore_ascii_case("INTERVENED"))
}

impl BodyFacts {
    fn absorb_invocation_metrics(&mut self, metrics: Option<Lenient<InvocationMetrics>>) {
        if let Some(metrics) = lenient(metrics) {
            self.latency_ms = u64_of(&metrics.invocation_latency).or(self.latency_ms);
            self.first_byte_latency_ms =
                u64_of(&metrics.first_byte_latency).or(self.first_byte_latency_ms);
        }
    }

    fn from_object(body: ObjectBody) -> BodyFacts {
        let mut facts = BodyFacts {
            stop_reason: string_of(body.stop_reason_camel).or(string_of(body.stop_reason)),
            latency_ms: lenient(body.metrics).and_then(|m| u64_of(&m.latency_ms)),
            cache_write_1h_tokens: one_hour_writes(body.usage),
            guardrail_intervened: is_intervened(body.guardrail_action),
            routed_model_id: lenient(body.trace)
                .and_then(|t| lenient(t.prompt_router))
                .and_then(|r| string_of(r.invoked_model_id)),
            service_tier: lenient(body.service_tier).and_then(|t| string_of(t.kind)),
            latency_mode: lenient(body.performance_config).and_then(|p| string_of(p.latency)),
            ..BodyFacts::default()
        };
        facts.absorb_invocation_metrics(body.invocation_metrics);
        facts
    }

    fn absorb_chunk(&mut self, chunk: StreamChunk) {
        if let Some(message) = lenient(chunk.message) {
            self.cache_write_1h_tokens =
                one_hour_writes(message.usage).or(self.cache_write_1h_tokens);
        }
        let delta_reason = |delta: Option<Lenient<ChunkDelta>>| {
            lenient(delta).and_then(|d| string_of(d.stop_reason).or(string_of(d.stop_reason_camel)))
        };
        let reason = delta_reason(chunk.delta)
            .or_else(|| delta_reason(chunk.message_stop))
            .or_else(|| string_of(chunk.stop_reason))
            .or_else(|| string_of(chunk.stop_reason_camel));
        self.stop_reason = reason.or(self.stop_reason.take());
        self.guardrail_intervened |= is_intervened(chunk.guardrail_action);
        self.absorb_invocation_metrics(chunk.invocation_metrics);
    }
}

struct BodyVisitor;

impl<'de> Visitor<'de> for BodyVisitor {
    type Value = BodyFacts;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a response body")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<BodyFacts, A::Error> {
        ObjectBody::deserialize(de::value::MapAccessDeserializer::new(map))
            .map(BodyFacts::from_object)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<BodyFacts, A::Error> {
        let mut facts = BodyFacts::default();
        while let Some(chunk) = seq.next_element::<Lenient<StreamChunk>>()? {
            if let Some(chunk) = chunk.into_inner() {
                facts.absorb_chunk(chunk);
            }
        }
        Ok(facts)
    }

    // A body of any other type (a string, null, ...) carries no facts.
    fn visit_str<E: de::Error>(self, _: &str) -> Result<BodyFacts, E> {
        Ok(BodyFacts::default())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<BodyFacts, E> {
        Ok(BodyFacts::default())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<BodyFacts, E> {
        Ok(BodyFacts::default())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<BodyFacts, E> {
        Ok(BodyFacts::default())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<BodyFacts, E> {
        Ok(BodyFacts::default())
    }
    fn visit_unit<E: de::Error>(self) -> Result<BodyFacts, E> {
        Ok(BodyFacts::default())
    }
}

impl<'de> Deserialize<'de> for BodyFacts {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(BodyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(record: &str) -> BodyFacts {
        let raw = parse_record(record.as_bytes()).unwrap_or_else(|e| panic!("{record}: {e}"));
        raw.output()
            .and_then(|o| o.body.clone())
            .unwrap_or_default()
    }

    #[test]
    fn reads_top_level_fields_by_name_in_any_order() {
        let json = br#"{"output":{"outputTokenCount":611,"outputBodyJson":{"x":1}},"input":{"inputBodyJson":{"messages":[{"role":"user","content":"say \"requestId\": no"}]},"cacheReadInputTokenCount":48210,"inputTokenCount":12},"requestId":"r-1","modelId":"us.anthropic.claude-sonnet-4-5-20250929-v1:0","timestamp":"2025-10-02T09:14:07Z","identity":{"arn":"arn:aws:iam::111122223333:user/alice"},"accountId":"111122223333","region":"us-east-1","operation":"Converse","requestMetadata":{"team":"web","n":3},"schemaType":"ModelInvocationLog"}"#;
        let raw = parse_record(json).unwrap();
        assert_eq!(raw.request_id.as_deref(), Some("r-1"));
        assert_eq!(raw.timestamp.as_deref(), Some("2025-10-02T09:14:07Z"));
        assert_eq!(
            raw.identity_arn(),
            Some("arn:aws:iam::111122223333:user/alice")
        );
        let input = raw.input().unwrap();
        assert_eq!(input.input_token_count, Some(Counter::Count(12)));
        assert_eq!(
            input.cache_read_input_token_count,
            Some(Counter::Count(48210))
        );
        assert!(input.cache_write_input_token_count.is_none());
        assert_eq!(
            raw.output().unwrap().output_token_count,
            Some(Counter::Count(611))
        );
        let metadata = raw.request_metadata.as_ref().unwrap().get().unwrap();
        assert_eq!(metadata["team"].0.as_deref(), Some("web"));
        assert_eq!(metadata["n"].0, None);
    }

    #[test]
    fn reads_body_facts_of_every_operation() {
        let cases: &[(&str, BodyFacts)] = &[
            (
                r#"{"output":{"outputBodyJson":{"output":{"message":{"content":[{"text":"hi \"there\""}]}},"stopReason":"end_turn","metrics":{"latencyMs":5321},"usage":{"inputTokens":12}}}}"#,
                BodyFacts { stop_reason: Some("end_turn".into()), latency_ms: Some(5321), ..Default::default() },
            ),
            (
                r#"{"output":{"outputBodyJson":{"stopReason":"guardrail_intervened","metrics":{"latencyMs":"n/a"}}}}"#,
                BodyFacts { stop_reason: Some("guardrail_intervened".into()), ..Default::default() },
            ),
            (
                r#"{"output":{"outputBodyJson":{"type":"message","stop_reason":"max_tokens","usage":{"input_tokens":3,"cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":400}}}}}"#,
                BodyFacts { stop_reason: Some("max_tokens".into()), cache_write_1h_tokens: Some(400), ..Default::default() },
            ),
            (
                r#"{"output":{"outputBodyJson":{"amazon-bedrock-guardrailAction":"INTERVENED","content":[]}}}"#,
                BodyFacts { guardrail_intervened: true, ..Default::default() },
            ),
            (
                r#"{"output":{"outputBodyJson":[{"type":"message_start","message":{"usage":{"input_tokens":5,"cache_creation":{"ephemeral_1h_input_tokens":70}}}},{"type":"content_block_delta","delta":{"text":"x"}},"not-a-chunk",{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}},{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":5,"outputTokenCount":9,"invocationLatency":864,"firstByteLatency":412}}]}}"#,
                BodyFacts {
                    stop_reason: Some("end_turn".into()),
                    latency_ms: Some(864),
                    first_byte_latency_ms: Some(412),
                    cache_write_1h_tokens: Some(70),
                    ..Default::default()
                },
            ),
            (
                r#"{"output":{"outputBodyJson":[{"messageStop":{"stopReason":"end_turn"}},{"amazon-bedrock-invocationMetrics":{"invocationLatency":10.0}}]}}"#,
                BodyFacts { stop_reason: Some("end_turn".into()), latency_ms: Some(10), ..Default::default() },
            ),
            (
                r#"{"output":{"outputBodyJson":{"stopReason":"end_turn","trace":{"promptRouter":{"invokedModelId":"arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0"}}}}}"#,
                BodyFacts {
                    stop_reason: Some("end_turn".into()),
                    routed_model_id: Some("arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0".into()),
                    ..Default::default()
                },
            ),
            (r#"{"output":{"outputBodyJson":"plain text"}}"#, BodyFacts::default()),
            (r#"{"output":{"outputBodyJson":null}}"#, BodyFacts::default()),
            (r#"{"output":{}}"#, BodyFacts::default()),
        ];
        for (record, expected) in cases {
            assert_eq!(&facts(record), expected, "{record}");
        }
    }

    #[test]
    fn rejects_what_is_not_a_record_object() {
        let cases: &[&[u8]] = &[
            b"",
            b"{\"requestId\":\"r\"",
            b"[1,2]",
            b"not json",
            b"{\"requestId\":7}",
            b"{\"requestId\":\"r\"} trailing",
        ];
        for json in cases {
            assert!(
                parse_record(json).is_err(),
                "{:?}",
                String::from_utf8_lossy(json)
            );
        }
    }
}
