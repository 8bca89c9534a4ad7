//! Reading logs from S3: the real binary against a real S3 API server on 127.0.0.1 (moto, started
//! by tests/run.sh). Without the server these tests fail: nothing is skipped silently.

use std::path::Path;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use bedrock_ledger::ingest::shard::Shard;
use bedrock_ledger::pause::POINTS;

use crate::util::{TABLE_DUMP_SQL, Workspace, logs};

/// The endpoint tests/run.sh exports.
pub fn endpoint() -> String {
    std::env::var("BEDROCK_LEDGER_TEST_S3")
        .expect("BEDROCK_LEDGER_TEST_S3 is not set: run the suite with `bash tests/run.sh`, which starts the S3 server")
}

const ACCESS_KEY: &str = "testing";

/// A client for the test server.
pub fn client() -> Client {
    let config = aws_sdk_s3::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint())
        .credentials_provider(Credentials::new(
            ACCESS_KEY, ACCESS_KEY, None, None, "tests",
        ))
        .force_path_style(true)
        .build();
    Client::from_conf(config)
}

/// A new, empty bucket with a name unique to this test run.
pub async fn bucket(client: &Client, name: &str) -> String {
    let bucket = format!("{name}-{}-{}", std::process::id(), rand_suffix());
    client
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("creating a bucket");
    bucket
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
}

/// Uploads every file under `dir` to `s3://bucket/prefix/<relative path>`.
pub async fn upload_tree(client: &Client, bucket: &str, prefix: &str, dir: &Path) {
    let mut stack = vec![dir.to_owned()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let key = format!("{prefix}{}", path.strip_prefix(dir).unwrap().display());
            let body = ByteStream::from(std::fs::read(&path).unwrap());
            client
                .put_object()
                .bucket(bucket)
                .key(key)
                .body(body)
                .send()
                .await
                .expect("uploading");
        }
    }
}

