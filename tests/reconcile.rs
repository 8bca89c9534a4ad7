//! `report reconcile` on the fixture logs and the CUR 2.0 export built from them
//! (`fixtures/make_cur.py`): the comparison and the allocation as finance gets them, the same
//! from Parquet and from gzip CSV, the bill shared out to the micro-dollar, and unreadable
//! exports refused with the file named.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::util::{Workspace, assert_snapshot, fixtures, logs, walk};

fn cur(format: &str) -> PathBuf {
    fixtures().join("cur/2026-10").join(format)
}

fn fixture(name: &str) -> String {
    fixtures().join(name).display().to_string()
}

/// Runs `report reconcile` for 2026-10 on `cur` with the fixture teams and profiles, the
/// comparison and the allocation written into the workspace.
fn reconcile(work: &Workspace, cur: &Path, extra: &[&str]) -> Output {
    let data = work.data().display().to_string();
    let cur = cur.display().to_string();
    let out = work.path("reconcile.csv").display().to_string();
    let allocation = work.path("allocation.csv").display().to_string();
    let (teams, profiles) = (fixture("teams.csv"), fixture("profiles.csv"));
    let mut args = vec![
        "report",
        "reconcile",
        "--month",
        "2026-10",
        "--data",
        &data,
        "--cur",
        &cur,
        "--out",
        &out,
        "--allocation",
        &allocation,
        "--teams",
        &teams,
        "--profiles",
        &profiles,
    ];
    args.extend(extra);
    work.run(&args)
}

