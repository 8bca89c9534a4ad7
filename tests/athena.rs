//! Athena and the Glue Data Catalog: the real binary against the local AWS API server on
//! 127.0.0.1 (tests/aws_server.py: moto, plus Athena's result paging and failed queries).
//! Athena there does not execute SQL: each test seeds the results its queries get, and checks
//! what the binary sent and printed. Whether the SQL itself is Athena's is checked apart, by
//! tests/athena_sql.py. Each test works in its own region, so that the seeded results of tests
//! running at once never mix.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_glue::config::{Credentials, SharedCredentialsProvider};

use crate::s3::{bucket, client, endpoint};
use crate::util::{Workspace, assert_snapshot, fixtures, logs};

const ACCESS_KEY: &str = "testing";

fn python() -> String {
    std::env::var("BEDROCK_LEDGER_TEST_PYTHON").expect(
        "BEDROCK_LEDGER_TEST_PYTHON is not set: run the suite with `bash tests/run.sh`, \
         which installs sqlglot and pyarrow",
    )
}

fn repository() -> PathBuf {
    fixtures().parent().unwrap().to_owned()
}

/// The binary, pointed at the test server in `region`.
fn aws_command(region: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bedrock-ledger"));
    command
        .args(args)
        .env("AWS_ENDPOINT_URL", endpoint())
        .env("AWS_REGION", region)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", ACCESS_KEY)
        .env_remove("AWS_PROFILE")
        .env_remove("BEDROCK_LEDGER_LOG")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    command
}

fn run(region: &str, args: &[&str]) -> Output {
    aws_command(region, args)
        .output()
        .expect("running bedrock-ledger")
}

fn run_ok(region: &str, args: &[&str]) -> String {
    let output = run(region, args);
    assert!(
        output.status.success(),
        "bedrock-ledger {args:?} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Queues results for the next queries in `region` (see tests/athena_seed.py).
fn seed(region: &str, args: &[&str]) {
    let status = Command::new(python())
        .arg(repository().join("tests/athena_seed.py"))
        .args([endpoint().as_str(), region])
        .args(args)
        .status()
        .expect("running tests/athena_seed.py");
    assert!(status.success(), "seeding Athena results: {args:?}");
}

/// The SDK's settings for the test server at `endpoint`, in `region`.
fn sdk_config(region: &str, endpoint: &str) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            ACCESS_KEY, ACCESS_KEY, None, None, "tests",
        )))
        .build()
}

fn athena_client(region: &str) -> aws_sdk_athena::Client {
    aws_sdk_athena::Client::new(&sdk_config(region, &endpoint()))
}

fn glue_client(region: &str) -> aws_sdk_glue::Client {
    aws_sdk_glue::Client::new(&sdk_config(region, &endpoint()))
}

/// The SQL of every query started in `region`, oldest first.
async fn queries_sent(region: &str) -> Vec<String> {
    let athena = athena_client(region);
    let ids = athena
        .list_query_executions()
        .send()
        .await
        .unwrap()
        .query_execution_ids()
        .to_vec();
    let mut sent = Vec::new();
    for id in ids {
        let execution = athena
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .unwrap();
        let execution = execution.query_execution().unwrap();
        sent.push((
            execution.status().unwrap().submission_date_time().cloned(),
            execution.query().unwrap_or_default().to_owned(),
        ));
    }
    sent.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
    sent.into_iter().map(|(_, sql)| sql).collect()
}

