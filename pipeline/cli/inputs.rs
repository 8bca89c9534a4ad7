//! Loading the files that steer a run (profile map, price book, teams), refusing bad ones with
//! the file named before any work starts.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use bedrock_ledger::attribution::TeamRules;
use bedrock_ledger::normalize::ProfileMap;
use bedrock_ledger::pricing::PriceBookInUse;
use bedrock_ledger::source::aws::{
    AddressingStyle, AwsOptions, s3_client, s3_object_store, sdk_config,
};
use bedrock_ledger::source::{DateWindow, SourceObject, Sources, cloudwatch, local, s3};
use chrono::{Datelike, Months, NaiveDate};
use object_store::{ObjectStore, ObjectStoreExt as _};

/// How to reach AWS (or an S3-compatible server), for `s3://` inputs.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AwsArgs {
    /// AWS region (default: the SDK's chain: AWS_REGION, the profile, ...).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Named profile from the AWS config files, SSO profiles included.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Endpoint of an S3-compatible server (or set AWS_ENDPOINT_URL).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// How requests name the bucket: `auto` puts it in the path when an endpoint is given (as
    /// S3-compatible servers need) and in the host name on AWS.
    #[arg(long, value_enum, value_name = "STYLE", default_value_t = AddressingStyle::Auto)]
    pub addressing_style: AddressingStyle,
    /// Same as `--addressing-style path`.
    #[arg(long, conflicts_with = "addressing_style")]
    pub path_style: bool,
}

impl AwsArgs {
    pub fn options(&self) -> AwsOptions {
        AwsOptions {
            region: self.region.clone(),
            profile: self.profile.clone(),
            endpoint_url: self.endpoint_url.clone(),
            addressing: if self.path_style {
                AddressingStyle::Path
            } else {
                self.addressing_style
            },
        }
    }
}

/// Lists every input: local paths walked, `s3://` prefixes listed (pruned to `window` where the
/// layout allows), `cwlogs://` log groups resolved. Returns the objects, sorted by URI, and the
/// clients (and log groups) to read them with.
pub async fn list_inputs(
    inputs: &[String],
    window: Option<&DateWindow>,
    aws: &AwsArgs,
) -> Result<(Vec<SourceObject>, Sources)> {
    let is_remote = |i: &&String| i.starts_with("s3://") || i.starts_with("cwlogs://");
    let (remote, local_paths): (Vec<&String>, Vec<&String>) = inputs.iter().partition(is_remote);
    let paths: Vec<PathBuf> = local_paths.into_iter().map(PathBuf::from).collect();
    let mut objects = local::list_objects(&paths).context("listing inputs")?;
    let mut sources = Sources::default();
    let (log_groups, remote): (Vec<&String>, Vec<&String>) =
        remote.into_iter().partition(|i| i.starts_with("cwlogs://"));
    let options = aws.options();
    let config = if log_groups.is_empty() && remote.is_empty() {
        None
    } else {
        Some(sdk_config(&options).await)
    };
    if !log_groups.is_empty() {
        let client = aws_sdk_cloudwatchlogs::Client::new(config.as_ref().expect("loaded above"));
        for uri in log_groups {
            let path = cloudwatch::parse_cwlogs_uri(uri)
                .with_context(|| format!("{uri} names no log group"))?;
            let target = cloudwatch::resolve_target(&client, path)
                .await
                .with_context(|| format!("finding the log group of {uri}"))?;
            sources.log_groups.push(target);
        }
        sources.cloudwatch = Some(client);
    }
    if !remote.is_empty() {
        let client = s3_client(config.as_ref().expect("loaded above"), &options);
        for uri in remote {
            let prefix = s3::parse_s3_uri(uri)
                .with_context(|| format!("{uri} is not s3://bucket/prefix"))?;
            let listed = s3::list_objects(&client, &prefix, window)
                .await
                .with_context(|| format!("listing {uri}"))?;
            objects.extend(listed);
        }
        sources.s3 = Some(client);
    }
    objects.sort_by(|a, b| a.uri.cmp(&b.uri));
    objects.dedup_by(|a, b| a.uri == b.uri);
    Ok((objects, sources))
}

