//! bedrock-ledger: Amazon Bedrock model-invocation logs → a Parquet dataset of invocations →
//! SQL and reports.
//!
//! The data flows `source → decode → normalize → price → dataset → query`. [`decode`],
//! [`normalize`] and [`pricing`] are pure (bytes in, rows out); [`source`] and [`dataset`] do the
//! I/O at the edges; [`ingest`] wires them together; [`query`] runs SQL over the dataset.

pub mod attribution;
pub mod dataset;
pub mod decode;
pub mod ingest;
pub mod normalize;
pub mod pricing;
pub mod query;
pub mod report;
pub mod source;
