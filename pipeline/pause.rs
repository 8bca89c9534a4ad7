//! Named points in a run where a test can stop it: with `BEDROCK_LEDGER_PAUSE_AT=<point>` the
//! run says `paused at <point>` on stderr when it gets there and waits to be killed. Crash tests
//! SIGKILL a writer at a point it really reached (after staging, with a span's files written
//! but not committed, after a month's commit, after the rejects, after the rollups), rather
//! than after a guessed delay that a loaded machine may never reach in time.
//!
//! Hand-written rather than the `fail` crate: what a test needs here is the process stopped
//! where it stands, to be killed from outside like a crash, which is a few lines; `fail` brings
//! a global registry and actions that return or panic inside the process.

/// The points, in the order a run passes them.
pub const POINTS: [&str; 6] = [
    "staged",
    "span-files-written",
    "merge-source-written",
    "month-committed",
    "rejects-committed",
    "rollups-refreshed",
];

/// Stops here if the environment names `point`.
pub fn pause_point(point: &str) {
    debug_assert!(POINTS.contains(&point), "{point} is not a named point");
    if std::env::var("BEDROCK_LEDGER_PAUSE_AT").is_ok_and(|p| p == point) {
        eprintln!("paused at {point}");
        loop {
            std::thread::park();
        }
    }
}
