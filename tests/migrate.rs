//! `migrate`: a dataset of release 0.1 (one Parquet file per month, the price book in its
//! footer, a rejects file and a ledger file) becomes Delta tables with the same numbers.

use std::fs::File;
use std::path::Path;

use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use crate::util::{Workspace, fixture_text, fixtures, logs};

const MONTHS: [&str; 3] = ["2026-09", "2026-10", "2026-11"];

/// Writes the rows `sql` selects from the Delta dataset `data` to `out` as release 0.1 wrote
/// them (millisecond timestamps; `footer` in the file's key-value metadata).
fn write_old_file(work: &Workspace, data: &str, sql: &str, out: &Path, footer: Option<&str>) {
    let exported = work.path("exported.parquet");
    work.ok(&[
        "sql",
        "--data",
        data,
        "--format",
        "parquet",
        "--out",
        &exported.display().to_string(),
        sql,
    ]);
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&exported).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let schema = arrow::array::RecordBatchReader::schema(&reader);
    let metadata = footer.map(|sha| {
        vec![KeyValue::new(
            "bedrock_ledger.price_book_sha256".to_owned(),
            sha.to_owned(),
        )]
    });
    let properties = WriterProperties::builder()
        .set_key_value_metadata(metadata)
        .build();
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let mut writer =
        ArrowWriter::try_new(File::create(out).unwrap(), schema, Some(properties)).unwrap();
    for batch in reader {
        writer.write(&batch.unwrap()).unwrap();
    }
    writer.close().unwrap();
}

/// The bundled sample, as release 0.1 left it in `old/`.
fn old_sample(work: &Workspace) -> String {
    let delta = work.path("delta").display().to_string();
    work.ok(&[
        "ingest",
        &logs().display().to_string(),
        "--data",
        &delta,
        "--profiles",
        &fixtures().join("profiles.csv").display().to_string(),
    ]);
    let old = work.path("old");
    for month in MONTHS {
        let book = work.ok(&[
            "sql",
            "--data",
            &delta,
            "--format",
            "csv",
            &format!("SELECT DISTINCT price_book_sha256 FROM invocations WHERE month = '{month}'"),
        ]);
        let book = book.lines().nth(1).unwrap().trim_matches('"').to_owned();
        write_old_file(
            work,
            &delta,
            &format!(
                "SELECT * EXCEPT (month, price_book_sha256) FROM invocations \
                 WHERE month = '{month}' ORDER BY request_id"
            ),
            &old.join(format!("invocations/month={month}/data.parquet")),
            Some(&book),
        );
    }
    write_old_file(
        work,
        &delta,
        "SELECT * FROM rejects",
        &old.join("rejects/data.parquet"),
        None,
    );
    write_old_file(
        work,
        &delta,
        "SELECT * FROM ingested_objects ORDER BY uri",
        &old.join("ledger/objects.parquet"),
        None,
    );
    old.display().to_string()
}

/// Copies the files under `from` into `to`, keeping their relative paths.
fn copy_tree(from: &Path, to: &Path) {
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

/// Asserts the chargeback of every sample month read from `data` is the snapshot's.
fn assert_sample_chargebacks(work: &Workspace, data: &str) {
    for month in MONTHS {
        let csv = work.ok(&[
            "report",
            "chargeback",
            "--month",
            month,
            "--data",
            data,
            "--teams",
            &fixtures().join("teams.csv").display().to_string(),
            "--profiles",
            &fixtures().join("profiles.csv").display().to_string(),
        ]);
        assert_eq!(
            csv,
            fixture_text(&format!("expected/chargeback-{month}.csv")),
            "{month}"
        );
    }
}

#[test]
fn an_old_dataset_is_refused_until_migrated_then_reads_the_same_in_place_or_elsewhere() {
    let work = Workspace::new();
    let old = old_sample(&work);

    // Readers and writers name the way out instead of reading nothing or starting afresh.
    let logs = logs().display().to_string();
    for args in [
        vec!["sql", "--data", &old, "SELECT count(*) FROM invocations"],
        vec!["ingest", &logs, "--data", &old],
    ] {
        let output = work.run(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("bedrock-ledger migrate --data"),
            "{args:?}: {stderr}"
        );
    }

    // Into a new location: the old dataset stays as it is.
    let elsewhere = work.path("elsewhere").display().to_string();
    let output = work.run(&["migrate", "--data", &old, "--to", &elsewhere]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("2026-10: 30 requests, 0.264572470000 USD"),
        "{stderr}"
    );
    assert!(stderr.contains("0 old files deleted"), "{stderr}");
    assert!(work.path("old/ledger/objects.parquet").exists());
    assert_sample_chargebacks(&work, &elsewhere);
    let again = work.run(&["migrate", "--data", &old, "--to", &elsewhere]);
    assert_eq!(
        again.status.code(),
        Some(1),
        "a non-empty target is refused"
    );

    // An in-place migration killed before it deleted anything left whole tables beside the old
    // files; the rerun starts over instead of adding the rows a second time.
    for table in ["invocations", "rejects", "ledger"] {
        copy_tree(
            &work.path("elsewhere").join(table),
            &work.path("old").join(table),
        );
    }

    // In place: the old files go once the tables check out.
    let output = work.run(&["migrate", "--data", &old]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("5 old files deleted"), "{stderr}");
    assert!(!work.path("old/ledger/objects.parquet").exists());
    assert!(
        !work
            .path("old/invocations/month=2026-10/data.parquet")
            .exists()
    );
    assert_sample_chargebacks(&work, &old);

    // The migrated ledger still knows every object: a rerun of the ingest adds nothing.
    let output = work.run(&[
        "ingest",
        &logs,
        "--data",
        &old,
        "--profiles",
        &fixtures().join("profiles.csv").display().to_string(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("nothing new: 19 object(s) already ingested unchanged"),
        "{stderr}"
    );
}
