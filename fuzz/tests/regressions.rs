//! The regression replay, included as the main crate would include it (see
//! `fuzz/regressions_test.rs`). Run here with `cargo afl test --release` (reuses the fuzz build).

#[path = "../regressions_test.rs"]
mod fuzz_regressions;
