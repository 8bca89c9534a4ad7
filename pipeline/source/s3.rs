//! S3 (and S3-compatible servers) as a source of log objects.
//!
//! Listing is paginated. Under the native layout
//! `AWSLogs/<account>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/`, a date window prunes
//! the listing by key, so a nightly run lists one day per region, not the whole bucket; other
//! layouts are listed whole and filtered by event time after decoding. Requests are retried with
//! backoff on throttling, 5xx and connection errors by the SDK's standard retry policy; a body
//! that breaks off while it streams (which the SDK does not retry) is fetched again, whole, with
//! backoff and jitter ([`network_backoff`]).

use std::sync::Arc;

use aws_sdk_s3::Client;
use backon::Retryable;
use chrono::NaiveDate;

use super::aws::{error_chain, network_backoff};
use super::{DateWindow, Location, SourceObject};

/// The segment after which a native layout has `<region>/YYYY/MM/DD/`.
const NATIVE_MARKER: &str = "BedrockModelInvocationLogs/";

/// `s3://bucket/prefix` split in two.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Prefix {
    pub bucket: String,
    pub prefix: String,
}

/// Parses `s3://bucket[/prefix]`.
pub fn parse_s3_uri(uri: &str) -> Option<S3Prefix> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then(|| S3Prefix {
        bucket: bucket.to_owned(),
        prefix: prefix.to_owned(),
    })
}

/// Why S3 could not be listed or read.
#[derive(Debug, thiserror::Error)]
#[error("s3://{bucket}/{key}: {message}")]
pub struct S3Error {
    pub bucket: String,
    pub key: String,
    pub message: String,
}

fn s3_error(bucket: &str, key: &str, error: impl std::error::Error) -> S3Error {
    S3Error {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        message: error_chain(&error),
    }
}

/// Key prefixes of the days of `window` under a native-layout region prefix.
pub fn day_prefixes(region_prefix: &str, window: &DateWindow) -> Vec<String> {
    let mut days = Vec::new();
    let mut day: NaiveDate = window.since;
    while day <= window.until {
        days.push(format!("{region_prefix}{}/", day.format("%Y/%m/%d")));
        day = day.succ_opt().expect("dates before year 262143");
    }
    days
}

/// True for `.../BedrockModelInvocationLogs/<region>/`.
fn is_native_region_prefix(prefix: &str) -> bool {
    prefix
        .strip_suffix('/')
        .and_then(|p| p.rsplit_once('/'))
        .is_some_and(|(parent, _region)| format!("{parent}/").ends_with(NATIVE_MARKER))
}

/// Lists the objects under `location`, pruned to `window` where the layout allows.
pub async fn list_objects(
    client: &Client,
    location: &S3Prefix,
    window: Option<&DateWindow>,
) -> Result<Vec<SourceObject>, S3Error> {
    let mut objects = Vec::new();
    let mut pending = vec![location.prefix.clone()];
    while let Some(prefix) = pending.pop() {
        match window {
            None => list_flat(client, &location.bucket, &prefix, &mut objects).await?,
            Some(window) if is_native_region_prefix(&prefix) => {
                for day in day_prefixes(&prefix, window) {
                    list_flat(client, &location.bucket, &day, &mut objects).await?;
                }
            }
            Some(_) => {
                let children = list_level(client, &location.bucket, &prefix, &mut objects).await?;
                pending.extend(children);
            }
        }
    }
    objects.sort_by(|a, b| a.uri.cmp(&b.uri));
    Ok(objects)
}

/// Every object under `prefix`.
async fn list_flat(
    client: &Client,
    bucket: &str,
    prefix: &str,
    objects: &mut Vec<SourceObject>,
) -> Result<(), S3Error> {
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| s3_error(bucket, prefix, e))?;
        objects.extend(page.contents().iter().filter_map(|o| object(bucket, o)));
    }
    Ok(())
}

