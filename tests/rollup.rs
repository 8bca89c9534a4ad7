//! The rollups `daily_usage` and `latency_histogram` are the request table summed: after every
//! kind of change a month goes through (a first run, a nightly append, copies merged, an object
//! replaced, a reprice, a compaction), each stored rollup equals the same sums computed from
//! `invocations`, and reports read it only when it is current for the version they read.

use std::path::Path;

use crate::crash::write_corpus;
use crate::incremental;
use crate::util::{Workspace, fixtures, logs, walk};

/// What the rollup groups by.
const KEYS: &str = "month, day, account_id, region, model_id, model, inference_scope, \
    service_tier, identity, principal_type, request_metadata, error_code, price_status, \
    price_book_sha256";

/// The rows of `from` (rollup-shaped) merged per key: a rollup may hold a key more than once
/// (each nightly append sums its own files), and readers always sum.
fn summed(from: &str) -> String {
    format!(
        "SELECT {KEYS}, sum(requests) AS requests, sum(failed_requests) AS failed, \
         sum(input_tokens) AS input, sum(output_tokens) AS output, \
         sum(cache_read_tokens) AS cache_read, sum(cache_write_tokens) AS cache_write, \
         sum(cache_write_1h_tokens) AS cache_write_1h, sum(input_cost_usd) AS input_cost, \
         sum(output_cost_usd) AS output_cost, sum(cache_read_cost_usd) AS cache_read_cost, \
         sum(cache_write_cost_usd) AS cache_write_cost, sum(cost_usd) AS cost, \
         sum(cache_read_savings_usd) AS savings, sum(latency_ms_sum) AS latency, \
         sum(latency_ms_count) AS timed, sum(first_byte_latency_ms_sum) AS first_byte, \
         sum(first_byte_latency_ms_count) AS streamed, min(first_timestamp) AS first_at, \
         max(last_timestamp) AS last_at \
         FROM {from} GROUP BY {KEYS} ORDER BY {KEYS}"
    )
}

/// The latency rows of `from` merged per key, as [`summed`] does.
fn latencies(from: &str) -> String {
    format!(
        "SELECT month, model, measure, value_ms, sum(requests) AS requests FROM {from} \
         GROUP BY month, model, measure, value_ms ORDER BY month, model, measure, value_ms"
    )
}

/// A rollup's own query (`daily_usage` or `latency_histogram`), as the binary compiles it in.
fn rollup_query(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("pipeline/dataset/rollup/{name}.sql")),
    )
    .unwrap()
}

/// `sql -v` over the dataset at `as_of` (the newest version when `None`): CSV and the log line
/// that says which months came from the rollup.
fn sql_verbose(work: &Workspace, sql: &str, as_of: Option<&str>) -> (String, String) {
    let data = work.data().display().to_string();
    let mut args = vec!["sql", "--data", &data, "--format", "csv", "-v"];
    if let Some(version) = as_of {
        args.extend(["--as-of", version]);
    }
    args.push(sql);
    let output = work.run(&args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    let usage: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("rollup: months read from the rollup"))
        .collect();
    assert_eq!(usage.len(), 2, "a line per rollup in {stderr}");
    let usage = usage.join("\n");
    (String::from_utf8(output.stdout).unwrap(), usage)
}

/// Asserts the stored rollup is current for every month and equals the request table summed.
#[track_caller]
fn assert_rollup_is_the_requests_summed(work: &Workspace, step: &str) {
    let (stored, usage) = sql_verbose(work, &summed("daily_usage"), None);
    assert!(
        usage.matches("from_requests={}").count() == 2 && !usage.contains("from_rollup={}"),
        "{step}: every month read from the rollups: {usage}"
    );
    let (requests, _) = sql_verbose(
        work,
        &summed(&format!("({}) r", rollup_query("daily_usage"))),
        None,
    );
    assert!(stored.lines().count() > 1, "{step}: {stored}");
    assert_eq!(stored, requests, "{step}: daily_usage against the requests");
    let (stored, _) = sql_verbose(work, &latencies("latency_histogram"), None);
    let (requests, _) = sql_verbose(
        work,
        &latencies(&format!("({}) r", rollup_query("latency_histogram"))),
        None,
    );
    assert!(stored.lines().count() > 1, "{step}: {stored}");
    assert_eq!(
        stored, requests,
        "{step}: latency_histogram against the requests"
    );
    let (raw_counts, _) = sql_verbose(
        work,
        "SELECT count(*), sum(cost_usd), sum(latency_ms) FROM invocations",
        None,
    );
    let (rollup_counts, _) = sql_verbose(
        work,
        "SELECT sum(requests), sum(cost_usd), sum(latency_ms_sum) FROM daily_usage",
        None,
    );
    assert_eq!(
        raw_counts.lines().nth(1),
        rollup_counts.lines().nth(1),
        "{step}: totals"
    );
}

