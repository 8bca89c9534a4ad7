//! `run` (the README's first command) on the edge-case fixtures, and what it puts in the dataset.

use crate::util::{TABLE_DUMP_SQL, Workspace, assert_snapshot, fixture_text, fixtures, logs};

const AGGREGATES_SQL: &str = "SELECT month, coalesce(identity, '') AS identity, coalesce(model, '') AS model, \
     count(*) AS requests, count(error_code) AS failed_requests, sum(input_tokens) AS input_tokens, \
     sum(output_tokens) AS output_tokens, sum(cache_read_tokens) AS cache_read_tokens, \
     sum(cache_write_tokens) AS cache_write_tokens, sum(cache_write_1h_tokens) AS cache_write_1h_tokens \
     FROM invocations GROUP BY 1, 2, 3 ORDER BY 1, 2, 3";

fn sample_run(work: &Workspace) -> String {
    let data = work.data();
    let logs = logs();
    let profiles = fixtures().join("profiles.csv");
    let teams = fixtures().join("teams.csv");
    // The README's first command, on the edge-case fixtures.
    let output = work.ok(&[
        "run",
        &logs.display().to_string(),
        "--data",
        &data.display().to_string(),
        "--profiles",
        &profiles.display().to_string(),
        "--teams",
        &teams.display().to_string(),
    ]);
    // The reports' paths start with the dataset's, a temporary directory.
    output.replace(&data.display().to_string(), "<data>")
}

#[test]
fn sample_run_output_matches_snapshot() {
    let work = Workspace::new();
    assert_snapshot("expected/run.txt", &sample_run(&work));
    for month in ["2026-09", "2026-10", "2026-11"] {
        let written = work.data().join(format!("reports/chargeback-{month}.csv"));
        assert_eq!(
            std::fs::read_to_string(written).unwrap(),
            fixture_text(&format!("expected/chargeback-{month}.csv")),
            "run writes the same chargeback as `report chargeback`"
        );
    }
}

#[test]
fn sample_table_matches_snapshot() {
    let work = Workspace::new();
    sample_run(&work);
    assert_snapshot("expected/invocations.csv", &work.sql_csv(TABLE_DUMP_SQL));
}

#[test]
fn aggregates_match_the_independent_oracle() {
    let work = Workspace::new();
    sample_run(&work);
    let expected = fixture_text("expected/aggregates.csv");
    assert_eq!(work.sql_csv(AGGREGATES_SQL), expected);
}

/// The Python interpreter with pyarrow that `tests/run.sh` installs.
fn python_with_pyarrow() -> String {
    std::env::var("BEDROCK_LEDGER_TEST_PYTHON").expect(
        "BEDROCK_LEDGER_TEST_PYTHON is not set: run the suite with `bash tests/run.sh`, \
         which installs pyarrow for the independent Delta reader",
    )
}

/// What `tests/delta_reader.py` (pyarrow and its own replay of `_delta_log`) reads from the
/// dataset: the aggregates on stdout, and what it replayed on stderr.
fn read_independently(work: &Workspace) -> (String, String) {
    let reader = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/delta_reader.py");
    let output = std::process::Command::new(python_with_pyarrow())
        .arg(reader)
        .arg(work.data())
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stderr}");
    (String::from_utf8(output.stdout).unwrap(), stderr)
}

#[test]
fn an_independent_delta_reader_reads_the_expected_aggregates_from_the_log_and_a_checkpoint() {
    let work = Workspace::new();
    sample_run(&work);
    let expected = fixture_text("expected/aggregates.csv");
    let (from_commits, replayed) = read_independently(&work);
    assert_eq!(from_commits, expected);
    assert!(replayed.contains("protocol (1, 2)"), "{replayed}");

    let data = work.data().display().to_string();
    work.ok(&["maintain", "--data", &data]);
    assert!(
        work.data()
            .join("invocations/_delta_log/_last_checkpoint")
            .exists()
    );
    let (from_checkpoint, replayed) = read_independently(&work);
    assert_eq!(from_checkpoint, expected);
    assert!(replayed.contains("protocol (1, 2)"), "{replayed}");
}

#[test]
fn every_reject_is_recorded_with_its_position() {
    let work = Workspace::new();
    sample_run(&work);
    let rejects = work.sql_csv(
        "SELECT regexp_replace(source, '^file://.*/fixtures/logs/', '') AS source, source_format, line, byte_offset, \
         split_part(reason, ':', 1) AS reason FROM rejects ORDER BY source, line",
    );
    assert_snapshot("expected/rejects.csv", &rejects);
    assert_eq!(
        rejects.lines().count(),
        1 + 7,
        "6 rejected lines and 1 rejected object:\n{rejects}"
    );
}
