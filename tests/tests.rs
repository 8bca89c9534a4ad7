//! Integration tests: the real `bedrock-ledger` binary on the fixtures in `fixtures/`.

mod util;

mod chargeback;
mod dataset;
mod exit_codes;
mod queries;
mod sample_run;
