//! `--data`: a local directory or `s3://bucket/prefix/`, opened as a [`Dataset`] that reads and
//! writes in place through one object store (aws-config's credentials for S3).

use std::path::Path;

use anyhow::{Context, Result};
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
    let prefix = location.prefix.trim_end_matches('/');
    let root = if prefix.is_empty() {
        format!("s3://{}/", location.bucket)
    } else {
        format!("s3://{}/{prefix}/", location.bucket)
    };
    Ok(Dataset::in_store(&root, store)?)
}
