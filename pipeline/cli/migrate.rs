//! `bedrock-ledger migrate`: convert a dataset of release 0.1 (plain Parquet) to Delta tables.

use anyhow::{Context, Result};
use bedrock_ledger::dataset::migrate::migrate;

use super::dataset::open_dataset;
use super::{exit, inputs};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The dataset written by release 0.1: a directory or `s3://bucket/prefix/`.
    #[arg(long, value_name = "DIR|S3-URI")]
    data: String,
    /// Write the tables here (an empty location) and leave `--data` as it is; without it the
    /// dataset is converted in place, its old files deleted once the new tables check out.
    #[arg(long, value_name = "DIR|S3-URI")]
    to: Option<String>,
    #[command(flatten)]
    aws: inputs::AwsArgs,
}

pub async fn execute(args: Args) -> Result<u8> {
    let from = open_dataset(&args.data, &args.aws).await?;
    let to = match &args.to {
        Some(to) => open_dataset(to, &args.aws).await?,
        None => from.clone(),
    };
    let work = tempfile::tempdir().context("creating a working directory")?;
    let migration = migrate(&from, &to, work.path())
        .await
        .with_context(|| format!("migrating {}", args.data))?;
    for (month, totals) in &migration.months {
        eprintln!(
            "{month}: {} requests, {} USD, the same before and after",
            totals.requests,
            if totals.cost_usd.is_empty() {
                "no priced"
            } else {
                &totals.cost_usd
            }
        );
    }
    eprintln!(
        "rejects: {}, ledger entries: {}, the same before and after; {} old files deleted",
        migration.rejects, migration.ledger_entries, migration.old_files_deleted
    );
    eprintln!("Delta tables at {}", to.root());
    Ok(exit::OK)
}
