//! Incremental ingest: the ledger skips what was read before and re-reads what changed.

use crate::crash::write_corpus;
use crate::util::{TABLE_DUMP_SQL, Workspace, walk};

/// `ingest LOGS --data <workspace dataset> EXTRA...`, asserted to succeed; returns stderr.
pub fn ingest(work: &Workspace, logs: &std::path::Path, extra: &[&str]) -> String {
    let output = work.run(
        &[
            &[
                "ingest",
                &logs.display().to_string(),
                "--data",
                &work.data().display().to_string(),
            ],
            extra,
        ]
        .concat(),
    );
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    stderr
}

#[test]
fn reruns_read_only_new_or_changed_objects() {
    let work = Workspace::new();
    let all = work.path("all");
    write_corpus(&all, 8, 20);
    let logs = work.path("logs");
    let mut files = walk(&all);
    files.sort();
    let copy = |files: &[std::path::PathBuf]| {
        for file in files {
            let target = logs.join(file.strip_prefix(&all).unwrap());
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(file, target).unwrap();
        }
    };
    copy(&files[..6]);
    ingest(&work, &logs, &[]);
    let first = work.sql_csv(TABLE_DUMP_SQL);

    let again = ingest(&work, &logs, &[]);
    assert_eq!(
        again.trim(),
        "nothing new: 6 object(s) already ingested unchanged, no log object read"
    );
    assert_eq!(work.sql_csv(TABLE_DUMP_SQL), first);

    // Two more objects arrive: only they are read.
    copy(&files[6..]);
    let more = ingest(&work, &logs, &[]);
    assert!(
        more.starts_with("objects: 2 read (2 log:s3_native), 0 log group(s) read, 0 skipped as noise, 6 unchanged"),
        "{more}"
    );
    let clean = Workspace::new();
    ingest(&clean, &logs, &[]);
    assert_eq!(work.sql_csv(TABLE_DUMP_SQL), clean.sql_csv(TABLE_DUMP_SQL));
    let ledger =
        work.sql_csv("SELECT count(*) AS objects, sum(records) AS records FROM ingested_objects");
    assert_eq!(ledger, "objects,records\n8,160\n");
}

#[test]
fn a_changed_object_replaces_its_rows() {
    let work = Workspace::new();
    let logs = work.path("logs");
    write_corpus(&logs, 4, 20);
    ingest(&work, &logs, &[]);

    // Rewrite the corpus with fewer records per object: the objects change in place.
    std::fs::remove_dir_all(&logs).unwrap();
    write_corpus(&logs, 4, 10);
    let changed = ingest(&work, &logs, &[]);
    assert!(changed.contains("4 changed and re-read"), "{changed}");
    let clean = Workspace::new();
    ingest(&clean, &logs, &[]);
    assert_eq!(work.sql_csv(TABLE_DUMP_SQL), clean.sql_csv(TABLE_DUMP_SQL));

    let refreshed = ingest(&work, &logs, &["--full-refresh"]);
    assert!(refreshed.contains("objects: 4 read"), "{refreshed}");
    assert_eq!(work.sql_csv(TABLE_DUMP_SQL), clean.sql_csv(TABLE_DUMP_SQL));
}

#[test]
fn a_chargeback_is_reproduced_as_of_the_version_it_read() {
    let work = Workspace::new();
    let logs = work.path("logs");
    write_corpus(&logs, 3, 20);
    ingest(&work, &logs, &[]);
    let data = work.data().display().to_string();
    let first = work.path("first.csv");
    let report = |out: &std::path::Path, extra: &[&str]| {
        work.ok(&[
            &[
                "report",
                "chargeback",
                "--month",
                "2025-10",
                "--data",
                &data,
                "--out",
                &out.display().to_string(),
            ][..],
            extra,
        ]
        .concat());
    };
    report(&first, &[]);
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(first.with_extension("manifest.json")).unwrap(),
    )
    .unwrap();
    let version = manifest["table_version"].as_u64().unwrap().to_string();

    // A late object arrives and is ingested: the month changes...
    std::fs::remove_dir_all(&logs).unwrap();
    write_corpus(&logs, 6, 20);
    ingest(&work, &logs, &[]);
    let now = work.path("now.csv");
    report(&now, &[]);
    assert_ne!(std::fs::read(&now).unwrap(), std::fs::read(&first).unwrap());
    // ...but the invoice as issued is reproduced byte for byte from the version it read.
    let again = work.path("again.csv");
    report(&again, &["--as-of", &version]);
    assert_eq!(
        std::fs::read(&again).unwrap(),
        std::fs::read(&first).unwrap()
    );
}

#[test]
fn maintenance_compacts_without_changing_the_table_or_any_version_inside_the_retention() {
    let work = Workspace::new();
    let logs = work.path("logs");
    let data = work.data().display().to_string();
    write_corpus(&logs, 3, 20);
    ingest(&work, &logs, &[]);
    let first_version = current_version(&work);
    // More objects elsewhere, overlapping the first: each month gains a second file.
    let more = work.path("more-logs");
    write_corpus(&more, 6, 20);
    ingest(&work, &more, &[]);
    let dump = |extra: &[&str]| {
        work.ok(&[&["sql", "--data", &data][..], extra, &[TABLE_DUMP_SQL]].concat())
    };
    let (before, first_before) = (dump(&[]), dump(&["--as-of", &first_version]));

    let maintained = work.run(&["maintain", "--data", &data]);
    let stderr = String::from_utf8_lossy(&maintained.stderr).into_owned();
    assert!(maintained.status.success(), "{stderr}");
    let compacted = |table: &str| -> u64 {
        let line = stderr
            .lines()
            .find(|l| l.starts_with(&format!("{table}: ")))
            .unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    assert!(compacted("invocations") >= 2, "{stderr}");
    assert!(compacted("ledger") >= 2, "{stderr}");
    assert!(
        stderr.contains(" 0 files vacuumed"),
        "nothing is past 30 days: {stderr}"
    );

    assert_eq!(dump(&[]), before);
    assert_eq!(dump(&["--as-of", &first_version]), first_before);
    let again = work.run(&["maintain", "--data", &data]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains("invocations: 0 small files compacted into 0"),
        "{stderr}"
    );
}

/// The invocations table's current version: its newest commit in `_delta_log`.
fn current_version(work: &Workspace) -> String {
    std::fs::read_dir(work.data().join("invocations/_delta_log"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".json")
                .map(|v| v.parse::<u64>().unwrap())
        })
        .max()
        .unwrap()
        .to_string()
}
