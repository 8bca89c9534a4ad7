//! CloudWatch Logs as a source: `cwlogs://<log-group>[/<stream-prefix>]`, read with
//! `FilterLogEvents` page by page until no next token is left (a page can be empty while a token
//! is still set), so nothing is capped the way Logs Insights caps at 10,000 rows. A page whose
//! answer breaks off or does not parse is asked for again (the SDK retries only throttling,
//! 5xx and connection errors), up to 6 times with backoff and jitter.

use aws_sdk_cloudwatchlogs::Client;

use super::aws::{error_chain, resend};

/// A log group and an optional stream-name prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogGroupTarget {
    pub group: String,
    pub stream_prefix: Option<String>,
}

impl LogGroupTarget {
    /// The URI recorded in the ledger for this target.
    pub fn uri(&self) -> String {
        match &self.stream_prefix {
            Some(prefix) => format!("cwlogs://{}/{prefix}", self.group),
            None => format!("cwlogs://{}", self.group),
        }
    }
}

/// One log event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEvent {
    pub stream: String,
    pub event_id: String,
    pub timestamp_ms: i64,
    pub message: String,
}

/// Why CloudWatch Logs could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{target}: {message}")]
pub struct CloudWatchError {
    pub target: String,
    pub message: String,
}

fn error(target: &str, error: impl std::error::Error) -> CloudWatchError {
    CloudWatchError {
        target: target.to_owned(),
        message: error_chain(&error),
    }
}

/// The path of a `cwlogs://` URI (log group, then perhaps a stream prefix).
pub fn parse_cwlogs_uri(uri: &str) -> Option<&str> {
    uri.strip_prefix("cwlogs://")
        .filter(|path| !path.is_empty())
}

/// Splits `path` into the longest existing log group it starts with and the stream prefix after
/// it: group and stream names both contain slashes, so only the service can tell them apart.
pub fn split_target(path: &str, groups: &[String]) -> Option<LogGroupTarget> {
    groups
        .iter()
        .filter(|group| path == group.as_str() || path.starts_with(&format!("{group}/")))
        .max_by_key(|group| group.len())
        .map(|group| {
            let rest = path[group.len()..].trim_start_matches('/');
            LogGroupTarget {
                group: group.clone(),
                stream_prefix: (!rest.is_empty()).then(|| rest.to_owned()),
            }
        })
}

/// Resolves a `cwlogs://` path against the log groups that exist.
pub async fn resolve_target(
    client: &Client,
    path: &str,
) -> Result<LogGroupTarget, CloudWatchError> {
    // Every group that could be the start of `path` shares its first segment.
    let first_segment = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    let prefix = if path.starts_with('/') {
        format!("/{first_segment}")
    } else {
        first_segment.to_owned()
    };
    let mut groups = Vec::new();
    let mut pages = client
        .describe_log_groups()
        .log_group_name_prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| error(path, e))?;
        groups.extend(
            page.log_groups()
                .iter()
                .filter_map(|g| g.log_group_name().map(str::to_owned)),
        );
    }
    split_target(path, &groups).ok_or_else(|| CloudWatchError {
        target: path.to_owned(),
        message: "no such log group".to_owned(),
    })
}

/// Reads every event of `target` with `start_ms <= timestamp < end_ms`, handing each page's
/// events to `on_page`. Returns how many pages were read.
pub async fn filter_events(
    client: &Client,
    target: &LogGroupTarget,
    start_ms: i64,
    end_ms: i64,
    mut on_page: impl FnMut(Vec<LogEvent>),
) -> Result<u64, CloudWatchError> {
    let mut request = client
        .filter_log_events()
        .log_group_name(&target.group)
        .start_time(start_ms)
        .end_time(end_ms);
    if let Some(prefix) = &target.stream_prefix {
        request = request.log_stream_name_prefix(prefix);
    }
    let mut count = 0;
    let mut next_token: Option<String> = None;
    loop {
        let page = resend(|| request.clone().set_next_token(next_token.clone()).send())
            .await
            .map_err(|e| error(&target.uri(), e))?;
        count += 1;
        let events = page
            .events()
            .iter()
            .map(|event| LogEvent {
                stream: event.log_stream_name().unwrap_or_default().to_owned(),
                event_id: event.event_id().unwrap_or_default().to_owned(),
                timestamp_ms: event.timestamp().unwrap_or_default(),
                message: event.message().unwrap_or_default().to_owned(),
            })
            .collect();
        on_page(events);
        // An unchanged token would ask for the same page again.
        match page.next_token() {
            Some(token) if next_token.as_deref() != Some(token) => {
                next_token = Some(token.to_owned())
            }
            _ => return Ok(count),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_group_and_stream_prefix_by_the_groups_that_exist() {
        let groups: Vec<String> = ["/aws/bedrock", "/aws/bedrock/modelinvocations", "other"]
            .map(String::from)
            .to_vec();
        // (path, expected (group, stream prefix))
        type Case<'a> = (&'a str, Option<(&'a str, Option<&'a str>)>);
        let cases: &[Case] = &[
            (
                "/aws/bedrock/modelinvocations",
                Some(("/aws/bedrock/modelinvocations", None)),
            ),
            (
                "/aws/bedrock/modelinvocations/aws/bedrock/modelinvocations",
                Some((
                    "/aws/bedrock/modelinvocations",
                    Some("aws/bedrock/modelinvocations"),
                )),
            ),
            (
                "/aws/bedrock/other-stream",
                Some(("/aws/bedrock", Some("other-stream"))),
            ),
            ("other", Some(("other", None))),
            ("/aws/bedrockx", None),
            ("missing/x", None),
        ];
        for (path, expected) in cases {
            let got = split_target(path, &groups);
            assert_eq!(
                got.as_ref()
                    .map(|t| (t.group.as_str(), t.stream_prefix.as_deref())),
                *expected,
                "{path}"
            );
        }
        let target = split_target("/aws/bedrock/s1", &groups).unwrap();
        assert_eq!(target.uri(), "cwlogs:///aws/bedrock/s1");
    }
}
