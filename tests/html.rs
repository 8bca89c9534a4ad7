//! The monthly HTML report: every amount on the page equals the chargeback CSV's, the page is
//! self-contained, and headless Chromium renders it (a screenshot that is not blank, and the
//! billed total in the rendered page's text).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::util::{Workspace, assert_snapshot, fixtures, logs};

fn fixture(name: &str) -> String {
    fixtures().join(name).display().to_string()
}

/// Writes the chargeback CSV and the HTML report of `month`; returns (CSV, HTML).
fn reports(work: &Workspace, month: &str) -> (String, String) {
    let data = work.data().display().to_string();
    let (teams, profiles) = (fixture("teams.csv"), fixture("profiles.csv"));
    let csv = work.path(&format!("{month}.csv")).display().to_string();
    let html = work.path(&format!("{month}.html")).display().to_string();
    let common = [
        "--month",
        month,
        "--data",
        &data,
        "--teams",
        &teams,
        "--profiles",
        &profiles,
    ];
    work.ok(&[&["report", "chargeback"], &common[..], &["--out", &csv]].concat());
    work.ok(&[&["report", "html"], &common[..], &["--out", &html]].concat());
    (
        std::fs::read_to_string(&csv).unwrap(),
        std::fs::read_to_string(&html).unwrap(),
    )
}

/// Micro-dollars from a decimal with 6 places, independently of the binary's code.
fn micros(text: &str) -> i128 {
    let (whole, fraction) = text.split_once('.').expect("6 decimals");
    assert_eq!(fraction.len(), 6, "{text}");
    let sign = if whole.starts_with('-') { -1 } else { 1 };
    sign * format!("{}{fraction}", whole.trim_start_matches('-'))
        .parse::<i128>()
        .unwrap()
}

/// `$1,234.57` for micro-dollars, rounded half to even to the cent.
fn cents_text(micros: i128) -> String {
    let (quotient, remainder) = (micros.div_euclid(10_000), micros.rem_euclid(10_000));
    let cents = match remainder.cmp(&5_000) {
        std::cmp::Ordering::Less => quotient,
        std::cmp::Ordering::Greater => quotient + 1,
        std::cmp::Ordering::Equal => quotient + (quotient & 1),
    };
    let digits = (cents.abs() / 100).to_string();
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}${grouped}.{:02}", cents.abs() % 100)
}

