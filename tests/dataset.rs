//! Properties of the dataset: one row per request however inputs arrive, atomic visibility,
//! month partitions that queries prune.

use std::path::PathBuf;

use crate::util::{TABLE_DUMP_SQL, Workspace, logs, walk};

/// Every fixture object, in a stable order.
fn fixture_objects() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walk(&logs());
    files.sort();
    files
}

fn table_after(batches: &[Vec<PathBuf>]) -> String {
    let work = Workspace::new();
    for batch in batches {
        let inputs: Vec<&std::path::Path> = batch.iter().map(PathBuf::as_path).collect();
        work.ingest(&inputs);
    }
    work.sql_csv(TABLE_DUMP_SQL)
}

#[test]
fn same_table_whatever_the_order_split_or_repetition() {
    let objects = fixture_objects();
    let once = table_after(std::slice::from_ref(&objects));
    assert_eq!(once.lines().count(), 1 + 42, "42 distinct requests");

    let reversed: Vec<PathBuf> = objects.iter().rev().cloned().collect();
    let (odd, even): (Vec<_>, Vec<_>) = objects
        .iter()
        .cloned()
        .enumerate()
        .partition(|(i, _)| i % 2 == 1);
    let odd: Vec<PathBuf> = odd.into_iter().map(|(_, p)| p).collect();
    let even: Vec<PathBuf> = even.into_iter().map(|(_, p)| p).collect();
    let cases: Vec<(&str, Vec<Vec<PathBuf>>)> = vec![
        ("ingested twice", vec![objects.clone(), objects.clone()]),
        ("reversed", vec![reversed.clone()]),
        ("split across two runs", vec![odd.clone(), even.clone()]),
        ("split the other way round", vec![even, odd]),
        (
            "one object per run, backwards",
            reversed.iter().map(|p| vec![p.clone()]).collect(),
        ),
    ];
    for (name, batches) in cases {
        assert_eq!(table_after(&batches), once, "{name}");
    }
}

#[test]
fn reingesting_commits_nothing_and_records_rejects_once() {
    let work = Workspace::new();
    work.ingest(&[&logs()]);
    let versions = work.sql_csv("SELECT count(*) AS commits FROM ingested_objects");
    let table = work.sql_csv(TABLE_DUMP_SQL);
    let rejects = work.sql_csv("SELECT count(*) AS n FROM rejects");
    let log = work.data().join("invocations/_delta_log");
    let commits = std::fs::read_dir(&log).unwrap().count();
    work.ingest(&[&logs()]);
    assert_eq!(
        std::fs::read_dir(&log).unwrap().count(),
        commits,
        "a rerun with nothing new commits nothing"
    );
    // Read again from scratch (the ledger forgotten): the merge adds nothing either.
    work.ok(&[
        "ingest",
        &logs().display().to_string(),
        "--data",
        &work.data().display().to_string(),
        "--profiles",
        &crate::util::fixtures()
            .join("profiles.csv")
            .display()
            .to_string(),
        "--full-refresh",
    ]);
    work.ingest(&[&logs()]);
    assert_eq!(work.sql_csv(TABLE_DUMP_SQL), table);
    assert_eq!(work.sql_csv("SELECT count(*) AS n FROM rejects"), rejects);
    assert_eq!(
        work.sql_csv("SELECT count(*) AS commits FROM ingested_objects"),
        versions
    );
}

#[test]
fn partitions_by_utc_month_of_the_event() {
    let work = Workspace::new();
    work.ingest(&[&logs()]);
    let boundaries = work.sql_csv(
        "SELECT month, CAST(timestamp AS VARCHAR) AS timestamp FROM invocations \
         WHERE timestamp IN ('2026-09-30T23:59:59Z', '2026-10-01T00:00:00Z', '2026-10-31T23:59:59Z', '2026-11-01T00:00:00Z') \
         ORDER BY timestamp",
    );
    assert_eq!(
        boundaries,
        "month,timestamp\n\
         2026-09,2026-09-30T23:59:59Z\n\
         2026-10,2026-10-01T00:00:00Z\n\
         2026-10,2026-10-31T23:59:59Z\n\
         2026-11,2026-11-01T00:00:00Z\n"
    );
    let mut months: Vec<String> = std::fs::read_dir(work.data().join("invocations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "_delta_log")
        .collect();
    months.sort();
    assert_eq!(months, ["month=2026-09", "month=2026-10", "month=2026-11"]);
}

#[test]
fn month_filters_prune_other_partitions() {
    let work = Workspace::new();
    work.ingest(&[&logs()]);
    let plan =
        work.sql_csv("EXPLAIN SELECT sum(input_tokens) FROM invocations WHERE month = '2026-10'");
    assert!(plan.contains("month=2026-10"), "{plan}");
    assert!(
        !plan.contains("month=2026-09") && !plan.contains("month=2026-11"),
        "{plan}"
    );
}

#[test]
fn sql_writes_every_format() {
    let work = Workspace::new();
    work.ingest(&[&logs()]);
    let data = work.data().display().to_string();
    let sql = "SELECT month, count(*) AS requests FROM invocations GROUP BY month ORDER BY month";
    let cases: &[(&str, &str)] = &[
        ("csv", "month,requests\n2026-09,7\n2026-10,30\n2026-11,5\n"),
        (
            "ndjson",
            "{\"month\":\"2026-09\",\"requests\":7}\n{\"month\":\"2026-10\",\"requests\":30}\n{\"month\":\"2026-11\",\"requests\":5}\n",
        ),
    ];
    for (format, expected) in cases {
        assert_eq!(
            work.ok(&["sql", "--data", &data, "--format", format, sql]),
            *expected,
            "{format}"
        );
    }
    let table = work.ok(&["sql", "--data", &data, sql]);
    assert!(table.contains("| 2026-10 | 30       |"), "{table}");

    let out = work.path("result.parquet");
    work.ok(&[
        "sql",
        "--data",
        &data,
        "--format",
        "parquet",
        "--out",
        &out.display().to_string(),
        sql,
    ]);
    let reread = work.ok(&[
        "sql",
        "--data",
        &data,
        "--format",
        "csv",
        &format!("SELECT count(*) AS n FROM '{}'", out.display()),
    ]);
    assert_eq!(reread, "n\n3\n");

    let sql_file = work.path("q.sql");
    std::fs::write(&sql_file, sql).unwrap();
    let from_file = work.ok(&[
        "sql",
        "--data",
        &data,
        "--format",
        "csv",
        "-f",
        &sql_file.display().to_string(),
    ]);
    assert_eq!(from_file, cases[0].1);
}
