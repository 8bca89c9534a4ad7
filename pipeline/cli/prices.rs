//! `bedrock-ledger prices`: keep the price book current. `import` turns AWS Price List offer
//! files into a book and shows what changed; `check` finds the usage a book leaves unpriced.

use std::path::PathBuf;

use anyhow::{Context, Result};
use bedrock_ledger::query::{OutputFormat, format_result};
use bedrock_ledger::report::coverage::{Coverage, check_coverage, coverage_table};
use bedrock_ledger::report::report_session;

use super::dataset::read_root;
use super::{exit, inputs, print_stdout};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the usage in the dataset that the price book does not price; exit 5 if there is any.
    #[command(after_help = CHECK_EXAMPLE)]
    Check(CheckArgs),
}

const CHECK_EXAMPLE: &str = "\
Example (nightly, after ingest; exit 5 means some usage has no price):
  bedrock-ledger prices check --data s3://my-log-bucket/ledger/ --month 2026-11";

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The dataset: a directory or `s3://bucket/prefix/`.
    #[arg(long, value_name = "DIR|S3-URI")]
    data: String,
    /// The price book to check (default: the one shipped with the binary).
    #[arg(long, value_name = "FILE")]
    prices: Option<PathBuf>,
    /// Only this month (YYYY-MM); default: every month.
    #[arg(long, value_name = "YYYY-MM", value_parser = inputs::month)]
    month: Option<String>,
    /// Output format of the list.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
    #[command(flatten)]
    aws: inputs::AwsArgs,
}

pub async fn execute(command: Command) -> Result<u8> {
    match command {
        Command::Check(args) => execute_check(args).await,
    }
}

async fn execute_check(args: CheckArgs) -> Result<u8> {
    let prices = inputs::prices(args.prices.as_deref())?;
    let root = read_root(&args.data, &args.aws).await?;
    let ctx = report_session(&root, &Default::default(), &Default::default()).await?;
    let months: Vec<String> = args.month.into_iter().collect();
    let coverage = check_coverage(&ctx, &prices.book, &months)
        .await
        .with_context(|| format!("checking {} against {}", args.data, prices.origin))?;
    if coverage.unpriced.is_empty() {
        eprintln!(
            "every one of {} request(s) with usage is priced by {}",
            coverage.requests_with_usage, prices.origin
        );
        return Ok(exit::OK);
    }
    print_stdout(&format_result(&coverage_table(&coverage)?, args.format)?)?;
    eprintln!("{}", unpriced_summary(&coverage, &prices.origin));
    Ok(exit::UNPRICED)
}

/// One line saying how much usage a book leaves unpriced.
pub fn unpriced_summary(coverage: &Coverage, origin: &str) -> String {
    format!(
        "{} of {} request(s) with usage are not priced by {} ({} group(s) above); add their \
         rates to the price book and run `bedrock-ledger reprice`",
        coverage.unpriced_requests(),
        coverage.requests_with_usage,
        origin,
        coverage.unpriced.len()
    )
}