fn athena_sql_check(args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(python())
        .arg(repository().join("tests/athena_sql.py"))
        .args(args)
        .current_dir(repository())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("running tests/athena_sql.py");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.unwrap_or_default().as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn sql_files(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .map(|p| p.strip_prefix(repository()).unwrap().display().to_string())
        .collect();
    files.sort();
    files
}

#[test]
fn every_query_file_is_athena_sql() {
    let mut files = sql_files(&repository().join("queries"));
    files.extend(sql_files(&repository().join("queries/athena")));
    files.extend(sql_files(&repository().join("pipeline/report/sql")));
    assert!(files.len() >= 14, "{files:?}");
    let args: Vec<&str> = files.iter().map(String::as_str).collect();
    let output = athena_sql_check(&args, None);
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_check_refuses_what_only_datafusion_reads() {
    let work = Workspace::new();
    let cases = [
        ("SELECT median(x) FROM t", "no median in Athena"),
        (
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM t",
            "no exact percentiles",
        ),
        ("SELECT to_char(d, '%Y') FROM t", "no to_char"),
        ("SELECT d - INTERVAL '14 days' FROM t", "INTERVAL '14' DAY"),
        ("SELECT 100.0 * x FROM t", "CAST one side AS DOUBLE"),
        (
            "SELECT x FROM t ORDER BY x DESC",
            "NULLS FIRST or NULLS LAST",
        ),
        ("SELECT x::int FROM t", "Postgres cast"),
        ("SELECT x FROM t WHERE month = $other", "unbound parameter"),
        ("SELECT x FROM WHERE", "not Athena SQL"),
    ];
    for (sql, why) in cases {
        let file = work.path("query.sql");
        std::fs::write(&file, sql).unwrap();
        let output = athena_sql_check(&[file.to_str().unwrap()], None);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            !output.status.success() && stdout.contains(why),
            "{sql}: {stdout}"
        );
    }
}

#[test]
fn the_ddl_is_athena_sql() {
    let teams = fixtures().join("teams.csv").display().to_string();
    let profiles = fixtures().join("profiles.csv").display().to_string();
    let ddl = run_ok(
        "us-east-1",
        &[
            "athena",
            "ddl",
            "--data",
            "s3://my-log-bucket/ledger",
            "--database",
            "ledger",
            "--teams",
            &teams,
            "--profiles",
            &profiles,
        ],
    );
    assert_snapshot("expected/athena/ddl.sql", &ddl);
    let output = athena_sql_check(&["--statements", "-"], Some(&ddl));
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn register_creates_the_tables_in_glue_and_a_rerun_changes_nothing() {
    let region = "eu-west-3";
    let bucket = bucket(&client(), "athena-register").await;
    // Unique, like the bucket: the server may have served an earlier run.
    let database = bucket.replace('-', "_");
    let data = format!("s3://{bucket}/ledger/");
    let profiles = fixtures().join("profiles.csv").display().to_string();
    let teams = fixtures().join("teams.csv").display().to_string();
    let logs = logs().display().to_string();
    run_ok(
        region,
        &["ingest", &logs, "--data", &data, "--profiles", &profiles],
    );
    let register = [
        "athena",
        "register",
        "--data",
        &data,
        "--database",
        &database,
        "--teams",
        &teams,
        "--profiles",
        &profiles,
        "--athena-output",
        &format!("s3://{bucket}/athena-results/"),
    ];
    let first = run(region, &register);
    assert!(first.status.success(), "{first:?}");
    let second = run(region, &register);
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(
        said.contains("created: none") && said.contains("updated: none"),
        "a rerun changes nothing: {said}"
    );

    let glue = glue_client(region);
    let tables = glue
        .get_tables()
        .database_name(&database)
        .send()
        .await
        .unwrap();
    let mut names: Vec<&str> = tables.table_list().iter().map(|t| t.name()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "invocations",
            "ledger_entries",
            "profile_teams",
            "rejects",
            "teams"
        ]
    );
    for table in tables.table_list() {
        let location = table.storage_descriptor().unwrap().location().unwrap();
        assert!(location.starts_with(&data), "{location}");
        assert_eq!(
            table.version_id(),
            Some("1"),
            "{} was not rewritten",
            table.name()
        );
    }
    let invocations = tables
        .table_list()
        .iter()
        .find(|t| t.name() == "invocations")
        .unwrap();
    assert_eq!(
        invocations.parameters().unwrap()["spark.sql.sources.provider"],
        "delta"
    );
    assert_eq!(
        invocations.storage_descriptor().unwrap().location(),
        Some(format!("{data}invocations/").as_str())
    );

    let teams_file = client()
        .get_object()
        .bucket(&bucket)
        .key("ledger/athena/teams/teams.csv")
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    assert!(
        String::from_utf8_lossy(&teams_file)
            .starts_with("rule,pattern,metadata_key,regex,team,cost_center\n1,"),
        "{teams_file:?}"
    );
    let views: Vec<String> = queries_sent(region)
        .await
        .into_iter()
        .filter(|sql| sql.starts_with(&format!("CREATE OR REPLACE VIEW \"{database}\".")))
        .collect();
    assert_eq!(views.len(), 8, "four views, created by each run: {views:?}");
    for (view, name) in views.iter().zip([
        "charged_invocations",
        "charged_daily_usage",
        "daily_usage",
        "ingested_objects",
    ]) {
        assert!(
            view.starts_with(&format!(
                "CREATE OR REPLACE VIEW \"{database}\".\"{name}\" AS"
            )),
            "{view}"
        );
    }
}

/// `query NAME --engine athena` with the flags the issue gives, in `region`.
fn athena_query(region: &str, name: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "query",
        name,
        "--engine",
        "athena",
        "--database",
        "ledger",
        "--athena-output",
        "s3://athena-results/",
        "--month",
        "2025-10",
        "--format",
        "csv",
    ];
    args.extend(extra);
    run(region, &args)
}

