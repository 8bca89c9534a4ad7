//! Reliability: the dataset kept under its own input prefix, secrets kept out of every message,
//! a dataset that cannot be written (read-only, disk full) left as it was, and a run through an
//! S3 that fails in every way a network does (tests/fault_proxy.py).

use crate::s3::{bucket, client, run_s3, s3_command, upload_tree};
use crate::util::{Workspace, fixtures, logs};

/// `run <prefix> --data <prefix>/ledger`: the second night reads nothing of the dataset (its
/// Delta logs, Parquet files, reports) as input, and finds nothing new.
#[test]
fn a_dataset_under_its_input_directory_is_never_read_as_input() {
    let work = Workspace::new();
    // The workspace holds the dataset (`data/`); the logs go beside it, and the input is both.
    copy_tree(&logs(), &work.path("logs"));
    let input = work.path("logs").parent().unwrap().display().to_string();
    let data = work.data().display().to_string();
    let profiles = fixtures().join("profiles.csv").display().to_string();
    let run = ["run", &input, "--data", &data, "--profiles", &profiles];
    let first = work.ok(&run);
    let rejects_after_first = work.sql_csv("SELECT count(*) AS n FROM rejects");
    let second = work.ok(&run);
    assert!(
        second.contains("nothing new: 19 object(s) already ingested unchanged")
            && second.contains("inside the dataset itself left out"),
        "{first}\n{second}"
    );
    assert_eq!(
        work.sql_csv("SELECT count(*) AS n FROM rejects"),
        rejects_after_first
    );
}

#[tokio::test]
async fn a_dataset_under_its_input_prefix_in_s3_is_never_read_as_input() {
    let client = client();
    let bucket = bucket(&client, "under-prefix").await;
    upload_tree(&client, &bucket, "logs/", &logs().join("s3")).await;
    let input = format!("s3://{bucket}/");
    let data = format!("s3://{bucket}/ledger/");
    let profiles = fixtures().join("profiles.csv").display().to_string();
    let teams = fixtures().join("teams.csv").display().to_string();
    let run = [
        "run",
        &input,
        "--data",
        &data,
        "--profiles",
        &profiles,
        "--teams",
        &teams,
    ];
    run_s3(&run);
    let second = run_s3(&run);
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        stdout.contains("nothing new: 12 object(s) already ingested unchanged")
            && stdout.contains("inside the dataset itself left out"),
        "{stdout}"
    );
}

