//! `check budgets` as the nightly cron runs it: an overspent budget exits 5 and is named, a
//! forecast over budget only warns, a malformed budgets file is refused with its line.

use std::process::Output;

use crate::util::{Workspace, assert_snapshot, fixtures, logs};

fn fixture(name: &str) -> String {
    fixtures().join(name).display().to_string()
}

/// A workspace holding the fixture logs.
fn ingested() -> Workspace {
    let work = Workspace::new();
    work.ingest(&[&logs()]);
    work
}

/// The arguments of `check budgets` on the workspace dataset with the fixture teams.
fn check_args(work: &Workspace, budgets: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "check",
        "budgets",
        "--data",
        &work.data().display().to_string(),
        "--budgets",
        budgets,
        "--teams",
        &fixture("teams.csv"),
        "--profiles",
        &fixture("profiles.csv"),
    ]
    .map(str::to_owned)
    .to_vec();
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    args
}

/// Runs `check budgets`; returns (exit code, stdout, stderr).
fn check(work: &Workspace, budgets: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let args = check_args(work, budgets, extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    streams(work.run(&args))
}

fn streams(output: Output) -> (Option<i32>, String, String) {
    (
        output.status.code(),
        String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Writes a budgets file into the workspace and returns its path.
fn budgets_file(work: &Workspace, text: &str) -> String {
    let path = work.path("budgets.csv");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn overspent_budgets_exit_5_and_are_named() {
    let work = ingested();
    let month = ["--month", "2026-10", "--today", "2026-11-05"];
    let (code, stdout, stderr) = check(&work, &fixture("budgets.csv"), &month);
    assert_eq!(code, Some(5), "{stderr}");
    assert_snapshot("expected/budgets-2026-10.txt", &stdout);
    let alerts: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("over budget:"))
        .collect();
    assert_eq!(
        alerts,
        [
            "over budget: team search spent $0.128378 of $0.100000 in 2026-10",
            "over budget: team web spent $0.040858 of $0.040000 in 2026-10",
        ],
        "{stderr}"
    );
    assert!(
        stderr.contains("2 of 9 budget(s) over in 2026-10"),
        "{stderr}"
    );
    assert!(
        stderr.contains("2026-10 is over: the forecast is what was spent"),
        "{stderr}"
    );
    // Unpriced requests are never a silent $0.
    assert!(
        stderr.contains(
            "warning: team web: 3 request(s) in 2026-10 have no price, so spent is a lower bound"
        ),
        "{stderr}"
    );

    // The budget over every team spent what the dataset holds, rounded once to the micro-dollar.
    let (_, csv, _) = check(
        &work,
        &fixture("budgets.csv"),
        &[&month[..], &["--format", "csv"]].concat(),
    );
    let everything = csv
        .lines()
        .find(|l| l.starts_with("team,*,"))
        .expect("the `team,*` budget");
    let total = work.sql_csv(
        "SELECT CAST(round(sum(cost_usd), 6) AS VARCHAR) AS total FROM invocations WHERE month = '2026-10'",
    );
    let total = total.lines().nth(1).unwrap();
    assert_eq!(everything.split(',').nth(2), Some(total), "{csv}");
}

#[test]
fn budgets_not_overspent_do_not_alert() {
    let work = ingested();
    // frank@example.com is the end user a gateway named (a metadata rule in teams.csv), not an
    // identity: his budget covers his requests all the same.
    let budgets = budgets_file(
        &work,
        "scope,pattern,monthly_usd\n\
         team,search,0.128379\n\
         identity,frank@example.com,0.005247\n\
         identity,arn:aws:iam::444455556666:role/llm-gateway,1\n\
         team,nobody-*,5\n",
    );
    let args = [
        "--month",
        "2026-10",
        "--today",
        "2026-11-05",
        "--format",
        "csv",
    ];
    let (code, stdout, stderr) = check(&work, &budgets, &args);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        "scope,pattern,spent_usd,forecast_usd,budget_usd,used_pct,status,requests,unpriced_requests\n\
         team,search,0.128378,0.128378,0.128379,100.0,ok,4,1\n\
         identity,frank@example.com,0.005247,0.005247,0.005247,100.0,ok,1,0\n\
         identity,arn:aws:iam::444455556666:role/llm-gateway,0.015180,0.015180,1.000000,1.5,ok,2,0\n\
         team,nobody-*,0.000000,0.000000,5.000000,0.0,ok,0,0\n"
    );
    assert!(!stderr.contains("over budget"), "{stderr}");
    assert!(!stderr.contains("forecast to spend"), "{stderr}");
}

#[test]
fn a_forecast_over_budget_warns_and_exits_0() {
    let work = ingested();
    // 4 November: the data reaches 2026-11-03T16:09:00Z, 230,940 s of the month's 2,592,000 s.
    // Without --month, the month is today's.
    let (code, stdout, stderr) = check(
        &work,
        &fixture("budgets.csv"),
        &["--today", "2026-11-04", "--format", "csv"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let search = stdout.lines().nth(1).unwrap();
    assert_eq!(
        search,
        "team,search,0.044411,0.498460,0.100000,44.4,forecast over,1,0"
    );
    assert!(
        stderr
            .contains("2026-11 so far: data up to 2026-11-03T16:09:00Z; the forecast extrapolates"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "warning: team search is forecast to spend $0.498460 of $0.100000 in 2026-11 ($0.044411 so far)"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("over budget"), "{stderr}");

    // Once November is over, the forecast is what was spent, and no warning is left.
    let (code, stdout, stderr) = check(
        &work,
        &fixture("budgets.csv"),
        &[
            "--month",
            "2026-11",
            "--today",
            "2026-12-01",
            "--format",
            "csv",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout.lines().nth(1),
        Some("team,search,0.044411,0.044411,0.100000,44.4,ok,1,0")
    );
    assert!(!stderr.contains("warning"), "{stderr}");
}

#[test]
fn a_malformed_budgets_file_is_refused_with_its_line_before_anything_is_read() {
    let work = Workspace::new();
    let cases = [
        (
            "scope,pattern,monthly_usd\nteam,web,10\nteam,ads,ten\n",
            "line 3: monthly_usd \"ten\" is not an amount in USD",
        ),
        (
            "scope,pattern,monthly_usd\nteam,web,10\ngroup,ads,10\n",
            "line 3: scope must be `team` or `identity`, found \"group\"",
        ),
        (
            "scope,pattern,monthly_usd\nteam,web,10\nteam,web,12\n",
            "line 3: team web already has a budget on line 2",
        ),
        (
            "team,pattern,budget\n",
            "the header must be `scope,pattern,monthly_usd`",
        ),
    ];
    for (text, message) in cases {
        let budgets = budgets_file(&work, text);
        // The dataset does not exist: the file is refused first.
        let (code, stdout, stderr) = check(&work, &budgets, &[]);
        assert_eq!(code, Some(1), "{text:?}: {stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        assert!(
            stderr.contains(&format!("refusing the budgets file {budgets}: {message}")),
            "{text:?}: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_the_budgets_file_from_s3() {
    let client = crate::s3::client();
    let bucket = crate::s3::bucket(&client, "budgets").await;
    client
        .put_object()
        .bucket(&bucket)
        .key("config/budgets.csv")
        .body(
            std::fs::read(fixtures().join("budgets.csv"))
                .unwrap()
                .into(),
        )
        .send()
        .await
        .expect("uploading");
    let work = ingested();
    let month = ["--month", "2026-10", "--today", "2026-11-05"];
    let remote = format!("s3://{bucket}/config/budgets.csv");
    let args = check_args(&work, &remote, &month);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, stdout, stderr) = streams(crate::s3::s3_command(&args).output().unwrap());
    assert_eq!(code, Some(5), "{stderr}");
    assert_eq!(stdout, check(&work, &fixture("budgets.csv"), &month).1);
}
