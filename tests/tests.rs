//! Integration tests: the real `bedrock-ledger` binary on the fixtures in `fixtures/`.

mod util;

mod athena;
mod budgets;
mod chargeback;
mod cloudwatch;
mod concurrency;
mod crash;
mod dataset;
mod exit_codes;
mod html;
mod incremental;
mod migrate;
mod prices;
mod properties;
mod queries;
mod reconcile;
mod reliability;
mod rollup;
mod s3;
mod sample_month;
mod sample_run;

// The fuzz targets' bodies, replayed on their seeds and saved findings (fuzz/README.md).
#[path = "../fuzz/regressions_test.rs"]
mod fuzz_regressions;