/// The binary, pointed at the test server the way a new user would do it (`AWS_ENDPOINT_URL`
/// alone, no addressing flag), with throwaway credentials and no AWS config files.
pub fn s3_command(args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_bedrock-ledger"));
    command
        .args(args)
        .env("AWS_ENDPOINT_URL", endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", ACCESS_KEY)
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    command
}

/// Runs the binary against the test server and asserts it succeeds.
pub fn run_s3(args: &[&str]) -> std::process::Output {
    let output = s3_command(args).output().expect("running bedrock-ledger");
    assert!(
        output.status.success(),
        "bedrock-ledger {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn ingests_from_s3_exactly_as_from_local_files() {
    let client = client();
    let bucket = bucket(&client, "fixtures").await;
    upload_tree(&client, &bucket, "logs/", &logs()).await;

    let local = Workspace::new();
    local.ingest(&[&logs()]);
    let remote = Workspace::new();
    let data = remote.data().display().to_string();
    let profiles = crate::util::fixtures()
        .join("profiles.csv")
        .display()
        .to_string();
    let uri = format!("s3://{bucket}/logs/");
    let first = run_s3(&["ingest", &uri, "--data", &data, "--profiles", &profiles]);
    assert!(
        stderr(&first).starts_with("objects: 19 read"),
        "{}",
        stderr(&first)
    );
    assert_eq!(
        remote.sql_csv(TABLE_DUMP_SQL),
        local.sql_csv(TABLE_DUMP_SQL)
    );

    // Nothing new: no object is read.
    let second = run_s3(&["ingest", &uri, "--data", &data, "--profiles", &profiles]);
    assert_eq!(
        stderr(&second).trim(),
        "nothing new: 19 object(s) already ingested unchanged, no log object read"
    );

    // One new object: only it is read.
    let extra = logs().join("s3/AWSLogs/444455556666/BedrockModelInvocationLogs/us-east-1/2026/10/20/13/20261020T131000999Z_27fe495a0f4dc53c.json.gz");
    client
        .put_object()
        .bucket(&bucket)
        .key("logs/zz-later/copy.json.gz")
        .body(ByteStream::from(std::fs::read(extra).unwrap()))
        .send()
        .await
        .unwrap();
    let third = run_s3(&["ingest", &uri, "--data", &data, "--profiles", &profiles]);
    assert!(
        stderr(&third)
            .starts_with("objects: 1 read (1 log:s3_native), 0 log group(s) read, 0 skipped as noise, 19 unchanged"),
        "{}",
        stderr(&third)
    );
    // Its requests were all there already, and the copy kept is still the first by source URI.
    assert_eq!(
        remote.sql_csv(TABLE_DUMP_SQL),
        local.sql_csv(TABLE_DUMP_SQL)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_date_window_prunes_native_listings_and_filters_the_rest() {
    let client = client();
    let bucket = bucket(&client, "window").await;
    upload_tree(&client, &bucket, "", &logs().join("s3")).await;
    upload_tree(
        &client,
        &bucket,
        "exportedlogs/",
        &logs().join("cw-export/exportedlogs"),
    )
    .await;

    let work = Workspace::new();
    let data = work.data().display().to_string();
    let output = run_s3(&[
        "ingest",
        &format!("s3://{bucket}/"),
        "--data",
        &data,
        "--since",
        "2026-10-01",
        "--until",
        "2026-10-01",
    ]);
    // Native layout: only the objects of 2026/10/01 are listed (2 logs + 2 offloaded bodies) and
    // the permission-check marker above the regions;
    // the export task's objects have no dates in their keys, so they are read and filtered.
    let summary = stderr(&output);
    assert!(summary.starts_with("objects: 8 read"), "{summary}");
    let days = work
        .sql_csv("SELECT DISTINCT CAST(timestamp AS DATE) AS day FROM invocations ORDER BY day");
    assert_eq!(days, "day\n2026-10-01\n");
    let ledger =
        work.sql_csv("SELECT count(*) AS n FROM ingested_objects WHERE uri LIKE '%/2026/10/02/%'");
    assert_eq!(ledger, "n\n0\n", "other days were never listed");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_nightly_job_runs_with_logs_and_dataset_in_s3() {
    let client = client();
    let bucket = bucket(&client, "nightly").await;
    upload_tree(&client, &bucket, "", &logs().join("s3")).await;

    let fixtures = crate::util::fixtures();
    let (profiles, teams) = (fixtures.join("profiles.csv"), fixtures.join("teams.csv"));
    let (profiles, teams) = (profiles.display().to_string(), teams.display().to_string());
    let window = ["--since", "2026-09-01", "--until", "2026-11-30"];
    let data = format!("s3://{bucket}/ledger/");
    let logs_uri = format!("s3://{bucket}/AWSLogs/");
    let run = [
        &["run", &logs_uri][..],
        &window,
        &["--data", &data, "--profiles", &profiles, "--teams", &teams],
    ]
    .concat();
    let first = run_s3(&run);
    let stdout = String::from_utf8_lossy(&first.stdout).into_owned();
    assert!(stdout.contains("chargeback 2026-10:"), "{stdout}");

    // The same job on the same objects, from disk.
    let local = Workspace::new();
    let local_data = local.data().display().to_string();
    let local_logs = logs().join("s3").display().to_string();
    let local_run = [
        &["run", &local_logs][..],
        &window,
        &[
            "--data",
            &local_data,
            "--profiles",
            &profiles,
            "--teams",
            &teams,
        ],
    ]
    .concat();
    local.ok(&local_run);
    let chargeback = fetch_text(&client, &bucket, "ledger/reports/chargeback-2026-10.csv").await;
    assert_eq!(
        chargeback,
        std::fs::read_to_string(local.data().join("reports/chargeback-2026-10.csv")).unwrap()
    );

    // SQL straight over the dataset in S3.
    let totals = "SELECT month, count(*) AS n, sum(input_tokens) AS input, sum(cost_usd) AS cost FROM invocations GROUP BY month ORDER BY month";
    let remote_totals = run_s3(&["sql", "--data", &data, "--format", "csv", totals]);
    assert_eq!(
        String::from_utf8_lossy(&remote_totals.stdout),
        local.sql_csv(totals)
    );

    // Nothing new the next night.
    let second = run_s3(&run);
    assert!(
        String::from_utf8_lossy(&second.stdout)
            .contains("nothing new: 12 object(s) already ingested unchanged"),
        "{}",
        String::from_utf8_lossy(&second.stdout)
    );

    // A wrong prefix is an error naming it, never an empty answer.
    let wrong = s3_command(&[
        "sql",
        "--data",
        &format!("s3://{bucket}/no-such-ledger/"),
        "SELECT count(*) FROM invocations",
    ])
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert_eq!(wrong.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "no invocations table at s3://{bucket}/no-such-ledger/invocations/"
        )),
        "{err}"
    );
}

async fn fetch_text(client: &Client, bucket: &str, key: &str) -> String {
    let object = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .expect("the object exists");
    String::from_utf8(object.body.collect().await.unwrap().into_bytes().to_vec()).unwrap()
}

/// Uploads a generated corpus of `objects` objects to a new bucket and ingests it once from
/// there into a local dataset; returns the corpus URI and that dataset.
async fn corpus_and_clean_run(name: &str, objects: usize) -> (String, Workspace) {
    let client = client();
    let bucket = bucket(&client, name).await;
    let corpus = Workspace::new();
    crate::crash::write_corpus(&corpus.path("logs"), objects, 120);
    upload_tree(&client, &bucket, "", &corpus.path("logs")).await;
    let uri = format!("s3://{bucket}/AWSLogs/");
    let clean = Workspace::new();
    let clean_data = clean.data().display().to_string();
    run_s3(&["ingest", &uri, "--data", &clean_data]);
    (uri, clean)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_killed_at_any_point_is_repaired_by_the_next_for_local_and_s3_datasets() {
    let (uri, clean) = corpus_and_clean_run("killed", 16).await;
    let expected = clean.sql_csv(TABLE_DUMP_SQL);
    let bucket = uri
        .trim_start_matches("s3://")
        .trim_end_matches("/AWSLogs/");
    let points = POINTS.iter().filter(|p| **p != "merge-source-written");
    for (point, in_s3) in points.flat_map(|p| [(p, false), (p, true)]) {
        let work = Workspace::new();
        let data = if in_s3 {
            format!("s3://{bucket}/ledger-{point}/")
        } else {
            work.data().display().to_string()
        };
        let mut child = s3_command(&["ingest", &uri, "--data", &data])
            .env("BEDROCK_LEDGER_PAUSE_AT", point)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        crate::concurrency::wait_for_pause(&mut child, point);
        run_s3(&["ingest", &uri, "--data", &data]);
        let dump = run_s3(&["sql", "--data", &data, "--format", "csv", TABLE_DUMP_SQL]);
        assert_eq!(
            String::from_utf8_lossy(&dump.stdout),
            expected,
            "killed at {point} (dataset in S3: {in_s3})"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn shards_and_a_killed_writer_on_a_dataset_in_s3_end_as_one_clean_run() {
    let (uri, clean) = corpus_and_clean_run("shards", 12).await;
    let data = format!("{}ledger/", uri.trim_end_matches("AWSLogs/"));
    // A shard that holds objects (the bucket's name, so the shards, differ from run to run) is
    // killed right after its first month commit; moto's conditional puts are not atomic, so the
    // shards run one after another here (races are proven on local disk).
    let bucket = uri
        .trim_start_matches("s3://")
        .trim_end_matches("/AWSLogs/");
    let listed = client()
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .expect("listing the corpus");
    let uris: Vec<String> = listed
        .contents()
        .iter()
        .filter_map(|o| o.key())
        .map(|key| format!("s3://{bucket}/{key}"))
        .collect();
    let victim = (0..3)
        .find(|&k| uris.iter().any(|u| Shard::new(k, 3).unwrap().holds(u)))
        .expect("some shard holds an object");
    let victim = format!("{victim}/3");
    let mut killed = s3_command(&["ingest", &uri, "--data", &data, "--shard", &victim])
        .env("BEDROCK_LEDGER_PAUSE_AT", "month-committed")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    crate::concurrency::wait_for_pause(&mut killed, "month-committed");
    for shard in ["0/3", "1/3", "2/3"] {
        run_s3(&["ingest", &uri, "--data", &data, "--shard", shard]);
    }
    let retried = run_s3(&["ingest", &uri, "--data", &data, "--shard", "1/3"]);
    assert!(
        String::from_utf8_lossy(&retried.stderr).starts_with("nothing new"),
        "a retried shard is a no-op"
    );
    let totals = "SELECT month, count(*) AS n, sum(input_tokens) AS input, sum(cache_read_tokens) AS cached FROM invocations GROUP BY month ORDER BY month";
    let remote = run_s3(&["sql", "--data", &data, "--format", "csv", totals]);
    assert_eq!(
        String::from_utf8_lossy(&remote.stdout),
        clean.sql_csv(totals)
    );
}
