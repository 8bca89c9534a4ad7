//! bedrock-ledger: Amazon Bedrock model-invocation logs → Delta Lake tables of invocations →
//! SQL and reports.
//!
//! The data flows `source → decode → normalize → price → dataset → query`. [`rows`] is the
//! ground floor every stage shares (the row types and schemas); each stage imports it and the
//! output of the stage before it, never a stage after it: decoding takes normalization as a
//! [`decode::Normalize`], the dataset takes pricing as a [`rows::PriceRows`]. [`decode`],
//! [`normalize`] and [`pricing`] are pure (bytes in, rows out); [`source`] and [`dataset`] do the
//! I/O at the edges; [`ingest`] composes them; [`query`] and [`report`] read the dataset.

pub mod athena;
pub mod attribution;
pub mod budgets;
pub mod dataset;
pub mod decode;
pub mod ingest;
pub mod normalize;
pub mod pause;
pub mod pricing;
pub mod query;
pub mod reconcile;
pub mod report;
pub mod rows;
pub mod source;
