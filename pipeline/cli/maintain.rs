//! `bedrock-ledger maintain`: compact small files and vacuum old ones, table by table, and bring
//! the rollup of every month up to date (compaction rewrites the files a rollup summarizes).

use anyhow::{Context, Result};
use bedrock_ledger::dataset::invocations::stored_months;
use bedrock_ledger::dataset::maintain::{MaintainOptions, maintain_table};
use bedrock_ledger::dataset::retry::RetryPolicy;
use bedrock_ledger::dataset::rollup::{Rollup, refresh_month};
use bedrock_ledger::dataset::{Dataset, DatasetError, Table};

use super::dataset::open_dataset;
use super::{exit, inputs};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The dataset: a directory or `s3://bucket/prefix/`.
    #[arg(long, value_name = "DIR|S3-URI")]
    data: String,
    /// Keep every file a version of the last DAYS days reads, so `--as-of` works for them.
    /// At least the tables' `delta.deletedFileRetentionDuration` (7 days by default).
    #[arg(long, value_name = "DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=36_500))]
    retention_days: u32,
    /// Only list the files vacuum would delete; change nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    aws: inputs::AwsArgs,
}

pub async fn execute(args: Args) -> Result<u8> {
    let dataset = open_dataset(&args.data, &args.aws).await?;
    let options = MaintainOptions {
        retention: chrono::Duration::days(i64::from(args.retention_days)),
        dry_run: args.dry_run,
        retry: RetryPolicy::default(),
        clock: None,
    };
    let rollups = Rollup::ALL.map(Rollup::table);
    for table in [Table::Invocations, Table::Rejects, Table::Ledger]
        .into_iter()
        .chain(rollups)
    {
        if table == rollups[0] && !args.dry_run {
            refresh_rollups(&dataset, options.retry).await?;
        }
        let upkeep = match maintain_table(&dataset, table, &options).await {
            // No month was ever committed: there is no rollup yet.
            Err(DatasetError::NoTable { .. }) if rollups.contains(&table) => continue,
            upkeep => {
                upkeep.with_context(|| format!("maintaining {}", dataset.table_location(table)))?
            }
        };
        if let Some(days) = upkeep.log_retention_raised_to_days {
            eprintln!("{}: log retention raised to {days} days", table.name());
        }
        let vacuumed = upkeep.files_vacuumed.len();
        if args.dry_run {
            for file in &upkeep.files_vacuumed {
                println!("{}\t{file}", table.name());
            }
            eprintln!("{}: vacuum would delete {vacuumed} files", table.name());
        } else {
            eprintln!(
                "{}: {} small files compacted into {}, {vacuumed} files vacuumed, checkpoint at table version {}",
                table.name(),
                upkeep.files_compacted,
                upkeep.files_written,
                upkeep.version
            );
        }
    }
    Ok(exit::OK)
}

/// Brings the rollup of every stored month up to date.
async fn refresh_rollups(dataset: &Dataset, retry: RetryPolicy) -> Result<()> {
    let months = stored_months(dataset)
        .await
        .with_context(|| format!("listing the months of {}", dataset.root()))?;
    for month in &months {
        let refresh = refresh_month(dataset, month, retry)
            .await
            .with_context(|| format!("summing {month} into its rollups"))?;
        if refresh.files_read > 0 {
            eprintln!(
                "rollups: {month} {} from {} files, {} rows",
                if refresh.rebuilt {
                    "rebuilt"
                } else {
                    "extended"
                },
                refresh.files_read,
                refresh.rows
            );
        }
    }
    Ok(())
}