/// `--since` / `--until` as a window of UTC dates (none when neither is given).
pub fn window(since: Option<&str>, until: Option<&str>) -> Result<Option<DateWindow>> {
    if since.is_none() && until.is_none() {
        return Ok(None);
    }
    let today = chrono::Utc::now().date_naive();
    let since = match since {
        Some(text) => parse_date(text, today, DateEdge::Start)?,
        None => NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date"),
    };
    let until = match until {
        Some(text) => parse_date(text, today, DateEdge::End)?,
        None => today,
    };
    if since > until {
        bail!("--since {since} is after --until {until}");
    }
    Ok(Some(DateWindow { since, until }))
}

/// Which end of a named period a date names (`last-month` starts and ends on different days).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateEdge {
    Start,
    End,
}

/// A date: `YYYY-MM-DD`, `today`, `yesterday` or `last-month`, relative to `today`.
pub fn parse_date(text: &str, today: NaiveDate, edge: DateEdge) -> Result<NaiveDate> {
    let first_of_month = today.with_day(1).expect("every month has a first day");
    Ok(match text {
        "today" => today,
        "yesterday" => today.pred_opt().expect("a day before"),
        "last-month" => match edge {
            DateEdge::Start => first_of_month - Months::new(1),
            DateEdge::End => first_of_month.pred_opt().expect("a day before"),
        },
        _ => NaiveDate::parse_from_str(text, "%Y-%m-%d").with_context(|| {
            format!("{text:?} is not a date (YYYY-MM-DD, today, yesterday, last-month)")
        })?,
    })
}

/// `--profiles FILE`: application inference profiles → models (and team tags).
pub async fn profiles(path: Option<&Path>, aws: &AwsArgs) -> Result<ProfileMap> {
    let Some(path) = path else {
        return Ok(ProfileMap::default());
    };
    let bytes = read_settings_file(path, aws).await?;
    ProfileMap::from_csv(bytes.as_slice()).with_context(|| format!("reading {}", path.display()))
}

/// A small file that steers a run: a local path, or `s3://bucket/key` (read with the same AWS
/// settings as the data), so that a scheduled worker reads the files the team keeps in S3.
pub async fn read_settings_file(path: &Path, aws: &AwsArgs) -> Result<Vec<u8>> {
    let text = path.to_string_lossy();
    let Some((store, key)) = s3_object(&text, aws).await? else {
        return std::fs::read(path).with_context(|| format!("reading {}", path.display()));
    };
    let object = store
        .get(&key)
        .await
        .with_context(|| format!("reading {text}"))?;
    let bytes = object
        .bytes()
        .await
        .with_context(|| format!("reading {text}"))?;
    Ok(bytes.to_vec())
}

/// The store and key of `s3://bucket/key` (configured like the SDK), or `None` for anything
/// that is not an S3 URI (a local path).
pub async fn s3_object(
    uri: &str,
    aws: &AwsArgs,
) -> Result<Option<(Arc<dyn ObjectStore>, object_store::path::Path)>> {
    let Some(location) = s3::parse_s3_uri(uri) else {
        return Ok(None);
    };
    if location.prefix.is_empty() || location.prefix.ends_with('/') {
        bail!("{uri} names no object: give s3://bucket/key");
    }
    let options = aws.options();
    let config = sdk_config(&options).await;
    let store = s3_object_store(&location.bucket, &config, &options)
        .with_context(|| format!("connecting to {uri}"))?;
    Ok(Some((
        store,
        object_store::path::Path::from(location.prefix.as_str()),
    )))
}

/// `--prices FILE`, or the price book shipped with the binary.
pub fn prices(path: Option<&Path>) -> Result<PriceBookInUse> {
    let Some(path) = path else {
        return Ok(PriceBookInUse::built_in());
    };
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    PriceBookInUse::parse(&bytes, path.display().to_string())
        .with_context(|| format!("refusing the price book {}", path.display()))
}

