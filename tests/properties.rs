//! Property tests (proptest): for random sets of records, ingesting them in any split into
//! objects and nights, in any order, gives the same table, and the chargeback of every month
//! adds up to its manifest.
//!
//! These call the library in-process (a local dataset, no server), so that each case costs a
//! few ingests rather than a few process starts.

use std::path::Path;

use bedrock_ledger::dataset::Dataset;
use bedrock_ledger::dataset::retry::RetryPolicy;
use bedrock_ledger::ingest::{IngestOptions, ingest};
use bedrock_ledger::normalize::ProfileMap;
use bedrock_ledger::pricing::PriceBookInUse;
use bedrock_ledger::query::run_statement;
use bedrock_ledger::report::chargeback::chargeback;
use bedrock_ledger::report::report_session;
use bedrock_ledger::source::{Sources, local};
use proptest::prelude::*;

/// One generated request: a few request ids only, so that deliveries repeat.
#[derive(Clone, Debug)]
struct Request {
    id: u8,
    day: u8,
    identity: u8,
    model: u8,
    input: u32,
    output: u32,
    cache_read: Option<u32>,
}

const MODELS: [&str; 3] = [
    "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "amazon.nova-lite-v1:0",
    "meta.llama3-3-70b-instruct-v1:0",
];

impl Request {
    /// The record as Bedrock writes it. Every delivery of one request id is the same record,
    /// as Bedrock's are: the id decides its content.
    fn line(&self) -> String {
        let cache = self.cache_read.map_or(String::new(), |n| {
            format!(r#","cacheReadInputTokenCount":{n}"#)
        });
        format!(
            r#"{{"schemaType":"ModelInvocationLog","schemaVersion":"1.0","timestamp":"2026-{month:02}-{day:02}T10:00:{id:02}Z","accountId":"111122223333","identity":{{"arn":"arn:aws:iam::111122223333:user/u{who}"}},"region":"us-east-1","requestId":"req-{id}","operation":"Converse","modelId":"{model}","input":{{"inputTokenCount":{input}{cache}}},"output":{{"outputTokenCount":{output}}}}}"#,
            month = 9 + u32::from(self.day) / 30,
            day = 1 + u32::from(self.day) % 28,
            id = self.id,
            who = self.identity,
            model = MODELS[usize::from(self.model) % MODELS.len()],
            input = self.input,
            output = self.output,
        )
    }
}

/// Requests for a pool of 24 ids: one record per id, delivered 1 to 3 times.
fn deliveries() -> impl Strategy<Value = Vec<Request>> {
    proptest::collection::vec(
        (
            0u8..24,
            0u8..60,
            0u8..4,
            0u8..3,
            0u32..50_000,
            0u32..5_000,
            proptest::option::of(0u32..100_000),
        ),
        1..40,
    )
    .prop_map(|raw| {
        let mut first: std::collections::BTreeMap<u8, Request> = Default::default();
        raw.into_iter()
            .map(|(id, day, identity, model, input, output, cache_read)| {
                first
                    .entry(id)
                    .or_insert(Request {
                        id,
                        day,
                        identity,
                        model,
                        input,
                        output,
                        cache_read,
                    })
                    .clone()
            })
            .collect()
    })
}

/// Ingests `nights`, each a list of objects, each a list of lines, night after night; returns
/// the table without where each row came from, and checks every month's chargeback.
async fn ingest_nights(dir: &Path, nights: &[Vec<Vec<String>>]) -> String {
    let data = Dataset::local(&dir.join("data")).unwrap();
    let (profiles, prices, sources) = (
        ProfileMap::default(),
        PriceBookInUse::built_in(),
        Sources::default(),
    );
    for (n, objects) in nights.iter().enumerate() {
        let night = dir.join(format!("night-{n}"));
        std::fs::create_dir_all(&night).unwrap();
        for (o, lines) in objects.iter().enumerate() {
            std::fs::write(night.join(format!("{o}.json")), lines.join("\n")).unwrap();
        }
        let listed = local::list_objects(&[night]).unwrap();
        let options = IngestOptions {
            profiles: &profiles,
            prices: &prices,
            progress: false,
            full_refresh: false,
            window: None,
            sources: &sources,
            shard: None,
            retry: RetryPolicy::default(),
        };
        ingest(listed, &data, options).await.unwrap();
    }
    let (ctx, version) = report_session(&data, None, &Default::default(), &profiles)
        .await
        .unwrap();
    let months = run_statement(
        &ctx,
        "SELECT DISTINCT month FROM invocations ORDER BY 1",
        &[],
    )
    .await
    .unwrap();
    let months = arrow::util::pretty::pretty_format_batches(&months.batches)
        .unwrap()
        .to_string();
    for month in ["2026-09", "2026-10", "2026-11"] {
        if months.contains(month) {
            // Fails unless the rows add up to the month's totals.
            chargeback(&ctx, version, month).await.unwrap();
        }
    }
    let table = run_statement(
        &ctx,
        "SELECT request_id, timestamp, identity, model, input_tokens, output_tokens, \
         cache_read_tokens, cost_usd, price_status, month FROM invocations ORDER BY request_id",
        &[],
    )
    .await
    .unwrap();
    arrow::util::pretty::pretty_format_batches(&table.batches)
        .unwrap()
        .to_string()
}

/// Splits `items` at the cut points (positions, taken modulo the length, deduplicated).
fn split<T: Clone>(items: &[T], cuts: &[usize]) -> Vec<Vec<T>> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (items.len() + 1)).collect();
    at.extend([0, items.len()]);
    at.sort_unstable();
    at.dedup();
    at.windows(2).map(|w| items[w[0]..w[1]].to_vec()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        max_shrink_iters: 32,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_split_and_order_gives_the_same_table(
        requests in deliveries(),
        night_cuts in proptest::collection::vec(0usize..64, 0..3),
        object_cuts in proptest::collection::vec(0usize..64, 0..4),
        shuffle in any::<u64>(),
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        let lines: Vec<String> = requests.iter().map(Request::line).collect();
        let all_at_once = tempfile::tempdir().unwrap();
        let expected = runtime.block_on(ingest_nights(all_at_once.path(), &[vec![lines.clone()]]));

        // The same lines in another order, split into nights and each night into objects.
        let mut shuffled = lines;
        let mut state = shuffle | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let nights: Vec<Vec<Vec<String>>> = split(&shuffled, &night_cuts)
            .into_iter()
            .map(|night| split(&night, &object_cuts))
            .collect();
        let in_pieces = tempfile::tempdir().unwrap();
        let got = runtime.block_on(ingest_nights(in_pieces.path(), &nights));
        prop_assert_eq!(got, expected);
    }
}
