//! Every named query in `queries/`, run on the fixtures and compared with its snapshot.

use crate::util::{Workspace, assert_snapshot, fixtures, logs};

#[test]
fn every_named_query_matches_its_snapshot() {
    let work = Workspace::new();
    work.ingest(&[&logs()]);
    let list = work.ok(&["query", "--list"]);
    assert_snapshot("expected/queries/list.txt", &list);
    let data = work.data().display().to_string();
    let teams = fixtures().join("teams.csv").display().to_string();
    let profiles = fixtures().join("profiles.csv").display().to_string();
    let names: Vec<&str> = list
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let files = std::fs::read_dir(fixtures().join("../queries"))
        .unwrap()
        .filter(|entry| {
            let path = entry.as_ref().unwrap().path();
            path.extension().is_some_and(|e| e == "sql")
        })
        .count();
    assert_eq!(names.len(), files, "every queries/*.sql is listed");
    for name in names {
        let csv = work.ok(&[
            "query",
            name,
            "--data",
            &data,
            "--teams",
            &teams,
            "--profiles",
            &profiles,
            "--format",
            "csv",
        ]);
        assert_snapshot(&format!("expected/queries/{name}.csv"), &csv);
    }
}

#[test]
fn month_filter_limits_a_named_query() {
    let work = Workspace::new();
    work.ingest(&[&logs()]);
    let data = work.data().display().to_string();
    let csv = work.ok(&[
        "query", "by_model", "--data", &data, "--month", "2026-11", "--format", "csv",
    ]);
    assert!(
        csv.lines().skip(1).all(|l| l.starts_with("2026-11,")),
        "{csv}"
    );
    assert!(csv.lines().count() > 1);
}

#[test]
fn anomalies_flag_a_spend_spike() {
    let work = Workspace::new();
    work.ingest(&[&fixtures().join("anomaly")]);
    let data = work.data().display().to_string();
    let csv = work.ok(&[
        "query",
        "anomalies",
        "--data",
        &data,
        "--month",
        "2025-10",
        "--format",
        "csv",
    ]);
    assert_eq!(
        csv,
        "identity,day,spend_usd,trailing_median_usd,trailing_days,ratio\n\
         arn:aws:iam::111122223333:user/alice,2025-10-25,0.450000,0.0045,5,100.0\n"
    );
}

#[test]
fn latency_report_matches_its_query() {
    let work = Workspace::new();
    work.ingest(&[&logs()]);
    let data = work.data().display().to_string();
    let report = work.ok(&["report", "latency", "--data", &data, "--format", "csv"]);
    assert_eq!(
        report,
        work.ok(&["query", "latency", "--data", &data, "--format", "csv"])
    );
    assert!(
        report.contains("2026-10,anthropic.claude-opus-4-6-v1,"),
        "{report}"
    );
}
