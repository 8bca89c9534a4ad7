//! Rows for the dataset's unit tests: decoded invocations from literal records, and staged.

use std::path::Path;
use std::sync::Arc;

use super::stage::{Staged, Stager};
use crate::decode::record::parse_record;
use crate::normalize::{ProfileMap, normalize};
use crate::rows::{Decoded, Origin, SourceFormat};

/// One invocation per `(request_id, timestamp, format)`, from `source`, on lines 1, 2, ….
pub fn decoded(source: &str, rows: &[(&str, &str, SourceFormat)]) -> Decoded {
    let invocations = rows
        .iter()
        .enumerate()
        .map(|(line, (id, time, format))| {
            let json = format!(
                r#"{{"requestId":"{id}","timestamp":"{time}","modelId":"anthropic.claude-sonnet-4-5-20250929-v1:0","input":{{"inputTokenCount":10}},"output":{{"outputTokenCount":2}}}}"#
            );
            let origin = Origin {
                source: Arc::from(source),
                format: *format,
                line: line as u64 + 1,
                framing_time_ms: None,
            };
            normalize(
                parse_record(json.as_bytes()).unwrap(),
                origin,
                &ProfileMap::default(),
            )
            .unwrap()
        })
        .collect();
    Decoded {
        invocations,
        ..Decoded::default()
    }
}

/// `decoded` staged under `dir`.
pub fn stage(dir: &Path, decoded: Decoded) -> Staged {
    let mut stager = Stager::new(dir.to_owned(), None).unwrap();
    stager.add(decoded).unwrap();
    stager.finish().unwrap()
}
