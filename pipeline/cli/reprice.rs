//! `bedrock-ledger reprice`: recompute every cost from the stored token counts.

use std::path::PathBuf;

use anyhow::{Context, Result};
use bedrock_ledger::dataset::commit::reprice_all;
use bedrock_ledger::dataset::lock::lock_dataset;

use super::dataset::Dataset;
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
    let dataset = Dataset::write(&args.data, &args.aws).await?;
    let layout = &dataset.layout;
    inputs::existing_dataset(layout.root())?;
    let _lock = lock_dataset(layout)?;
    let commits = reprice_all(layout, &prices)
        .await
        .with_context(|| format!("repricing {}", args.data))?;
    let files: Vec<PathBuf> = commits
        .iter()
        .map(|(month, _)| dataset.relative(&layout.month_file(month)))
        .collect();
    dataset.publish(&files).await?;
    for (month, commit) in &commits {
        eprintln!("repriced {month}: {} requests", commit.rows_after);
    }
    eprintln!("price book {} (sha256 {})", prices.origin, prices.sha256);
    dataset.close().await?;
    Ok(exit::OK)
}