#[tokio::test]
async fn a_named_query_prints_what_athena_returned() {
    let region = "eu-north-1";
    let work = Workspace::new();
    work.ingest(&[&logs()]);
    let data = work.data().display().to_string();
    // What the local engine returns becomes what Athena returns.
    let local = |format: &str| {
        work.run(&[
            "query",
            "by_identity",
            "--data",
            &data,
            "--month",
            "2026-10",
            "--format",
            format,
        ])
        .stdout
    };
    let csv = String::from_utf8(local("csv")).unwrap();
    let parquet = work.path("by_identity.parquet");
    std::fs::write(&parquet, local("parquet")).unwrap();
    seed(region, &["parquet", parquet.to_str().unwrap()]);

    let output = athena_query(region, "by_identity", &[]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8(output.stdout).unwrap(), csv);
    let sent = queries_sent(region).await;
    let last = sent.last().expect("the query was sent to Athena");
    assert!(last.starts_with("-- Spend per identity"), "{last}");
    assert!(
        last.contains("WHERE month BETWEEN '2025-10' AND '2025-10'"),
        "the month is bound as a literal: {last}"
    );
}

#[test]
fn results_of_several_pages_come_back_whole() {
    let region = "ap-south-1";
    seed(region, &["rows", "2500"]);
    let output = athena_query(region, "by_model", &[]);
    assert!(output.status.success(), "{output:?}");
    let csv = String::from_utf8(output.stdout).unwrap();
    let expected: String = std::iter::once("n".to_owned())
        .chain((0..2500).map(|n| n.to_string()))
        .map(|line| line + "\n")
        .collect();
    assert_eq!(csv, expected, "3 pages of at most 1,000 rows, in order");
}

