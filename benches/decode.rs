//! Criterion benchmarks of the decoder alone, on body-heavy records like coding agents produce
//! (tens of KB of escaped message text per record). Also compares the two JSON parsers the
//! record parser can run on: serde_json measured faster than sonic-rs here, so it is the one used.

use std::hint::black_box;
use std::sync::Arc;

use bedrock_ledger::decode::lines::{LineBlock, decode_block};
use bedrock_ledger::decode::record::RawRecord;
use bedrock_ledger::normalize::ProfileMap;
use bedrock_ledger::rows::SourceFormat;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// A record whose request body carries about `body_kb` KB of conversation text.
fn record(index: usize, body_kb: usize) -> String {
    // Escaped as it is inside a JSON string: quotes, newlines, tabs, backslashes, non-ASCII.
    let paragraph = r#"Refactor `fn parse(&self) -> Result<Vec<u8>, Error>` so that it \"streams\"\n\tand keeps the \\ path; café ✓. "#;
    let text = paragraph.repeat(body_kb * 1024 / paragraph.len() + 1);
    format!(
        concat!(
            r#"{{"schemaType":"ModelInvocationLog","schemaVersion":"1.0","timestamp":"2025-10-02T09:14:07Z","#,
            r#""accountId":"111122223333","identity":{{"arn":"arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Developer_0a1b2c3d4e5f6a7b/jane@example.com"}},"#,
            r#""region":"us-east-1","requestId":"req-{index:08}","operation":"Converse","modelId":"us.anthropic.claude-sonnet-4-5-20250929-v1:0","#,
            r#""input":{{"inputContentType":"application/json","inputBodyJson":{{"messages":[{{"role":"user","content":[{{"text":"{text}"}}]}}],"system":[{{"text":"You are a coding agent."}}]}},"#,
            r#""inputTokenCount":12,"cacheReadInputTokenCount":48210,"cacheWriteInputTokenCount":1350}},"#,
            r#""output":{{"outputContentType":"application/json","outputBodyJson":{{"output":{{"message":{{"role":"assistant","content":[{{"text":"Done: {short}"}}]}}}},"#,
            r#""stopReason":"end_turn","metrics":{{"latencyMs":5321}},"usage":{{"inputTokens":12,"outputTokens":611}}}},"outputTokenCount":611}}}}"#
        ),
        index = index,
        text = text,
        short = paragraph.repeat(40),
    )
}

fn corpus(records: usize, body_kb: usize) -> Vec<u8> {
    let mut lines = String::new();
    for i in 0..records {
        lines.push_str(&record(i, body_kb));
        lines.push('\n');
    }
    lines.into_bytes()
}

fn decoder(c: &mut Criterion) {
    let source: Arc<str> = Arc::from("file:///bench");
    let profiles = ProfileMap::default();
    let block = corpus(256, 24);
    let mut group = c.benchmark_group("decode_block");
    group.throughput(Throughput::Bytes(block.len() as u64));
    group.sample_size(20);
    group.bench_function("native_24kb_bodies", |b| {
        b.iter(|| {
            let decoded = decode_block(
                LineBlock {
                    bytes: &block,
                    first_line: 1,
                    offset: 0,
                },
                SourceFormat::S3Native,
                &source,
                &profiles,
            );
            assert_eq!(decoded.invocations.len(), 256);
            black_box(decoded)
        })
    });
    group.finish();

    let one = record(0, 24);
    let mut group = c.benchmark_group("parse_record");
    group.throughput(Throughput::Bytes(one.len() as u64));
    group.bench_function("sonic_rs", |b| {
        b.iter(|| {
            black_box(
                sonic_rs::from_slice::<RawRecord>(one.as_bytes())
                    .unwrap()
                    .request_id
                    .is_some(),
            )
        })
    });
    group.bench_function("serde_json", |b| {
        b.iter(|| {
            black_box(
                serde_json::from_slice::<RawRecord>(one.as_bytes())
                    .unwrap()
                    .request_id
                    .is_some(),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, decoder);
criterion_main!(benches);
