//! Many writers at once on one local table (where the filesystem's create-if-absent makes
//! commit races real): concurrent shards end as one clean run, a retried shard adds nothing,
//! and a writer SIGKILLed at a point it really reached is repaired by its retry.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::crash::write_corpus;
use crate::util::{TABLE_DUMP_SQL, Workspace, fixtures, logs};

/// Reads the child's stderr until it says it paused at `point`, then kills it with SIGKILL.
pub fn wait_for_pause(child: &mut Child, point: &str) {
    let stderr = child.stderr.take().expect("stderr is piped");
    let mut lines = BufReader::new(stderr).lines();
    let expected = format!("paused at {point}");
    let mut said = Vec::new();
    loop {
        match lines.next() {
            Some(Ok(line)) if line == expected => break,
            Some(Ok(line)) => said.push(line),
            _ => panic!(
                "the writer ended without reaching {point}; its stderr:\n{}",
                said.join("\n")
            ),
        }
    }
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
}

fn ingest_command(work: &Workspace, inputs: &[String], shard: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bedrock-ledger"));
    command
        .arg("ingest")
        .args(inputs)
        .args(["--data", &work.data().display().to_string()])
        .args([
            "--profiles",
            &fixtures().join("profiles.csv").display().to_string(),
        ])
        .args(["--shard", shard])
        .env_remove("BEDROCK_LEDGER_LOG")
        .env_remove("BEDROCK_LEDGER_PAUSE_AT");
    command
}

/// A corpus whose objects repeat each other's requests, plus the fixture logs (every delivery
/// shape, requests delivered twice, rejects): what shards must not double count.
fn inputs(work: &Workspace) -> Vec<String> {
    let corpus = work.path("logs");
    write_corpus(&corpus, 24, 20);
    vec![corpus.display().to_string(), logs().display().to_string()]
}

fn one_clean_run(inputs: &[String]) -> Workspace {
    let clean = Workspace::new();
    let output = ingest_command(&clean, inputs, "0/1").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    clean
}

const REJECTS_SQL: &str = "SELECT regexp_replace(source, '^.*/(logs)/', '') AS source, line, \
     byte_offset, reason FROM rejects ORDER BY 1, 2, 3, 4";

#[test]
fn four_shards_at_once_write_what_one_run_writes() {
    let work = Workspace::new();
    let inputs = inputs(&work);
    let children: Vec<Child> = (0..4)
        .map(|k| {
            ingest_command(&work, &inputs, &format!("{k}/4"))
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let clean = one_clean_run(&inputs);
    assert_eq!(work.sql_csv(TABLE_DUMP_SQL), clean.sql_csv(TABLE_DUMP_SQL));
    assert_eq!(work.sql_csv(REJECTS_SQL), clean.sql_csv(REJECTS_SQL));
    // The shards refreshed the same months' rollups at once: the stored rows count every
    // request once (a refresh that raced another is refused and summed again).
    let requests = "SELECT month, count(*) AS n FROM invocations GROUP BY month ORDER BY month";
    let summed = "SELECT CAST(month AS VARCHAR) AS month, sum(requests) AS n \
         FROM daily_usage_stored GROUP BY 1 ORDER BY 1";
    assert_eq!(work.sql_csv(summed), clean.sql_csv(requests));

    let retried = ingest_command(&work, &inputs, "2/4").output().unwrap();
    let stderr = String::from_utf8_lossy(&retried.stderr);
    assert!(
        stderr.starts_with("nothing new"),
        "a retried shard is a no-op: {stderr}"
    );
    assert_eq!(work.sql_csv(TABLE_DUMP_SQL), clean.sql_csv(TABLE_DUMP_SQL));
}

#[test]
fn a_shard_killed_where_it_stood_is_repaired_by_its_retry() {
    let probe = Workspace::new();
    let inputs = inputs(&probe);
    let clean = one_clean_run(&inputs);
    let expected = (clean.sql_csv(TABLE_DUMP_SQL), clean.sql_csv(REJECTS_SQL));
    for point in ["staged", "month-committed", "rejects-committed"] {
        let work = Workspace::new();
        let mut killed = ingest_command(&work, &inputs, "0/2")
            .env("BEDROCK_LEDGER_PAUSE_AT", point)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let other = ingest_command(&work, &inputs, "1/2").output().unwrap();
        assert!(
            other.status.success(),
            "{}",
            String::from_utf8_lossy(&other.stderr)
        );
        wait_for_pause(&mut killed, point);
        let retry = ingest_command(&work, &inputs, "0/2").output().unwrap();
        assert!(
            retry.status.success(),
            "{}",
            String::from_utf8_lossy(&retry.stderr)
        );
        assert_eq!(
            (work.sql_csv(TABLE_DUMP_SQL), work.sql_csv(REJECTS_SQL)),
            expected,
            "killed at {point}"
        );
    }
}