#[test]
fn a_failed_query_exits_non_zero_with_athenas_reason() {
    let region = "sa-east-1";
    let reason = "COLUMN_NOT_FOUND: line 3:3: Column 'principal_type' cannot be resolved";
    seed(region, &["failed", reason]);
    let output = athena_query(region, "by_identity", &[]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(reason), "{stderr}");
    assert!(stderr.contains("queries/by_identity.sql"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn athena_reads_the_registered_attribution_not_local_files() {
    let teams = fixtures().join("teams.csv").display().to_string();
    let output = athena_query("us-west-1", "chargeback", &["--teams", &teams]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("athena register"));
}

/// The chargeback statements, in the order `report chargeback` runs them.
const CHARGEBACK_STATEMENTS: [&str; 5] = [
    "queries/chargeback.sql",
    "pipeline/report/sql/grand_totals.sql",
    "pipeline/report/sql/sources.sql",
    "pipeline/report/sql/unpriced.sql",
    "pipeline/report/sql/price_books.sql",
];

#[test]
fn the_chargeback_from_athena_is_the_local_one() {
    let region = "ca-central-1";
    let month = "2026-10";
    let work = Workspace::new();
    work.ingest(&[&logs()]);
    let data = work.data().display().to_string();
    let teams = fixtures().join("teams.csv").display().to_string();
    let profiles = fixtures().join("profiles.csv").display().to_string();
    let local_csv = work.path("local.csv");
    work.ok(&[
        "report",
        "chargeback",
        "--month",
        month,
        "--data",
        &data,
        "--teams",
        &teams,
        "--profiles",
        &profiles,
        "--out",
        local_csv.to_str().unwrap(),
    ]);
    // Athena answers each statement with what the local engine answers to it.
    let mut parquet_files = Vec::new();
    for (index, statement) in CHARGEBACK_STATEMENTS.iter().enumerate() {
        let sql = std::fs::read_to_string(repository().join(statement))
            .unwrap()
            .replace("$from_month", &format!("'{month}'"))
            .replace("$to_month", &format!("'{month}'"))
            .replace("$month", &format!("'{month}'"));
        let sql_file = work.path(&format!("statement-{index}.sql"));
        std::fs::write(&sql_file, sql).unwrap();
        let file = work.path(&format!("answer-{index}.parquet"));
        work.ok(&[
            "sql",
            "--data",
            &data,
            "--teams",
            &teams,
            "--profiles",
            &profiles,
            "--format",
            "parquet",
            "--out",
            file.to_str().unwrap(),
            "--file",
            sql_file.to_str().unwrap(),
        ]);
        parquet_files.push(file.display().to_string());
    }
    let mut seed_args = vec!["parquet"];
    seed_args.extend(parquet_files.iter().map(String::as_str));
    seed(region, &seed_args);

    let athena_csv = work.path("athena.csv");
    run_ok(
        region,
        &[
            "report",
            "chargeback",
            "--month",
            month,
            "--data",
            &data,
            "--engine",
            "athena",
            "--database",
            "ledger",
            "--athena-output",
            "s3://athena-results/",
            "--out",
            athena_csv.to_str().unwrap(),
        ],
    );
    let read = |path: &Path| std::fs::read_to_string(path).unwrap();
    assert_eq!(read(&athena_csv), read(&local_csv));
    assert_eq!(
        read(&athena_csv.with_extension("manifest.json")),
        read(&local_csv.with_extension("manifest.json"))
    );
}

/// A server of its own, for a test that changes how every query progresses.
struct PrivateServer {
    child: std::process::Child,
    endpoint: String,
}

impl PrivateServer {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let server = PrivateServer {
            child: Command::new(python())
                .arg(repository().join("tests/aws_server.py"))
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("starting tests/aws_server.py"),
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..300 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("tests/aws_server.py did not start on port {port}");
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn ctrl_c_stops_the_query_in_athena() {
    let server = PrivateServer::start();
    // Queries stay queued until advanced by hand: the binary polls until interrupted.
    let status = Command::new(python())
        .args(["-c", "import json, sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1] + '/moto-api/state-manager/set-transition', data=json.dumps({'model_name': 'athena::execution', 'transition': {'progression': 'manual', 'times': 1000000}}).encode(), method='POST'))"])
        .arg(&server.endpoint)
        .status()
        .unwrap();
    assert!(status.success());
    let child = aws_command(
        "us-east-1",
        &[
            "query",
            "by_model",
            "--engine",
            "athena",
            "--database",
            "ledger",
            "--athena-output",
            "s3://athena-results/",
        ],
    )
    .env("AWS_ENDPOINT_URL", &server.endpoint)
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let athena = aws_sdk_athena::Client::new(&sdk_config("us-east-1", &server.endpoint));
    let mut started = None;
    for _ in 0..300 {
        let ids = athena.list_query_executions().send().await.unwrap();
        if let Some(id) = ids.query_execution_ids().first() {
            started = Some(id.clone());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let id = started.expect("the binary started a query");
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cancelled (interrupted here)"), "{stderr}");
    let execution = athena
        .get_query_execution()
        .query_execution_id(&id)
        .send()
        .await
        .unwrap();
    let state = execution
        .query_execution()
        .and_then(|q| q.status())
        .and_then(|s| s.state())
        .cloned();
    assert_eq!(
        state,
        Some(aws_sdk_athena::types::QueryExecutionState::Cancelled),
        "the binary told Athena to stop the query"
    );
}

/// `athena register` and a query through an API that throttles, fails and resets connections
/// on every other request. (Not bodies cut short: moto, unlike Athena, ignores the idempotency
/// token, so a start it performed but whose answer was lost would run a second query.)
#[tokio::test]
async fn register_and_query_survive_a_faulty_network() {
    let region = "eu-south-1";
    let bucket = bucket(&client(), "athena-faults").await;
    let database = bucket.replace('-', "_");
    let data = format!("s3://{bucket}/ledger/");
    let profiles = fixtures().join("profiles.csv").display().to_string();
    let teams = fixtures().join("teams.csv").display().to_string();
    let logs = logs().display().to_string();
    run_ok(
        region,
        &["ingest", &logs, "--data", &data, "--profiles", &profiles],
    );
    let proxy = crate::reliability::FaultProxy::start(2, "slowdown,error500,reset");
    let through_proxy = |args: &[&str]| {
        aws_command(region, args)
            .env("AWS_ENDPOINT_URL", &proxy.endpoint)
            .output()
            .unwrap()
    };
    let register = through_proxy(&[
        "athena",
        "register",
        "--data",
        &data,
        "--database",
        &database,
        "--teams",
        &teams,
        "--athena-output",
        &format!("s3://{bucket}/athena-results/"),
    ]);
    assert!(register.status.success(), "{register:?}");
    // Seeded now: the views `register` created took results of their own.
    seed(region, &["rows", "1500"]);
    let query = through_proxy(&[
        "query",
        "by_model",
        "--engine",
        "athena",
        "--database",
        &database,
        "--athena-output",
        &format!("s3://{bucket}/athena-results/"),
        "--format",
        "csv",
    ]);
    assert!(query.status.success(), "{query:?}");
    let faults = proxy.faults();
    for kind in ["slowdown", "error500", "reset"] {
        assert!(
            faults[kind].as_u64().unwrap_or(0) > 0,
            "no {kind}: {faults}"
        );
    }
    let tables = glue_client(region)
        .get_tables()
        .database_name(&database)
        .send()
        .await
        .unwrap();
    assert_eq!(tables.table_list().len(), 5);
    assert_eq!(
        String::from_utf8(query.stdout).unwrap().lines().count(),
        1501
    );
}
