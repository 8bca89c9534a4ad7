//! The monthly chargeback and pricing as finance sees them: CSV + manifest that add up, unpriced
//! usage shown loudly, repricing without the raw logs, bad price books refused up front.

use crate::util::{Workspace, assert_snapshot, fixtures, logs};

const HEADER: &str = "model,scope,region,effective_from,input,output,cache_read,cache_write_5m,cache_write_1h,long_context_threshold,lc_input,lc_output,lc_cache_read,lc_cache_write_5m,lc_cache_write_1h";

fn fixture(name: &str) -> String {
    fixtures().join(name).display().to_string()
}

/// Runs `report chargeback` for `month` into `<workspace>/<month>.csv`; returns (CSV, manifest, stderr).
fn chargeback(
    work: &Workspace,
    month: &str,
    extra: &[&str],
) -> (String, serde_json::Value, String) {
    let out = work.path(&format!("{month}.csv"));
    let data = work.data().display().to_string();
    let out_arg = out.display().to_string();
    let mut args = vec![
        "report",
        "chargeback",
        "--month",
        month,
        "--data",
        &data,
        "--out",
        &out_arg,
    ];
    let teams = fixture("teams.csv");
    let profiles = fixture("profiles.csv");
    args.extend(["--teams", &teams, "--profiles", &profiles]);
    args.extend(extra);
    let output = work.run(&args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{args:?}: {stderr}");
    let csv = std::fs::read_to_string(&out).unwrap();
    let manifest = std::fs::read_to_string(work.path(&format!("{month}.manifest.json"))).unwrap();
    (csv, serde_json::from_str(&manifest).unwrap(), stderr)
}

/// Parses a decimal with 6 places into micro-dollars, independently of the binary's code.
fn micros(text: &str) -> i128 {
    let (whole, fraction) = text.split_once('.').expect("6 decimals");
    assert_eq!(fraction.len(), 6, "{text}");
    format!("{whole}{fraction}").parse().unwrap()
}

#[test]
fn chargeback_matches_snapshot_and_adds_up_to_the_manifest() {
    let work = Workspace::new();
    work.ingest(&[&logs()]);
    for month in ["2026-09", "2026-10", "2026-11"] {
        let (csv, manifest, _) = chargeback(&work, month, &[]);
        assert_snapshot(&format!("expected/chargeback-{month}.csv"), &csv);

        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let header = reader.headers().unwrap().clone();
        let column = |name: &str| header.iter().position(|h| h == name).unwrap();
        let (total, requests, input) = (
            column("total_cost_usd"),
            column("requests"),
            column("input_tokens"),
        );
        let parts = [
            "input_cost_usd",
            "output_cost_usd",
            "cache_read_cost_usd",
            "cache_write_cost_usd",
        ]
        .map(column);
        let (mut sum_total, mut sum_requests, mut sum_input, mut rows) =
            (0i128, 0i64, 0i64, 0usize);
        for record in reader.records() {
            let record = record.unwrap();
            let row_total = micros(&record[total]);
            let row_parts: i128 = parts.iter().map(|&p| micros(&record[p])).sum();
            assert!(
                (row_total - row_parts).abs() <= 2,
                "parts and total differ by rounding only: {record:?}"
            );
            sum_total += row_total;
            sum_requests += record[requests].parse::<i64>().unwrap();
            sum_input += record[input].parse::<i64>().unwrap();
            rows += 1;
        }
        assert_eq!(
            sum_total,
            micros(manifest["total_cost_usd"].as_str().unwrap()),
            "{month}"
        );
        assert_eq!(
            sum_requests,
            manifest["grand_totals"]["requests"].as_i64().unwrap(),
            "{month}"
        );
        assert_eq!(
            sum_input,
            manifest["grand_totals"]["input_tokens"].as_i64().unwrap(),
            "{month}"
        );
        assert_eq!(rows as u64, manifest["rows"].as_u64().unwrap(), "{month}");
        assert_eq!(
            manifest["csv_sha256"].as_str().unwrap(),
            bedrock_ledger::pricing::sha256_hex(csv.as_bytes()),
            "{month}"
        );
        assert_snapshot(
            &format!("expected/chargeback-{month}.manifest.json"),
            &serde_json::to_string_pretty(&manifest).unwrap(),
        );
    }
}

#[test]
fn unpriced_usage_is_shown_loudly_never_as_zero() {
    let work = Workspace::new();
    work.ingest(&[&logs()]);
    // Every model of the sample has a price; what is left is usage whose model id names no
    // base model (an unmapped application profile, routers, a custom model, provisioned
    // throughput): it must show, never as $0.
    let (_, manifest, stderr) = chargeback(&work, "2026-10", &[]);
    assert!(
        stderr.contains("WARNING: 5 request(s) in 2026-10 have no price")
            && stderr.contains("(unknown model): 5 request(s), 1745 input"),
        "{stderr}"
    );
    assert_eq!(manifest["unpriced_requests"].as_i64(), Some(5));
    let unpriced = manifest["unpriced_by_model"].as_array().unwrap();
    assert_eq!(unpriced.len(), 1, "{unpriced:?}");
    assert!(unpriced[0]["model"].is_null(), "{unpriced:?}");
    assert_eq!(unpriced[0]["requests"].as_i64(), Some(5));
}

#[test]
fn reprice_applies_a_new_price_book_without_the_raw_logs() {
    let work = Workspace::new();
    // Ingest from a copy of one object, then delete it: repricing must not need it.
    let logs_copy = work.path("logs");
    std::fs::create_dir_all(&logs_copy).unwrap();
    std::fs::copy(
        logs().join("s3/AWSLogs/444455556666/BedrockModelInvocationLogs/us-east-1/2026/10/20/13/20261020T131000999Z_27fe495a0f4dc53c.json.gz"),
        logs_copy.join("account2.json.gz"),
    )
    .unwrap();
    work.ingest(&[&logs_copy]);
    std::fs::remove_dir_all(&logs_copy).unwrap();
    let (before, _, _) = chargeback(&work, "2026-10", &[]);

    // Double every Sonnet 4.5 rate.
    let book = work.path("prices.csv");
    std::fs::write(&book, format!("{HEADER}\nanthropic.claude-sonnet-4-5-20250929-v1:0,*,*,2026-01-01,6.60,33,0.66,8.25,13.20,,,,,,\n")).unwrap();
    let book_arg = book.display().to_string();
    let data = work.data().display().to_string();
    let stale = work.run(&[
        "report",
        "chargeback",
        "--month",
        "2026-10",
        "--data",
        &data,
        "--prices",
        &book_arg,
    ]);
    assert_eq!(
        stale.status.code(),
        Some(1),
        "a report refuses a month priced with another book"
    );
    assert!(String::from_utf8_lossy(&stale.stderr).contains("run `bedrock-ledger reprice"));

    work.ok(&["reprice", "--data", &data, "--prices", &book_arg]);
    let (after, manifest, _) = chargeback(&work, "2026-10", &["--prices", &book_arg]);
    assert_eq!(
        manifest["price_book_sha256"].as_str().unwrap(),
        bedrock_ledger::pricing::sha256_hex(&std::fs::read(&book).unwrap())
    );
    let total = |csv: &str| -> i128 {
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        reader.records().map(|r| micros(&r.unwrap()[17])).sum()
    };
    // llm-gateway sonnet: geo (400 in, 610 out, 4000 read, 600 write) and dave eu. (320 in, 140 out)
    // at 3.30/16.50/0.33/4.125 = 0.018546; at twice the rates 0.037092.
    assert_eq!(total(&before), 18_546);
    assert_eq!(total(&after), 37_092);
}

#[test]
fn a_malformed_price_book_is_refused_before_anything_is_computed() {
    let work = Workspace::new();
    let book = work.path("prices.csv");
    std::fs::write(
        &book,
        format!(
            "{HEADER}\nm,*,*,2026-01-01,3,15,,,,,,,,,\nm,regional,*,2026-01-01,3,15,,,,,,,,,\n"
        ),
    )
    .unwrap();
    let data = work.data();
    let output = work.run(&[
        "ingest",
        &logs().display().to_string(),
        "--data",
        &data.display().to_string(),
        "--prices",
        &book.display().to_string(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("line 3: unknown scope \"regional\""),
        "{stderr}"
    );
    assert!(!data.exists(), "nothing was written");
}
