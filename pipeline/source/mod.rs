//! Sources: where logs come from — local files and directories, S3, CloudWatch Logs. A source
//! lists objects (or log events) and fetches their raw bytes; what they mean is the decoder's
//! business.

pub mod aws;
pub mod cloudwatch;
pub mod local;
pub mod resilient;
pub mod s3;

use std::io::{self, BufRead};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;

/// Where an object's bytes are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    S3 { bucket: String, key: String },
}

/// One object to ingest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceObject {
    /// Stable URI recorded with every row and reject (`file:///abs/path`, `s3://bucket/key`).
    pub uri: Arc<str>,
    /// The object's key or path, as the offloaded-body rule in [`crate::decode::sniff`] reads it.
    pub name: String,
    pub location: Location,
    pub size_bytes: u64,
    /// Changes whenever the content may have changed (ETag, or size and mtime of a file).
    pub version: String,
}

/// An inclusive range of UTC dates (`--since` / `--until`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateWindow {
    pub since: NaiveDate,
    pub until: NaiveDate,
}

impl DateWindow {
    /// The window as event times `[start, end)` in milliseconds since the epoch.
    pub fn ms_range(&self) -> std::ops::Range<i64> {
        let midnight = |day: chrono::NaiveDate| {
            day.and_hms_opt(0, 0, 0)
                .expect("midnight exists")
                .and_utc()
                .timestamp_millis()
        };
        midnight(self.since)..midnight(self.until) + 86_400_000
    }
}

/// An object's bytes, ready to decode.
#[derive(Clone, Debug)]
pub enum Body {
    /// Read from the file as it is decoded.
    File(PathBuf),
    /// Fetched whole.
    Bytes(bytes::Bytes),
}

impl Body {
    /// Opens the bytes from the start (callable more than once).
    pub fn open(&self) -> io::Result<Box<dyn BufRead + Send>> {
        match self {
            Body::File(path) => local::open(path),
            Body::Bytes(bytes) => Ok(Box::new(io::Cursor::new(bytes.clone()))),
        }
    }

    /// All the bytes at once if they are in memory already or a small file (read into
    /// `buffer`, which is cleared first); `None` for a file to stream.
    pub fn whole<'a>(&'a self, buffer: &'a mut Vec<u8>) -> io::Result<Option<&'a [u8]>> {
        match self {
            Body::Bytes(bytes) => Ok(Some(bytes)),
            Body::File(path) => {
                buffer.clear();
                Ok(local::read_whole(path, buffer)?.then_some(buffer.as_slice()))
            }
        }
    }
}

/// The clients sources need; an S3 client only when some input is on S3, a CloudWatch Logs
/// client only when some input is a log group.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    pub s3: Option<aws_sdk_s3::Client>,
    pub cloudwatch: Option<aws_sdk_cloudwatchlogs::Client>,
    /// The log groups (`cwlogs://`) to read.
    pub log_groups: Vec<cloudwatch::LogGroupTarget>,
}

impl SourceObject {
    /// The body of a local file (opened lazily, when decoded); `None` for an object to fetch.
    pub fn local_body(&self) -> Option<Body> {
        match &self.location {
            Location::File(path) => Some(Body::File(path.clone())),
            Location::S3 { .. } => None,
        }
    }
}

impl Sources {
    /// Fetches an object's body (a file is opened lazily, when decoded).
    pub async fn fetch(&self, object: &SourceObject) -> io::Result<Body> {
        match &object.location {
            Location::File(_) => Ok(object.local_body().expect("a local file")),
            Location::S3 { bucket, key } => {
                let client = self
                    .s3
                    .as_ref()
                    .ok_or_else(|| io::Error::other("no S3 client configured"))?;
                let bytes = s3::fetch(client, bucket, key)
                    .await
                    .map_err(io::Error::other)?;
                Ok(Body::Bytes(bytes))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_covers_its_first_day_through_the_end_of_its_last() {
        let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
        let cases = [
            // since, until, first ms inside, first ms after
            (
                "2026-10-01",
                "2026-10-01",
                1_790_812_800_000,
                1_790_899_200_000,
            ),
            (
                "2026-10-31",
                "2026-11-01",
                1_793_404_800_000,
                1_793_577_600_000,
            ),
        ];
        for (since, until, start, end) in cases {
            let window = DateWindow {
                since: day(since),
                until: day(until),
            };
            assert_eq!(window.ms_range(), start..end, "{since}..={until}");
        }
    }
}
