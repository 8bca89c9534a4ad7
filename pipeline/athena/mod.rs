//! Amazon Athena over the dataset's Delta tables in S3: the DDL and Glue Data Catalog entries
//! that make them queryable ([`ddl`], [`catalog`]), and an [`Engine`](crate::query::Engine)
//! that runs the named queries there ([`client`]) with results typed like the local engine's
//! ([`results`]).

pub mod catalog;
pub mod client;
pub mod ddl;
pub mod results;

pub use client::{Athena, AthenaTarget};

/// Why Athena gave no result.
#[derive(Debug, thiserror::Error)]
pub enum AthenaError {
    /// A call to the Athena or Glue API failed (after the SDK's retries).
    #[error("{action}: {detail}")]
    Api {
        action: &'static str,
        detail: String,
    },
    /// Athena ran the query and it failed: the reason is Athena's.
    #[error("Athena query {id} failed: {reason}")]
    Failed { id: String, reason: String },
    /// The query was cancelled: by Ctrl-C here (Athena was told to stop it), or by someone else.
    #[error("Athena query {id} was cancelled{by}")]
    Cancelled { id: String, by: &'static str },
    /// A value in the results is not of its column's type.
    #[error(
        "Athena returned {value:?} in row {row} of column {column}, which is not a {type_name}: {detail}"
    )]
    Value {
        column: String,
        type_name: String,
        row: usize,
        value: String,
        detail: String,
    },
    /// The results do not have the shape the API promises.
    #[error("malformed Athena results: {0}")]
    Malformed(String),
    /// A name or location cannot be written into Athena's SQL or the catalog.
    #[error("{0}")]
    Invalid(String),
    /// Ctrl-C cannot be listened for, so a query could not be stopped when interrupted.
    #[error("cannot listen for Ctrl-C: {0}")]
    Interrupt(#[source] std::io::Error),
}

impl AthenaError {
    /// Whether the run was interrupted here (Ctrl-C), as opposed to failing.
    pub fn is_interrupt(&self) -> bool {
        matches!(self, AthenaError::Cancelled { by, .. } if *by == client::BY_INTERRUPT)
    }
}
