//! Reliability: the dataset kept under its own input prefix, secrets kept out of every message.

use crate::s3::{bucket, client, run_s3, s3_command, upload_tree};
use crate::util::{Workspace, fixtures, logs};

/// `run <prefix> --data <prefix>/ledger`: the second night reads nothing of the dataset (its
/// Delta logs, Parquet files, reports) as input, and finds nothing new.
#[test]
fn a_dataset_under_its_input_directory_is_never_read_as_input() {
    let work = Workspace::new();
    // The workspace holds the dataset (`data/`); the logs go beside it, and the input is both.
    copy_tree(&logs(), &work.path("logs"));
    let input = work.path("logs").parent().unwrap().display().to_string();
    let data = work.data().display().to_string();
    let profiles = fixtures().join("profiles.csv").display().to_string();
    let run = ["run", &input, "--data", &data, "--profiles", &profiles];
    let first = work.ok(&run);
    let rejects_after_first = work.sql_csv("SELECT count(*) AS n FROM rejects");
    let second = work.ok(&run);
    assert!(
        second.contains("nothing new: 19 object(s) already ingested unchanged")
            && second.contains("inside the dataset itself left out"),
        "{first}\n{second}"
    );
    assert_eq!(
        work.sql_csv("SELECT count(*) AS n FROM rejects"),
        rejects_after_first
    );
}

#[tokio::test]
async fn a_dataset_under_its_input_prefix_in_s3_is_never_read_as_input() {
    let client = client();
    let bucket = bucket(&client, "under-prefix").await;
    upload_tree(&client, &bucket, "logs/", &logs().join("s3")).await;
    let input = format!("s3://{bucket}/");
    let data = format!("s3://{bucket}/ledger/");
    let profiles = fixtures().join("profiles.csv").display().to_string();
    let teams = fixtures().join("teams.csv").display().to_string();
    let run = [
        "run",
        &input,
        "--data",
        &data,
        "--profiles",
        &profiles,
        "--teams",
        &teams,
    ];
    run_s3(&run);
    let second = run_s3(&run);
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        stdout.contains("nothing new: 12 object(s) already ingested unchanged")
            && stdout.contains("inside the dataset itself left out"),
        "{stdout}"
    );
}

/// At the most verbose level, no credential, session token or signature reaches the output.
#[tokio::test]
async fn secrets_never_reach_logs_or_errors() {
    let client = client();
    let bucket = bucket(&client, "secrets").await;
    upload_tree(&client, &bucket, "logs/", &logs().join("s3")).await;
    let secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYSECRETKEY";
    let token = "FwoGZXIvYXdzEXAMPLESESSIONTOKENxyz";
    let data = format!("s3://{bucket}/ledger/");
    let runs: [Vec<String>; 2] = [
        // A run that works,
        vec![
            "-vv".into(),
            "ingest".into(),
            format!("s3://{bucket}/logs/"),
            "--data".into(),
            data.clone(),
        ],
        // and one that fails, in a bucket that does not exist.
        vec![
            "-vv".into(),
            "sql".into(),
            "--data".into(),
            format!("s3://{bucket}-missing/ledger/"),
            "SELECT 1".into(),
        ],
    ];
    for args in runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = s3_command(&args)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_SESSION_TOKEN", token)
            .env("BEDROCK_LEDGER_LOG", "trace")
            .output()
            .unwrap();
        let all = [output.stdout, output.stderr].concat();
        let text = String::from_utf8_lossy(&all);
        assert!(text.len() > 1000, "the verbose run said something: {text}");
        for needle in [secret, token, "X-Amz-Signature=", "Signature="] {
            assert!(!text.contains(needle), "{needle} in the output of {args:?}");
        }
    }
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
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
