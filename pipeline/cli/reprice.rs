//! `bedrock-ledger reprice`: recompute every cost from the stored token counts.

use std::path::PathBuf;

use anyhow::{Context, Result};
use bedrock_ledger::dataset::invocations::{reprice_month, stored_months};
use bedrock_ledger::dataset::retry::RetryPolicy;

use super::dataset::open_dataset;
use super::{exit, inputs};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The dataset: a directory or `s3://bucket/prefix/`.
    #[arg(long, value_name = "DIR|S3-URI")]
    data: String,
    /// The price book (default: the one shipped with the binary).
    #[arg(long, value_name = "FILE")]
    prices: Option<PathBuf>,
    #[command(flatten)]
    aws: inputs::AwsArgs,
}

pub async fn execute(args: Args) -> Result<u8> {
    let prices = inputs::prices(args.prices.as_deref())?;
    let dataset = open_dataset(&args.data, &args.aws).await?;
    let months = stored_months(&dataset)
        .await
        .with_context(|| format!("listing the months of {}", args.data))?;
    let work = tempfile::tempdir().context("creating a working directory")?;
    for month in &months {
        let commit = reprice_month(
            &dataset,
            month,
            &prices,
            work.path(),
            RetryPolicy::default(),
        )
        .await
        .with_context(|| format!("repricing {month} of {}", args.data))?;
        eprintln!(
            "repriced {month}: {} requests (table version {})",
            commit.repriced.unwrap_or(0),
            commit.version
        );
    }
    eprintln!("price book {} (sha256 {})", prices.origin, prices.sha256);
    Ok(exit::OK)
}