/// The comparison CSV, the allocation CSV and stderr of a successful run.
fn reconciled(work: &Workspace, cur: &Path) -> (String, String, String) {
    let output = reconcile(work, cur, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    let read = |name: &str| std::fs::read_to_string(work.path(name)).unwrap();
    (read("reconcile.csv"), read("allocation.csv"), stderr)
}

/// Micro-dollars from a 6-decimal cell, parsed independently of the binary's code.
fn micros(text: &str) -> i128 {
    let (whole, fraction) = text.split_once('.').expect("6 decimals");
    assert_eq!(fraction.len(), 6, "{text}");
    let value: i128 = format!("{}{fraction}", whole.trim_start_matches('-'))
        .parse()
        .unwrap();
    if text.starts_with('-') { -value } else { value }
}

/// Rows of a CSV as column → cell maps.
fn records(csv: &str) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .zip(r.unwrap().iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

const KEY: [&str; 6] = [
    "account_id",
    "region",
    "model",
    "token_kind",
    "scope",
    "tier",
];

fn key(row: &BTreeMap<String, String>) -> Vec<String> {
    KEY.iter().map(|c| row[*c].clone()).collect()
}

#[test]
fn reconciliation_matches_snapshots_and_the_allocation_adds_up_to_the_bill() {
    let work = Workspace::new();
    work.ingest(&[&logs()]);
    let (comparison, allocation, stderr) = reconciled(&work, &cur("parquet"));
    assert_snapshot("expected/reconcile-2026-10.csv", &comparison);
    assert_snapshot("expected/reconcile-allocation-2026-10.csv", &allocation);

    let comparison = records(&comparison);
    let allocation = records(&allocation);
    // Every billed bucket is shared out exactly: the allocated shares add up to the billed
    // amount as printed, and nothing is allocated to a bucket the bill does not charge.
    let mut allocated: BTreeMap<Vec<String>, i128> = BTreeMap::new();
    for row in allocation.iter().filter(|r| r["status"] != "unmapped") {
        *allocated.entry(key(row)).or_default() += micros(&row["allocated_usd"]);
    }
    let mut buckets = 0;
    for row in comparison
        .iter()
        .filter(|r| ["compared", "billed_only", "ledger_only"].contains(&r["status"].as_str()))
    {
        let billed = micros(&row["billed_usd"]);
        assert_eq!(
            allocated.get(&key(row)).copied().unwrap_or(0),
            billed,
            "{row:?}"
        );
        assert_eq!(
            micros(&row["variance_usd"]),
            billed - micros(&row["ledger_usd"]),
            "{row:?}"
        );
        buckets += 1;
    }
    assert_eq!(buckets, allocated.len());
    // Each identity's share stays close to its priced cost where the bill agrees.
    for row in allocation.iter().filter(|r| r["status"] == "allocated") {
        let (ledger, share) = (micros(&row["ledger_usd"]), micros(&row["allocated_usd"]));
        if row["model"] != "anthropic.claude-opus-4-6-v1" || row["token_kind"] != "output" {
            assert!((ledger - share).abs() <= 1, "{row:?}");
        }
    }

    // The deliberate differences of fixtures/make_cur.py, each visible.
    let find = |status: &str, column: &str, value: &str| {
        comparison
            .iter()
            .filter(|r| r["status"] == status && r[column] == value)
            .collect::<Vec<_>>()
    };
    let opus_output: Vec<_> = find("compared", "model", "anthropic.claude-opus-4-6-v1")
        .into_iter()
        .filter(|r| r["token_kind"] == "output")
        .collect();
    assert_eq!(
        [
            opus_output[0]["ledger_usd"].as_str(),
            opus_output[0]["billed_usd"].as_str(),
            opus_output[0]["variance_usd"].as_str(),
            opus_output[0]["variance_pct"].as_str()
        ],
        ["0.064625", "0.063450", "-0.001175", "-1.82"]
    );
    let canvas = find(
        "unmapped",
        "usage_types",
        "USE1-NovaCanvas-T2I-1024-Standard",
    );
    assert_eq!(canvas[0]["billed_usd"], "0.120000");
    assert_eq!(canvas[0]["note"], "not a token price");
    let nova_pro = find("unmapped", "usage_types", "USE1-Nova2.0Pro-input-tokens");
    assert_eq!(nova_pro[0]["billed_usd"], "0.015000");
    let billed_only = find("billed_only", "account_id", "444455556666");
    assert_eq!(billed_only.len(), 2);
    assert!(billed_only.iter().all(|r| r["variance_pct"].is_empty()));
    let gov = find("ledger_only", "region", "us-gov-west-1");
    assert_eq!(gov.len(), 2);
    let credit = find("non_usage", "line_item_type", "Credit");
    assert_eq!(credit[0]["billed_usd"], "-0.050000");
    assert_eq!(
        find("non_usage", "line_item_type", "Tax")[0]["billed_usd"],
        "0.012300"
    );
    // The 1-hour cache writes are compared on their own.
    let writes_1h: Vec<_> = find("compared", "token_kind", "cache_write_1h");
    assert_eq!(writes_1h[0]["ledger_tokens"], "4396");
    assert_eq!(writes_1h[0]["billed_usd"], writes_1h[0]["ledger_usd"]);
    // Unmapped usage is in the allocation too, unshared.
    let unmapped: i128 = allocation
        .iter()
        .filter(|r| r["status"] == "unmapped")
        .map(|r| micros(&r["allocated_usd"]))
        .sum();
    assert_eq!(unmapped, 135_000);

    for expected in [
        "read 2 CUR file(s): 62 row(s), 61 Bedrock line(s) of 2026-10, 0 of other billing periods, 1 of other services",
        "WARNING: 2 billed usage type(s), 0.135000 USD, map to no model and token kind",
        "USE1-NovaCanvas-T2I-1024-Standard: 0.120000 USD (not a token price)",
        "WARNING: 2 billed bucket(s), 0.002200 USD, have no priced requests to share them by and are NOT allocated",
        "other line items (not compared): Credit -0.050000, Tax 0.012300",
    ] {
        assert!(stderr.contains(expected), "{expected}\n{stderr}");
    }
}

#[test]
fn parquet_and_gzip_csv_give_the_same_reconciliation() {
    let work = Workspace::new();
    work.ingest(&[&logs()]);
    let from_parquet = reconciled(&work, &cur("parquet"));
    let from_csv = reconciled(&work, &cur("csv"));
    assert_eq!(from_parquet.0, from_csv.0);
    assert_eq!(from_parquet.1, from_csv.1);
    assert!(
        from_csv.2.contains("read 1 CUR file(s): 62 row(s)"),
        "{}",
        from_csv.2
    );
    // One file of the export is a part of the month, never an error.
    let one = reconciled(
        &work,
        &cur("parquet").join("bedrock-cur-00001.snappy.parquet"),
    );
    assert!(one.2.contains("read 1 CUR file(s): 10 row(s)"), "{}", one.2);
}

#[test]
fn an_unreadable_cur_is_a_clear_error_naming_the_file() {
    let work = Workspace::new();
    work.ingest(&[&logs()]);
    let broken = work.path("broken");
    std::fs::create_dir_all(&broken).unwrap();
    let parquet = cur("parquet").join("bedrock-cur-00002.snappy.parquet");
    let bytes = std::fs::read(&parquet).unwrap();
    let truncated = broken.join("bedrock-cur-00002.snappy.parquet");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let csv = broken.join("cost.csv.gz");
    let mut gzip = flate2::write::GzEncoder::new(
        std::fs::File::create(&csv).unwrap(),
        flate2::Compression::fast(),
    );
    std::io::Write::write_all(
        &mut gzip,
        b"bill_billing_period_start_date,line_item_usage_account_id,line_item_line_item_type,line_item_product_code,line_item_usage_type,line_item_unblended_cost,product_region_code\n\
          2026-10-01T00:00:00.000Z,111122223333,Usage,AmazonBedrock,USE1-NovaLite-input-tokens,NaN,us-east-1\n",
    )
    .unwrap();
    gzip.finish().unwrap();

    let cases: [(&Path, String); 3] = [
        (
            &truncated,
            format!("{}: not a readable Parquet file", truncated.display()),
        ),
        (
            &csv,
            format!(
                "{} line 2: line_item_unblended_cost: \"NaN\" is not a decimal number",
                csv.display()
            ),
        ),
        (&broken, "holds both Parquet and gzip CSV files".to_owned()),
    ];
    for (path, message) in cases {
        let output = reconcile(&work, path, &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(&message), "{message}\n{stderr}");
        assert!(!work.path("reconcile.csv").exists(), "nothing is written");
    }

    // A month priced with another book cannot split its cache writes: refused up front.
    let book = work.path("prices.csv");
    std::fs::write(
        &book,
        "model,scope,region,effective_from,input,output,cache_read,cache_write_5m,cache_write_1h,long_context_threshold,lc_input,lc_output,lc_cache_read,lc_cache_write_5m,lc_cache_write_1h\n\
         m,*,*,2026-01-01,3,15,,,,,,,,,\n",
    )
    .unwrap();
    let output = reconcile(
        &work,
        &cur("parquet"),
        &["--prices", &book.display().to_string()],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("2026-10 was priced with another price book"),
        "{stderr}"
    );
}

#[test]
fn make_cur_rebuilds_the_committed_export_from_the_fixture_logs() {
    let python = std::env::var("BEDROCK_LEDGER_TEST_PYTHON").expect(
        "BEDROCK_LEDGER_TEST_PYTHON is not set: run the suite with `bash tests/run.sh`, \
         which installs pyarrow for fixtures/make_cur.py",
    );
    let work = Workspace::new();
    let out = work.path("cur");
    let output = std::process::Command::new(python)
        .arg(fixtures().join("make_cur.py"))
        .arg(logs())
        .args(["--month", "2026-10", "--out"])
        .arg(&out)
        .args(["--bin", env!("CARGO_BIN_EXE_bedrock-ledger")])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let committed = fixtures().join("cur/2026-10");
    let mut files: Vec<PathBuf> = walk(&committed)
        .into_iter()
        .map(|f| f.strip_prefix(&committed).unwrap().to_owned())
        .collect();
    files.sort();
    let mut rebuilt: Vec<PathBuf> = walk(&out)
        .into_iter()
        .map(|f| f.strip_prefix(&out).unwrap().to_owned())
        .collect();
    rebuilt.sort();
    assert_eq!(files, rebuilt);
    for file in files {
        assert!(
            std::fs::read(committed.join(&file)).unwrap()
                == std::fs::read(out.join(&file)).unwrap(),
            "{} differs from what fixtures/make_cur.py writes",
            file.display()
        );
    }
}