fn unescape(text: &str) -> String {
    text.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Every `data-figure` of the page: key → (exact micro-dollars, the text shown).
fn figures(html: &str) -> BTreeMap<String, (i128, String)> {
    let mut figures = BTreeMap::new();
    for part in html.split("<span class=\"usd\" data-figure=\"").skip(1) {
        let (key, rest) = part.split_once('"').unwrap();
        let usd = rest
            .split("data-usd=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let shown = rest.split_once('>').unwrap().1.split('<').next().unwrap();
        let previous = figures.insert(unescape(key), (micros(usd), unescape(shown)));
        assert!(previous.is_none(), "figure {key} appears once");
    }
    figures
}

/// The sums the page must show, from the CSV alone.
fn expected_figures(csv: &str) -> BTreeMap<String, i128> {
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (team, cc, identity, end_user, model, total) = (
        column("team"),
        column("cost_center"),
        column("identity"),
        column("end_user"),
        column("model"),
        column("total_cost_usd"),
    );
    let mut sums: BTreeMap<String, i128> = BTreeMap::new();
    for record in reader.records() {
        let r = record.unwrap();
        let cost = micros(&r[total]);
        let model = if r[model].is_empty() {
            "(no model)"
        } else {
            &r[model]
        };
        for key in [
            "total".to_owned(),
            format!("team:{}|{}", &r[team], &r[cc]),
            format!("cost_center:{}", &r[cc]),
            format!("identity:{}|{}", &r[identity], &r[end_user]),
            format!("model:{model}"),
        ] {
            *sums.entry(key).or_default() += cost;
        }
    }
    sums
}

#[test]
fn every_figure_of_the_page_is_the_chargeback_csvs() {
    let work = Workspace::new();
    work.ingest(&[&logs()]);
    for month in ["2026-09", "2026-10", "2026-11"] {
        let (csv, html) = reports(&work, month);
        if month == "2026-10" {
            assert_snapshot("expected/report-2026-10.html", &html);
        }
        let shown = figures(&html);
        let expected = expected_figures(&csv);
        for (key, (usd, text)) in &shown {
            assert_eq!(text, &cents_text(*usd), "{month} {key}: the cents shown");
        }
        // Identities beyond the top ten are summed into one line; every other key is on the page.
        let mut compared = 0;
        for (key, micros) in &expected {
            match shown.get(key) {
                Some((usd, _)) => {
                    assert_eq!(usd, micros, "{month} {key}");
                    compared += 1;
                }
                None => assert!(
                    key.starts_with("identity:") && shown.contains_key("identity:(others)"),
                    "{month}: {key} is not on the page"
                ),
            }
        }
        assert!(compared >= 10, "{month}: {compared} figures compared");
        let identities: i128 = shown
            .iter()
            .filter(|(k, _)| k.starts_with("identity:"))
            .map(|(_, (usd, _))| usd)
            .sum();
        assert_eq!(
            identities, expected["total"],
            "{month}: identities add up to the total"
        );
        assert_eq!(shown["total"].0, expected["total"]);
    }
    let (_, october) = reports(&work, "2026-10");
    let previous = figures(&october)["previous_total"].0;
    assert_eq!(
        previous,
        expected_figures(&reports(&work, "2026-09").0)["total"]
    );
    assert!(october.contains("+484.2%"), "the change from September");
    assert!(october.contains("5 request(s) have no price and are NOT in these totals"));
    assert!(
        october.contains("erin@example.com"),
        "the gateway's end users are named"
    );
}

#[test]
fn the_page_is_self_contained() {
    let work = Workspace::new();
    work.ingest(&[&logs()]);
    let (_, html) = reports(&work, "2026-10");
    // An SVG names its namespace with a URL that is never fetched.
    let html = html.replace(r#"xmlns="http://www.w3.org/2000/svg""#, "");
    for fetches in [
        "<script", "<link", "src=", "@import", "url(", "http://", "https://",
    ] {
        assert!(!html.contains(fetches), "the page holds {fetches:?}");
    }
    assert!(html.contains("@page { size: A4"), "it prints on A4");
    assert_eq!(html.matches("<svg").count(), 3, "three inline charts");
}

#[test]
fn a_month_without_requests_is_refused() {
    let work = Workspace::new();
    work.ingest(&[&logs()]);
    let data = work.data().display().to_string();
    let output = work.run(&["report", "html", "--month", "2025-01", "--data", &data]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no invocations in 2025-01"));
}

/// The Chromium binary `tests/run.sh` installs; the test fails without it, never skips.
fn chromium() -> String {
    std::env::var("BEDROCK_LEDGER_TEST_CHROMIUM").expect(
        "BEDROCK_LEDGER_TEST_CHROMIUM names a headless Chromium (tests/run.sh installs Debian's `chromium`)",
    )
}

fn headless(page: &Path, args: &[&str]) -> std::process::Output {
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            // Nothing of the page may come from the network: any request fails.
            "--proxy-server=127.0.0.1:9",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("running chromium");
    assert!(output.status.success(), "chromium: {output:?}");
    output
}

#[test]
fn chromium_renders_the_report() {
    let work = Workspace::new();
    work.ingest(&[&logs()]);
    let (csv, _) = reports(&work, "2026-10");
    let page = work.path("2026-10.html");
    let screenshot = work.path("report.png");
    headless(
        &page,
        &[
            &format!("--screenshot={}", screenshot.display()),
            "--window-size=1024,1400",
        ],
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&screenshot).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((frame.width, frame.height), (1024, 1400));
    let channels = frame.color_type.samples();
    let pixels = &pixels[..frame.buffer_size()];
    let ink = pixels
        .chunks(channels)
        .filter(|p| p[..3].iter().any(|&c| c < 200))
        .count();
    let accent = pixels
        .chunks(channels)
        .filter(|p| p[2] > 150 && p[0] < 90)
        .count();
    let total = pixels.len() / channels;
    assert!(
        ink * 100 > total,
        "text and charts cover more than 1% of the screenshot ({ink} of {total})"
    );
    assert!(
        accent > 1000,
        "the bars and the total are drawn in the accent colour ({accent})"
    );

    // The DOM Chromium built holds the billed total, in cents.
    let dom = String::from_utf8(headless(&page, &["--dump-dom"]).stdout).unwrap();
    let total = expected_figures(&csv)["total"];
    let billed = dom
        .split("id=\"billed-total\"")
        .nth(1)
        .expect("the billed total card");
    assert!(
        billed.contains(&cents_text(total)),
        "{}",
        &billed[..200.min(billed.len())]
    );
}
