//! Crash safety: killing an ingest at any point (SIGKILL, no chance to clean up) and running it
//! again gives exactly the dataset a clean run gives, and leaves no working directory behind.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use flate2::Compression;
use flate2::write::GzEncoder;

use bedrock_ledger::pause::POINTS;

use crate::concurrency::wait_for_pause;
use crate::util::{TABLE_DUMP_SQL, Workspace, walk};

/// Writes `objects` gzip JSON-lines objects of body-heavy records over two months into `dir`,
/// each object repeating a few requests of the previous one (duplicate delivery).
pub fn write_corpus(dir: &Path, objects: usize, records_per_object: usize) {
    let body = "fn main() { println!(\\\"hello\\\"); }\\n".repeat(40);
    for object in 0..objects {
        let path = dir.join(format!("AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/2026/10/{:02}/00/obj-{object:04}.json.gz", 1 + object % 28));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        for record in 0..records_per_object {
            // The first records of each object repeat the last ones of the previous object.
            let id = object * (records_per_object - 3) + record;
            let day = 1 + id % 59;
            let (month, day) = if day > 31 {
                ("11", day - 31)
            } else {
                ("10", day)
            };
            let user = id % 7;
            writeln!(
                gz,
                r#"{{"schemaType":"ModelInvocationLog","timestamp":"2025-{month}-{day:02}T{:02}:00:00Z","accountId":"111122223333","identity":{{"arn":"arn:aws:iam::111122223333:user/u{user}"}},"region":"us-east-1","requestId":"req-{id:08}","operation":"Converse","modelId":"us.anthropic.claude-sonnet-4-5-20250929-v1:0","input":{{"inputBodyJson":{{"messages":[{{"role":"user","content":[{{"text":"{body}"}}]}}]}},"inputTokenCount":{},"cacheReadInputTokenCount":{}}},"output":{{"outputBodyJson":{{"stopReason":"end_turn","metrics":{{"latencyMs":{}}}}},"outputTokenCount":{}}}}}"#,
                id % 24,
                10 + id % 100,
                1000 * (id % 5),
                300 + id % 900,
                50 + id % 400,
            )
            .unwrap();
        }
        std::fs::write(path, gz.finish().unwrap()).unwrap();
    }
}

/// The workspace's own temporary directory, where its runs keep their working directories.
fn temp_dir(work: &Workspace) -> std::path::PathBuf {
    let dir = work.path("tmp");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The run working directories in the workspace's temporary directory.
fn run_dirs(work: &Workspace) -> Vec<String> {
    std::fs::read_dir(temp_dir(work))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("bedrock-ledger-"))
        .collect()
}

fn ingest_command(work: &Workspace, logs: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bedrock-ledger"));
    command
        .env("TMPDIR", temp_dir(work))
        .args([
            "ingest",
            &logs.display().to_string(),
            "--data",
            &work.data().display().to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

fn snapshot(work: &Workspace) -> (String, String) {
    (
        work.sql_csv(TABLE_DUMP_SQL),
        work.sql_csv("SELECT * FROM rejects ORDER BY source, line"),
    )
}

/// Kills a writer at `point` (which it must reach), runs it again, and returns the dataset.
fn kill_at_then_rerun(work: &Workspace, logs: &Path, point: &str) -> (String, String) {
    let mut child = ingest_command(work, logs)
        .env("BEDROCK_LEDGER_PAUSE_AT", point)
        .spawn()
        .unwrap();
    wait_for_pause(&mut child, point);
    assert_eq!(
        run_dirs(work).len(),
        1,
        "the killed run's working directory"
    );
    let rerun = ingest_command(work, logs).output().unwrap();
    assert!(
        rerun.status.success(),
        "rerun after a kill at {point}: {}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    // The rerun removed what the killed run left behind, and its own.
    assert_eq!(run_dirs(work), Vec::<String>::new(), "killed at {point}");
    snapshot(work)
}

#[test]
fn killed_runs_leave_nothing_a_rerun_does_not_repair() {
    let corpus = Workspace::new();
    let logs = corpus.path("logs");
    write_corpus(&logs, 24, 120);

    let clean = Workspace::new();
    let status = ingest_command(&clean, &logs).status().unwrap();
    assert!(status.success());
    let expected = snapshot(&clean);
    assert_eq!(expected.0.lines().count(), 1 + 24 * (120 - 3) + 3);

    // Killed at every named point a first run passes: staged, a span's files written but not
    // committed, a month committed, the rejects committed (the ledger not yet written).
    let first_run_points = POINTS.iter().filter(|p| **p != "merge-source-written");
    for point in first_run_points {
        let work = Workspace::new();
        assert_eq!(
            kill_at_then_rerun(&work, &logs, point),
            expected,
            "killed at {point}"
        );
        assert!(!work.data().join("_staging").exists() && !work.data().join("_tmp").exists());
    }

    // Killed while adding to an existing dataset that already holds some of the requests: the
    // MERGE's source written, then a month committed.
    let mut files: Vec<_> = walk(&logs);
    files.sort();
    for point in ["merge-source-written", "month-committed"] {
        let work = Workspace::new();
        let mut first = Command::new(env!("CARGO_BIN_EXE_bedrock-ledger"));
        first
            .arg("ingest")
            .args(&files[..12])
            .args(["--data", &work.data().display().to_string()]);
        assert!(first.status().unwrap().success());
        assert_eq!(
            kill_at_then_rerun(&work, &logs, point),
            expected,
            "killed at {point} while adding to a dataset"
        );
    }
}
