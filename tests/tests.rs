//! Integration tests: the real `bedrock-ledger` binary on the fixtures in `fixtures/`.

mod util;

mod dataset;
mod exit_codes;
mod sample_run;
