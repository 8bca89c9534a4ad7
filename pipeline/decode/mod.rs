//! Decoding: from the bytes of one log object to invocations, rejects and noise counts.
//!
//! An object is classified by its content ([`sniff`]), never by its name alone, then framed
//! ([`lines`] for JSON lines and export lines, [`envelope`] for Firehose envelopes, CLI pages and
//! saved Logs Insights results, each event read by [`event`]) and every record in it is parsed
//! ([`record`], its token counters strictly by [`counter`]) and normalized. Work inside a large
//! object is spread over the rayon pool block by block. This layer reads only the bytes or the
//! `Read` it is given: no files, network, clock or environment.

pub mod buffer;
pub mod compression;
pub mod counter;
pub mod envelope;
pub mod event;
pub mod inflate;
pub mod lenient;
pub mod lines;
pub mod message;
pub mod object;
pub mod record;
pub mod sniff;

use crate::rows::{Invocation, Origin};
use record::RawRecord;

pub use object::{DecodeOptions, ObjectBytes, ObjectKind, ObjectSummary, decode_object};
pub use sniff::NoiseKind;

/// Turns a parsed record into an invocation. Normalization is the next stage
/// ([`crate::normalize`], whose `ProfileMap` implements this); the caller hands it in, so
/// decoding frames and parses and knows nothing of how a record becomes a row.
pub trait Normalize: Sync + std::fmt::Debug {
    /// The invocation `raw` describes, or why it cannot be one (a reject's reason).
    fn normalize(&self, raw: RawRecord<'_>, origin: Origin) -> Result<Invocation, String>;
}

/// The outcome of decoding one record-bearing unit (a line or a log event).
#[derive(Debug)]
pub enum Unit {
    Invocation(Box<Invocation>),
    Noise,
    Reject { reason: String, excerpt: String },
}
