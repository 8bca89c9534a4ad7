//! A scratch directory per test and a way to run the binary in it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's `fixtures/` directory.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The fixture logs.
pub fn logs() -> PathBuf {
    fixtures().join("logs")
}

/// A temporary directory holding a dataset, removed when dropped.
pub struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Self {
        Workspace {
            dir: tempfile::tempdir().expect("creating a temporary directory"),
        }
    }

    /// The dataset directory inside the workspace.
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A path inside the workspace.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs the binary with `args`.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_bedrock-ledger"))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("BEDROCK_LEDGER_LOG")
            .output()
            .expect("running bedrock-ledger")
    }

    /// Runs the binary and asserts it exits 0; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "bedrock-ledger {args:?} failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("stdout is UTF-8")
    }

    /// Ingests `inputs` into the workspace dataset with the fixture profile map.
    pub fn ingest(&self, inputs: &[&Path]) {
        let profiles = fixtures().join("profiles.csv");
        let data = self.data();
        let mut args = vec!["ingest".to_owned()];
        args.extend(inputs.iter().map(|p| p.display().to_string()));
        args.extend(["--data".to_owned(), data.display().to_string()]);
        args.extend(["--profiles".to_owned(), profiles.display().to_string()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.ok(&args);
    }

    /// Runs SQL over the workspace dataset and returns CSV.
    pub fn sql_csv(&self, sql: &str) -> String {
        let data = self.data();
        self.ok(&[
            "sql",
            "--data",
            &data.display().to_string(),
            "--format",
            "csv",
            sql,
        ])
    }
}

/// Every column of `invocations`, with machine-specific source paths made relative to the
/// fixture logs, ordered by request id: a full picture of the table for comparisons.
pub const TABLE_DUMP_SQL: &str = "SELECT * EXCEPT (source), \
     regexp_replace(source, '^(file://.*/fixtures/logs/|s3://[^/]+/logs/)', '') AS source \
     FROM invocations ORDER BY request_id";

/// Reads a file under `fixtures/`.
pub fn fixture_text(relative: &str) -> String {
    std::fs::read_to_string(fixtures().join(relative))
        .unwrap_or_else(|e| panic!("reading fixtures/{relative}: {e}"))
}

/// Compares `actual` with the snapshot at `fixtures/<relative>`. With `UPDATE_SNAPSHOTS=1` the
/// snapshot is rewritten instead, for deliberate changes (say why in the commit message).
pub fn assert_snapshot(relative: &str, actual: &str) {
    let path = fixtures().join(relative);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = fixture_text(relative);
    assert!(
        expected == actual,
        "{} differs from the output (rerun with UPDATE_SNAPSHOTS=1 if the change is deliberate)\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

/// Every file under `dir`, recursively.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