/// Ingests `logs` with the fixture profile map, verbosely; returns stderr.
fn ingest(work: &Workspace, logs: &Path) -> String {
    let profiles = fixtures().join("profiles.csv").display().to_string();
    incremental::ingest(work, logs, &["--profiles", &profiles, "-v"])
}

#[test]
fn the_rollup_is_the_requests_summed_after_every_change() {
    let work = Workspace::new();
    let all = work.path("all");
    write_corpus(&all, 12, 20);
    let mut files = walk(&all);
    files.sort();
    let logs_dir = work.path("logs");
    let copy = |files: &[std::path::PathBuf]| {
        for file in files {
            let target = logs_dir.join(file.strip_prefix(&all).unwrap());
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(file, target).unwrap();
        }
    };

    copy(&files[..5]);
    ingest(&work, &logs_dir);
    assert_rollup_is_the_requests_summed(&work, "first run");
    let first_version = work
        .sql_csv("SELECT max(summarized_version) FROM daily_usage_stored")
        .lines()
        .nth(1)
        .unwrap()
        .to_owned();

    // The next night: new objects, whose first records repeat stored ones. A month that only
    // gained files is extended with the sums of its new files, not summed again.
    copy(&files[5..]);
    let night = ingest(&work, &logs_dir);
    assert!(
        night.contains("rollup_rebuilt=false"),
        "a nightly append extends the rollup: {night}"
    );
    assert_rollup_is_the_requests_summed(&work, "nightly append");

    // An older version of the table is read with its own sums, never with today's rollup.
    let (old, usage) = sql_verbose(
        &work,
        "SELECT sum(requests) FROM daily_usage",
        Some(&first_version),
    );
    assert_eq!(usage.matches("from_rollup={}").count(), 2, "{usage}");
    let (old_requests, _) = sql_verbose(
        &work,
        "SELECT count(*) FROM invocations",
        Some(&first_version),
    );
    assert_eq!(old.lines().nth(1), old_requests.lines().nth(1));

    // An object replaced by a new version: its rows are deleted and the month summed again.
    let replaced = logs_dir.join(files[2].strip_prefix(&all).unwrap());
    let other = work.path("other");
    write_corpus(&other, 1, 7);
    std::fs::copy(&walk(&other)[0], &replaced).unwrap();
    let rewrite = ingest(&work, &logs_dir);
    assert!(rewrite.contains("rollup_rebuilt=true"), "{rewrite}");
    assert_rollup_is_the_requests_summed(&work, "object replaced");

    // A reprice rewrites every file of the month.
    let data = work.data().display().to_string();
    work.ok(&["reprice", "--data", &data]);
    assert_rollup_is_the_requests_summed(&work, "reprice");

    // Compaction rewrites files too; `maintain` brings the rollup back to current.
    work.ok(&["maintain", "--data", &data]);
    assert_rollup_is_the_requests_summed(&work, "maintain");
}

#[test]
fn the_rollup_of_every_fixture_shape_is_the_requests_summed() {
    // Every log shape, copies of one request through S3 and CloudWatch, failed requests,
    // unpriced models, gateway metadata.
    let work = Workspace::new();
    ingest(&work, &logs());
    assert_rollup_is_the_requests_summed(&work, "fixtures");
    // The run's months are refreshed together: each rollup is created, then committed once.
    let months = work.sql_csv("SELECT count(DISTINCT month) AS n FROM invocations");
    assert_eq!(months, "n\n3\n", "the fixtures span several months");
    for rollup in ["daily_usage", "latency_histogram"] {
        let log = work.data().join(rollup).join("_delta_log");
        let mut commits: Vec<String> = std::fs::read_dir(&log)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".json"))
            .collect();
        commits.sort();
        assert_eq!(
            commits,
            ["00000000000000000000.json", "00000000000000000001.json"],
            "{rollup}"
        );
    }
}
