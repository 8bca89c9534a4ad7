//! `bedrock-ledger reprice`: recompute every cost from the stored token counts.

use std::path::PathBuf;

use anyhow::{Context, Result};
use bedrock_ledger::dataset::Layout;
use bedrock_ledger::dataset::commit::reprice_all;
use bedrock_ledger::dataset::lock::lock_dataset;

use super::{exit, inputs};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The dataset directory.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// The price book (default: the one shipped with the binary).
    #[arg(long, value_name = "FILE")]
    prices: Option<PathBuf>,
}

pub async fn execute(args: Args) -> Result<u8> {
    let prices = inputs::prices(args.prices.as_deref())?;
    let layout = Layout::new(inputs::existing_dataset(&args.data)?);
    let _lock = lock_dataset(&layout)?;
    let commits = reprice_all(&layout, &prices)
        .await
        .with_context(|| format!("repricing {}", args.data.display()))?;
    for (month, commit) in &commits {
        eprintln!("repriced {month}: {} requests", commit.rows_after);
    }
    eprintln!("price book {} (sha256 {})", prices.origin, prices.sha256);
    Ok(exit::OK)
}