/// `--teams FILE`: identity globs → team and cost center.
/// `--teams` and `--profiles`: whom a request is charged to, for the commands that report.
#[derive(Debug, clap::Args)]
pub struct AttributionArgs {
    /// CSV `pattern,team,cost_center`: globs over the identity, or `metadata:KEY=GLOB` over the
    /// request's metadata (people behind a gateway); a file or `s3://bucket/key`.
    #[arg(long, value_name = "FILE")]
    pub teams: Option<PathBuf>,
    /// CSV `arn,model_id[,team,cost_center]` of application inference profiles (their team tags).
    #[arg(long, value_name = "FILE")]
    pub profiles: Option<PathBuf>,
}

impl AttributionArgs {
    /// Whether either file was given.
    pub fn given(&self) -> bool {
        self.teams.is_some() || self.profiles.is_some()
    }

    /// Reads both files (none given: no rules, no profiles).
    pub async fn load(&self, aws: &AwsArgs) -> Result<(TeamRules, ProfileMap)> {
        Ok((
            teams(self.teams.as_deref(), aws).await?,
            profiles(self.profiles.as_deref(), aws).await?,
        ))
    }
}

pub async fn teams(path: Option<&Path>, aws: &AwsArgs) -> Result<TeamRules> {
    let Some(path) = path else {
        return Ok(TeamRules::default());
    };
    let bytes = read_settings_file(path, aws).await?;
    TeamRules::from_csv(bytes.as_slice()).with_context(|| format!("reading {}", path.display()))
}

/// `--month`, checked.
pub fn month(text: &str) -> Result<String, String> {
    bedrock_ledger::report::parse_month(text)
}

/// A report's `--month`: `YYYY-MM`, or the month of `yesterday` (a nightly job's last complete
/// day), or `last-month` (UTC).
pub fn report_month(text: &str) -> Result<String, String> {
    month_relative_to(text, chrono::Utc::now().date_naive())
}

fn month_relative_to(text: &str, today: NaiveDate) -> Result<String, String> {
    match text {
        "yesterday" | "last-month" => {
            let edge = DateEdge::Start;
            let day = parse_date(text, today, edge).map_err(|e| e.to_string())?;
            Ok(day.format("%Y-%m").to_string())
        }
        _ => month(text).map_err(|e| format!("{e}, `yesterday` or `last-month`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dates_relative_to_today() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let cases: &[(&str, DateEdge, NaiveDate)] = &[
            ("today", DateEdge::Start, date(2026, 3, 1)),
            ("yesterday", DateEdge::Start, date(2026, 2, 28)),
            ("yesterday", DateEdge::End, date(2026, 2, 28)),
            ("last-month", DateEdge::Start, date(2026, 2, 1)),
            ("last-month", DateEdge::End, date(2026, 2, 28)),
            ("2025-10-31", DateEdge::End, date(2025, 10, 31)),
        ];
        for (text, edge, expected) in cases {
            assert_eq!(
                parse_date(text, today, *edge).unwrap(),
                *expected,
                "{text} {edge:?}"
            );
        }
        for bad in ["2025-13-01", "tomorrow", "10/31/2025", ""] {
            assert!(parse_date(bad, today, DateEdge::Start).is_err(), "{bad}");
        }
    }

    #[test]
    fn reads_report_months_relative_to_today() {
        let first = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let mid = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap();
        let cases = [
            ("yesterday", first, "2026-02"),
            ("yesterday", mid, "2026-03"),
            ("last-month", mid, "2026-02"),
            ("2025-10", mid, "2025-10"),
        ];
        for (text, today, month) in cases {
            assert_eq!(
                month_relative_to(text, today).as_deref(),
                Ok(month),
                "{text} {today}"
            );
        }
        assert!(month_relative_to("2025-13", mid).is_err());
        assert!(month_relative_to("today", mid).is_err());
    }
}
