//! Decoding: from the bytes of one log object to invocations, rejects and noise counts.
//!
//! An object is classified by its content ([`sniff`]), never by its name alone, then framed
//! ([`lines`] for JSON lines and export lines, [`envelope`] for Firehose envelopes and CLI pages)
//! and every record in it is parsed ([`record`]) and normalized. Work inside a large object is
//! spread over the rayon pool block by block. This layer reads only from the `Read` it is given:
//! no files, network, clock or environment.

pub mod compression;
pub mod envelope;
pub mod lenient;
pub mod lines;
pub mod message;
pub mod object;
pub mod record;
pub mod sniff;

use std::sync::Arc;

use crate::normalize::{Invocation, SourceFormat};

pub use object::{DecodeOptions, ObjectKind, ObjectSummary, decode_object};
pub use sniff::NoiseKind;

/// How many bytes of a rejected line or object are kept to show what it looked like.
pub const EXCERPT_BYTES: usize = 200;

/// A line, event or object that could not be decoded, with where it came from and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    pub source: Arc<str>,
    /// The format of the object, when it was recognized.
    pub format: Option<SourceFormat>,
    /// 1-based line number, or ordinal of the event in envelope/page objects.
    pub line: Option<u64>,
    /// Offset of the line in the decompressed object, or of the gzip member in the object.
    pub byte_offset: Option<u64>,
    pub reason: String,
    /// The first [`EXCERPT_BYTES`] bytes of what was rejected, lossily decoded as UTF-8.
    pub excerpt: String,
}

/// The first [`EXCERPT_BYTES`] bytes of `bytes` as text.
pub fn excerpt(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(EXCERPT_BYTES)]).into_owned()
}

/// What one decoded slice of an object yields; objects are emitted in several of these.
#[derive(Debug, Default)]
pub struct Decoded {
    pub invocations: Vec<Invocation>,
    pub rejects: Vec<Reject>,
    /// Log events that are not records and not errors (permission messages, control messages).
    pub noise_events: u64,
}

impl Decoded {
    /// True when nothing was decoded.
    pub fn is_empty(&self) -> bool {
        self.invocations.is_empty() && self.rejects.is_empty() && self.noise_events == 0
    }
}

/// The outcome of decoding one record-bearing unit (a line or a log event).
#[derive(Debug)]
pub enum Unit {
    Invocation(Box<Invocation>),
    Noise,
    Reject { reason: String, excerpt: String },
}
