//! Replays the saved fuzz findings, `fixtures/fuzz-regressions/<target>/*`, through the same
//! bodies the AFL targets run (`fuzz/src/lib.rs`), as ordinary tests: no AFL needed.
//!
//! The main crate runs them by adding to `tests/tests.rs`:
//!
//! ```ignore
//! #[path = "../fuzz/regressions_test.rs"]
//! mod fuzz_regressions;
//! ```
//!
//! `fuzz/src/lib.rs` uses only `bedrock_ledger` and `flate2`, both dependencies of the main crate.

#[allow(dead_code)]
#[path = "src/lib.rs"]
mod bodies;

use std::path::{Path, PathBuf};

/// `fixtures/fuzz-regressions/`, from the main crate (`CARGO_MANIFEST_DIR` is the repository) or
/// from the fuzz crate (it is `fuzz/`).
fn regressions_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    [manifest, manifest.parent().unwrap_or(manifest)]
        .iter()
        .map(|dir| dir.join("fixtures/fuzz-regressions"))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| manifest.join("fixtures/fuzz-regressions"))
}

/// `fuzz/seeds/`, from the main crate or from the fuzz crate.
fn seeds_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    [manifest, manifest.parent().unwrap_or(manifest)]
        .iter()
        .map(|dir| dir.join("fuzz/seeds"))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| manifest.join("fuzz/seeds"))
}

/// Runs every saved finding of `target`, and every seed its fuzzing starts from (so that the
/// replay checks something before anything was found), and fails naming each input that panics.
fn replay(target: &str) {
    let body = bodies::target(target).expect("a fuzz target of that name");
    let findings = regressions_dir().join(target);
    let seeds = seeds_dir().join(target);
    let mut files: Vec<PathBuf> = [&findings, &seeds]
        .into_iter()
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flatten()
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "{target}: no seed in {}",
        seeds.display()
    );
    let failed: Vec<String> = files
        .iter()
        .filter(|path| {
            let bytes = std::fs::read(path).expect("readable input");
            std::panic::catch_unwind(|| body(&bytes)).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{target}: these inputs panic: {failed:#?}"
    );
}

#[test]
fn fuzz_regressions_sniff() {
    replay("sniff");
}

#[test]
fn fuzz_regressions_object() {
    replay("object");
}

#[test]
fn fuzz_regressions_lines() {
    replay("lines");
}

#[test]
fn fuzz_regressions_envelope() {
    replay("envelope");
}

#[test]
fn fuzz_regressions_record() {
    replay("record");
}

#[test]
fn fuzz_regressions_price_book() {
    replay("price_book");
}

#[test]
fn fuzz_regressions_teams() {
    replay("teams");
}

/// Every target has a test above.
#[test]
fn fuzz_regressions_cover_every_target() {
    let names: Vec<&str> = bodies::TARGETS.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        names,
        [
            "sniff",
            "object",
            "lines",
            "envelope",
            "record",
            "price_book",
            "teams"
        ]
    );
}
