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

/// The anomalies query computes its median without `median` (Athena has none): on every day of
/// the anomaly fixture, with the thresholds lifted, it must give what DataFusion's `median`
/// gives, for odd and even numbers of trailing days alike.
#[test]
fn the_portable_median_of_anomalies_is_datafusions_median() {
    let work = Workspace::new();
    work.ingest(&[&fixtures().join("anomaly")]);
    let query = std::fs::read_to_string(fixtures().join("../queries/anomalies.sql"))
        .unwrap()
        .replace("$from_month", "'2025-10'")
        .replace("$to_month", "'2025-10'");
    let thresholds =
        "WHERE trailing_days >= 3\n  AND CAST(spend AS DOUBLE) > 3 * trailing_median\n  AND";
    let (start, end) = (
        query.find("history AS (").expect("the history step"),
        query
            .find("SELECT\n  identity,\n  day,")
            .expect("the final select"),
    );
    assert!(query.contains(thresholds), "the thresholds to lift");
    let every_day = query.replace(thresholds, "WHERE");
    let with_median = format!(
        "{}trailing AS (\n  SELECT d.identity, d.day, d.spend,\n    \
         median(CAST(h.spend AS DOUBLE)) AS trailing_median, count(h.day) AS trailing_days\n  \
         FROM daily d JOIN daily h\n    \
         ON h.identity = d.identity AND h.day < d.day AND h.day >= d.day - INTERVAL '14' DAY\n  \
         GROUP BY d.identity, d.day, d.spend\n)\n{}",
        &query[..start],
        &query[end..]
    )
    .replace(thresholds, "WHERE");
    let portable = work.sql_csv(&every_day);
    assert_eq!(portable, work.sql_csv(&with_median));
    let counts: std::collections::BTreeSet<&str> = portable
        .lines()
        .skip(1)
        .filter_map(|line| line.split(',').nth(4))
        .collect();
    assert!(
        counts.contains("4") && counts.contains("5"),
        "even and odd trailing days: {counts:?}"
    );
}