/// At the most verbose level, no credential, session token or signature reaches the output.
#[tokio::test]
async fn secrets_never_reach_logs_or_errors() {
    let client = client();
    let bucket = bucket(&client, "secrets").await;
    upload_tree(&client, &bucket, "logs/", &logs().join("s3")).await;
    let secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYSECRETKEY";
    let token = "FwoGZXIvYXdzEXAMPLESESSIONTOKENxyz";
    let data = format!("s3://{bucket}/ledger/");
    let runs: [Vec<String>; 2] = [
        // A run that works,
        vec![
            "-vv".into(),
            "ingest".into(),
            format!("s3://{bucket}/logs/"),
            "--data".into(),
            data.clone(),
        ],
        // and one that fails, in a bucket that does not exist.
        vec![
            "-vv".into(),
            "sql".into(),
            "--data".into(),
            format!("s3://{bucket}-missing/ledger/"),
            "SELECT 1".into(),
        ],
    ];
    for args in runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = s3_command(&args)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_SESSION_TOKEN", token)
            .env("BEDROCK_LEDGER_LOG", "trace")
            .output()
            .unwrap();
        let all = [output.stdout, output.stderr].concat();
        let text = String::from_utf8_lossy(&all);
        assert!(text.len() > 1000, "the verbose run said something: {text}");
        for needle in [secret, token, "X-Amz-Signature=", "Signature="] {
            assert!(!text.contains(needle), "{needle} in the output of {args:?}");
        }
    }
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Makes a directory tree immutable (`chattr -R +i`: even root cannot write to it, unlike a
/// mode) for as long as it lives.
struct Immutable(std::path::PathBuf);

impl Immutable {
    fn new(dir: &std::path::Path) -> Self {
        let status = std::process::Command::new("chattr")
            .args(["-R", "+i"])
            .arg(dir)
            .status()
            .expect("running chattr (e2fsprogs)");
        assert!(status.success(), "chattr +i {}", dir.display());
        Immutable(dir.to_owned())
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chattr")
            .args(["-R", "-i"])
            .arg(&self.0)
            .status();
    }
}

/// A dataset that cannot be written: the run says so and exits 1, and the dataset is as it was.
#[test]
fn a_read_only_dataset_is_a_clear_error_and_stays_as_it_was() {
    let work = Workspace::new();
    work.ingest(&[&logs().join("s3")]);
    let before = work.sql_csv(crate::util::TABLE_DUMP_SQL);
    let output = {
        let _frozen = Immutable::new(&work.data());
        work.run(&[
            "ingest",
            &logs().display().to_string(),
            "--data",
            &work.data().display().to_string(),
        ])
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("Operation not permitted")
            && stderr.contains(&work.data().display().to_string()),
        "the error names the place and the cause: {stderr}"
    );
    assert_eq!(work.sql_csv(crate::util::TABLE_DUMP_SQL), before);
}

/// A disk that fills up mid-run (a tmpfs mounted in a user namespace, filled to 128 KiB of free
/// space after a first run): the run exits 1 naming the cause, and the dataset reads as it was.
#[test]
fn a_full_disk_is_a_clear_error_and_commits_nothing_half() {
    let bin = env!("CARGO_BIN_EXE_bedrock-ledger");
    let small = logs().join("s3").display().to_string();
    let work = Workspace::new();
    let corpus = work.path("corpus");
    crate::crash::write_corpus(&corpus, 24, 1000);
    let script = format!(
        "set -e; mount -t tmpfs -o size=8m tmpfs /mnt; \
         {bin} ingest {small} --data /mnt/data >/dev/null 2>&1; \
         {bin} sql --data /mnt/data --format csv 'SELECT count(*) AS n FROM invocations'; \
         dd if=/dev/zero of=/mnt/filler bs=64k 2>/dev/null || true; truncate -s -128k /mnt/filler; \
         if {bin} ingest {corpus} --data /mnt/data >/dev/null 2>{err}; then echo fit; \
         else echo \"exit $?\"; grep -o 'No space left on device' {err} | head -1; fi; \
         {bin} sql --data /mnt/data --format csv 'SELECT count(*) AS n FROM invocations'",
        corpus = corpus.display(),
        // Not on the full disk: the run must be able to say what went wrong.
        err = work.path("stderr").display(),
    );
    let output = std::process::Command::new("unshare")
        .args(["-rm", "sh", "-c", &script])
        .env_remove("BEDROCK_LEDGER_LOG")
        .output()
        .expect("running unshare (util-linux)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout, "n\n32\nexit 1\nNo space left on device\nn\n32\n",
        "the second run ran out of space, said so, and left the 32 rows of the first"
    );
}

/// tests/fault_proxy.py in front of the test AWS API server, faulting every `every`-th request
/// with one of `faults` in turn (`slowdown,error500,reset,short_body,slow`).
pub struct FaultProxy {
    child: std::process::Child,
    pub endpoint: String,
}

impl FaultProxy {
    pub fn start(every: u32, faults: &str) -> Self {
        let python = std::env::var("BEDROCK_LEDGER_TEST_PYTHON")
            .expect("BEDROCK_LEDGER_TEST_PYTHON is not set: run the suite with tests/run.sh");
        let work = Workspace::new();
        let port_file = work.path("port");
        let mut proxy = FaultProxy {
            child: std::process::Command::new(python)
                .arg(fixtures().join("../tests/fault_proxy.py"))
                .args(["--upstream", &crate::s3::endpoint(), "--port", "0"])
                .args(["--every", &every.to_string(), "--slow-seconds", "0.5"])
                .args(["--faults", faults])
                .arg("--port-file")
                .arg(&port_file)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("starting tests/fault_proxy.py"),
            endpoint: String::new(),
        };
        for _ in 0..300 {
            if let Ok(port) = std::fs::read_to_string(&port_file) {
                proxy.endpoint = format!("http://127.0.0.1:{}", port.trim());
                return proxy;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("tests/fault_proxy.py did not start");
    }

    /// Faults injected so far, by kind.
    pub fn faults(&self) -> serde_json::Value {
        let output = std::process::Command::new("python3")
            .args(["-c", "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1] + '/__fault_proxy/stats').read().decode())"])
            .arg(&self.endpoint)
            .output()
            .unwrap();
        let stats: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        stats["faults"].clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The nightly job through an S3 that throttles (503 SlowDown), fails (500), resets
/// connections, cuts bodies short and answers slowly, one request in five: it finishes in a
/// single run, and exactly: the same table, rejects and chargeback as a clean local run.
#[tokio::test(flavor = "multi_thread")]
async fn a_run_through_a_faulty_s3_finishes_exactly_in_one_run() {
    let client = client();
    let bucket = bucket(&client, "faulty").await;
    upload_tree(&client, &bucket, "logs/", &logs()).await;
    let profiles = fixtures().join("profiles.csv").display().to_string();
    let teams = fixtures().join("teams.csv").display().to_string();

    let clean = Workspace::new();
    let clean_data = clean.data().display().to_string();
    let local_logs = logs().display().to_string();
    clean.ok(&[
        "run",
        &local_logs,
        "--data",
        &clean_data,
        "--profiles",
        &profiles,
        "--teams",
        &teams,
    ]);

    let proxy = FaultProxy::start(5, "slowdown,error500,reset,short_body,slow");
    let data = format!("s3://{bucket}/ledger/");
    let input = format!("s3://{bucket}/logs/");
    let run = s3_command(&[
        "run",
        &input,
        "--data",
        &data,
        "--profiles",
        &profiles,
        "--teams",
        &teams,
    ])
    .env("AWS_ENDPOINT_URL", &proxy.endpoint)
    .output()
    .unwrap();
    assert!(
        run.status.success(),
        "the run failed through the faults:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let faults = proxy.faults();
    eprintln!("faults injected and survived: {faults}");
    for kind in ["slowdown", "error500", "reset", "short_body", "slow"] {
        assert!(
            faults[kind].as_u64().unwrap_or(0) > 0,
            "no {kind} injected: {faults}"
        );
    }
    drop(proxy);

    for sql in [
        crate::util::TABLE_DUMP_SQL,
        "SELECT regexp_replace(source, '^(file://.*/fixtures/logs/|s3://[^/]+/logs/)', '') AS source, line, reason FROM rejects ORDER BY 1, 2, 3",
    ] {
        let remote = run_s3(&["sql", "--data", &data, "--format", "csv", sql]);
        assert_eq!(String::from_utf8_lossy(&remote.stdout), clean.sql_csv(sql));
    }
    let chargeback = client
        .get_object()
        .bucket(&bucket)
        .key("ledger/reports/chargeback-2026-10.csv")
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    assert_eq!(
        chargeback,
        std::fs::read(clean.data().join("reports/chargeback-2026-10.csv")).unwrap()
    );
}
