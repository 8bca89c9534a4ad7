//! Exit codes as documented in the README: 0 ok, 1 error, 2 usage, 3 too many rejects.

use crate::util::{Workspace, fixtures, logs};

#[test]
fn exit_codes_tell_cron_what_happened() {
    let work = Workspace::new();
    let data = work.data().display().to_string();
    let logs = logs().display().to_string();
    let missing = work.path("missing").display().to_string();
    let bad_profiles = work.path("profiles.csv");
    std::fs::write(&bad_profiles, "arn,model\n").unwrap();
    let bad_profiles = bad_profiles.display().to_string();
    let clean = fixtures()
        .join("logs/s3/AWSLogs/444455556666")
        .display()
        .to_string();
    // (args, exit code, text expected on stderr)
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["run", &clean, "--data", &data, "--max-reject-ratio", "0"],
            0,
            "",
        ),
        (
            &["run", &logs, "--data", &data, "--max-reject-ratio", "0.01"],
            3,
            "above --max-reject-ratio",
        ),
        (
            &["run", &logs, "--data", &data, "--max-reject-ratio", "0.5"],
            0,
            "",
        ),
        (&["run", &missing, "--data", &data], 1, "listing inputs"),
        (
            &[
                "ingest",
                &logs,
                "--data",
                &data,
                "--profiles",
                &bad_profiles,
            ],
            1,
            "no `model_id` column",
        ),
        (&["sql", "--data", &data, "SELEC nonsense"], 1, "SQL"),
        (
            &["sql", "--data", &missing, "SELECT 1"],
            1,
            "no invocations table at file://",
        ),
        (&["run", "--data", &data], 2, "INPUT"),
        (
            &["run", &logs, "--data", &data, "--max-reject-ratio", "2"],
            2,
            "not a ratio",
        ),
        (&["frobnicate"], 2, "unrecognized subcommand"),
    ];
    for (args, code, stderr) in cases {
        let output = work.run(args);
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(*code), "{args:?}: {err}");
        assert!(err.contains(stderr), "{args:?}: {err}");
    }
}

#[test]
fn broken_pipe_exits_quietly() {
    let work = Workspace::new();
    work.ingest(&[&logs()]);
    let data = work.data().display().to_string();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bedrock-ledger"))
        .args([
            "sql",
            "--data",
            &data,
            "--format",
            "csv",
            "SELECT * FROM invocations CROSS JOIN invocations b CROSS JOIN invocations c",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
