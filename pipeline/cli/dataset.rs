//! `--data`: a local directory or `s3://bucket/prefix/`, opened as a [`Dataset`] that reads and
//! writes in place through one object store (aws-config's credentials for S3).

use std::path::Path;

use anyhow::{Context, Result, bail};
use bedrock_ledger::dataset::Dataset;
use bedrock_ledger::source::aws::{s3_object_store, sdk_config};
use bedrock_ledger::source::s3::parse_s3_uri;

use super::inputs::AwsArgs;

/// Opens `data`.
pub async fn open_dataset(data: &str, aws: &AwsArgs) -> Result<Dataset> {
    let Some(location) = parse_s3_uri(data) else {
        return Dataset::local(Path::new(data)).with_context(|| format!("opening {data}"));
    };
    let options = aws.options();
    let config = sdk_config(&options).await;
    let store = s3_object_store(&location.bucket, &config, &options)
        .with_context(|| format!("connecting to {data}"))?;
    Ok(Dataset::in_store(dataset_root(data)?.as_str(), store)?)
}

/// The root of the dataset at `s3://bucket/prefix`, as `s3://bucket/prefix/`.
pub fn dataset_root(data: &str) -> Result<url::Url> {
    let Some(location) = parse_s3_uri(data) else {
        bail!("{data} is not s3://bucket/prefix/");
    };
    let prefix = location.prefix.trim_end_matches('/');
    let root = if prefix.is_empty() {
        format!("s3://{}/", location.bucket)
    } else {
        format!("s3://{}/{prefix}/", location.bucket)
    };
    url::Url::parse(&root).with_context(|| format!("{data} is not a valid S3 location"))
}