/// The objects directly under `prefix`; returns the sub-prefixes to descend into.
async fn list_level(
    client: &Client,
    bucket: &str,
    prefix: &str,
    objects: &mut Vec<SourceObject>,
) -> Result<Vec<String>, S3Error> {
    let mut children = Vec::new();
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .delimiter("/")
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| s3_error(bucket, prefix, e))?;
        objects.extend(page.contents().iter().filter_map(|o| object(bucket, o)));
        children.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_owned)),
        );
    }
    Ok(children)
}

fn object(bucket: &str, listed: &aws_sdk_s3::types::Object) -> Option<SourceObject> {
    let key = listed.key()?;
    Some(SourceObject {
        uri: Arc::from(format!("s3://{bucket}/{key}")),
        name: key.to_owned(),
        location: Location::S3 {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        },
        size_bytes: listed.size().map_or(0, |s| s.max(0) as u64),
        version: listed.e_tag().unwrap_or_default().to_owned(),
    })
}

/// Fetches one object whole (log objects are at most a few hundred MB compressed). A body cut
/// short (an error while it streams, or fewer bytes than its `Content-Length`) is fetched again.
pub async fn fetch(client: &Client, bucket: &str, key: &str) -> Result<bytes::Bytes, S3Error> {
    let attempt = || async {
        let response = client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| Fetch::Request(s3_error(bucket, key, e)))?;
        let expected = response
            .content_length()
            .and_then(|n| u64::try_from(n).ok());
        let body = response
            .body
            .collect()
            .await
            .map_err(|e| Fetch::CutShort(s3_error(bucket, key, e)))?
            .into_bytes();
        match expected {
            Some(expected) if expected != body.len() as u64 => Err(Fetch::CutShort(S3Error {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                message: format!("body cut short: {} of {expected} bytes", body.len()),
            })),
            _ => Ok(body),
        }
    };
    attempt
        .retry(network_backoff())
        .when(|e| matches!(e, Fetch::CutShort(_)))
        .notify(|error, delay| {
            tracing::debug!(%error, ?delay, "fetching the object again");
        })
        .await
        .map_err(Fetch::into_inner)
}

/// How an attempt at an object failed: the request (already retried by the SDK), or its body.
#[derive(Debug, thiserror::Error)]
enum Fetch {
    #[error(transparent)]
    Request(S3Error),
    #[error(transparent)]
    CutShort(S3Error),
}

impl Fetch {
    fn into_inner(self) -> S3Error {
        match self {
            Fetch::Request(error) | Fetch::CutShort(error) => error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_s3_uris() {
        let cases: &[(&str, Option<(&str, &str)>)] = &[
            ("s3://logs/AWSLogs/", Some(("logs", "AWSLogs/"))),
            ("s3://logs", Some(("logs", ""))),
            ("s3://logs/", Some(("logs", ""))),
            ("s3:///x", None),
            ("/tmp/x", None),
        ];
        for (uri, expected) in cases {
            let parsed = parse_s3_uri(uri);
            assert_eq!(
                parsed
                    .as_ref()
                    .map(|p| (p.bucket.as_str(), p.prefix.as_str())),
                *expected,
                "{uri}"
            );
        }
    }

    #[test]
    fn prunes_native_layouts_to_the_window() {
        let window = DateWindow {
            since: NaiveDate::from_ymd_opt(2025, 9, 30).unwrap(),
            until: NaiveDate::from_ymd_opt(2025, 10, 1).unwrap(),
        };
        let region = "AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/";
        assert_eq!(
            day_prefixes(region, &window),
            [
                format!("{region}2025/09/30/"),
                format!("{region}2025/10/01/")
            ]
        );
        let cases: &[(&str, bool)] = &[
            (region, true),
            ("logs/AWSLogs/1/BedrockModelInvocationLogs/eu-west-1/", true),
            ("AWSLogs/111122223333/BedrockModelInvocationLogs/", false),
            ("AWSLogs/111122223333/", false),
            ("exportedlogs/task/", false),
        ];
        for (prefix, native) in cases {
            assert_eq!(is_native_region_prefix(prefix), *native, "{prefix}");
        }
    }
}
