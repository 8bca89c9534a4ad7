//! Sources: where log objects come from. A source lists objects and opens their raw bytes; what
//! the bytes mean is the decoder's business.

pub mod local;

use std::path::PathBuf;
use std::sync::Arc;

/// One object to ingest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceObject {
    /// Stable URI recorded with every row and reject (`file:///abs/path`).
    pub uri: Arc<str>,
    /// The object's key or path, as the offloaded-body rule in [`crate::decode::sniff`] reads it.
    pub name: String,
    pub path: PathBuf,
    pub size_bytes: u64,
}
