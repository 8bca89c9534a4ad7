//! Reading CloudWatch Logs through its API (`cwlogs://`), against the local server tests/run.sh
//! starts. Events must be recent (CloudWatch refuses old ones), so they are dated now.

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cloudwatchlogs::types::InputLogEvent;

use crate::s3::{endpoint, run_s3};
use crate::util::Workspace;

fn client() -> Client {
    let config = aws_sdk_cloudwatchlogs::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .build();
    Client::from_conf(config)
}

fn record(id: usize, timestamp_ms: i64) -> String {
    let time = chrono::DateTime::from_timestamp_millis(timestamp_ms).unwrap();
    format!(
        r#"{{"schemaType":"ModelInvocationLog","timestamp":"{}","accountId":"111122223333","identity":{{"arn":"arn:aws:iam::111122223333:user/u{}"}},"region":"us-east-1","requestId":"cw-{id:05}","operation":"Converse","modelId":"global.anthropic.claude-haiku-4-5-20251001-v1:0","input":{{"inputTokenCount":{}}},"output":{{"outputTokenCount":7}}}}"#,
        time.format("%Y-%m-%dT%H:%M:%SZ"),
        id % 3,
        10 + id
    )
}

async fn put(client: &Client, group: &str, stream: &str, messages: Vec<(i64, String)>) {
    let events: Vec<InputLogEvent> = messages
        .into_iter()
        .map(|(timestamp, message)| {
            InputLogEvent::builder()
                .timestamp(timestamp)
                .message(message)
                .build()
                .unwrap()
        })
        .collect();
    client
        .put_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .set_log_events(Some(events))
        .send()
        .await
        .expect("putting log events");
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_a_log_group_incrementally_without_double_counting() {
    let client = client();
    let group = format!("/aws/bedrock/modelinvocations-{}", std::process::id());
    let stream = "aws/bedrock/modelinvocations";
    client
        .create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .expect("creating a log group");
    client
        .create_log_stream()
        .log_group_name(&group)
        .log_stream_name(stream)
        .send()
        .await
        .unwrap();
    let start = chrono::Utc::now().timestamp_millis() / 1000 * 1000 - 600_000;
    let mut messages = vec![(
        start,
        "Permissions are correctly set for Amazon Bedrock logs.".to_owned(),
    )];
    messages.extend((0..150).map(|i| {
        (
            start + 1000 * (i as i64 + 1),
            record(i, start + 1000 * (i as i64 + 1)),
        )
    }));
    put(&client, &group, stream, messages).await;

    let work = Workspace::new();
    let data = work.data().display().to_string();
    let uri = format!("cwlogs://{group}");
    let first = run_s3(&["ingest", &uri, "--data", &data]);
    let summary = String::from_utf8_lossy(&first.stderr).into_owned();
    assert!(
        summary.starts_with("objects: 0 read (), 1 log group(s) read"),
        "{summary}"
    );
    assert!(
        summary.contains("150 decoded") && summary.contains("1 noise events"),
        "{summary}"
    );
    let count =
        || work.sql_csv("SELECT count(*) AS n, sum(input_tokens) AS input FROM invocations");
    assert_eq!(
        count(),
        format!("n,input\n150,{}\n", (0..150).map(|i| 10 + i).sum::<usize>())
    );

    // A rerun overlaps the last window: nothing is counted twice.
    run_s3(&["ingest", &uri, "--data", &data]);
    assert_eq!(
        count(),
        format!("n,input\n150,{}\n", (0..150).map(|i| 10 + i).sum::<usize>())
    );

    // New events are picked up from the watermark on; a stream prefix narrows the read.
    let later = start + 200_000;
    put(
        &client,
        &group,
        stream,
        (150..155)
            .map(|i| (later + i as i64, record(i, later + i as i64)))
            .collect(),
    )
    .await;
    run_s3(&["ingest", &format!("{uri}/aws/bedrock"), "--data", &data]);
    let sources = work.sql_csv("SELECT count(*) AS n FROM invocations WHERE source_format = 'cloudwatch_logs' AND source LIKE 'cwlogs://%/aws/bedrock/modelinvocations/%'");
    assert_eq!(sources, "n\n155\n");
}
