//! `bedrock-ledger prices`: keep the price book current. `import` turns AWS Price List offer
//! files into a book and shows what changed; `check` finds the usage a book leaves unpriced.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use bedrock_ledger::pricing::PriceBookInUse;
use bedrock_ledger::pricing::book::write_csv;
use bedrock_ledger::pricing::merge::merge;
use bedrock_ledger::pricing::offer::{ModelMap, Offer, import};
use bedrock_ledger::query::{OutputFormat, format_result};
use bedrock_ledger::report::coverage::{Coverage, check_coverage, coverage_table};
use bedrock_ledger::report::report_session;

use super::dataset::open_dataset;
use super::{exit, inputs, print_stdout, write_file};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Build a price book from AWS Price List offer files and show how it differs from the
    /// current one.
    #[command(after_help = IMPORT_EXAMPLE)]
    Import(ImportArgs),
    /// List the usage in the dataset that the price book does not price; exit 5 if there is any.
    #[command(after_help = CHECK_EXAMPLE)]
    Check(CheckArgs),
}

const IMPORT_EXAMPLE: &str = "\
Example (the monthly refresh, with offers from the public AWS Price List):
  base=https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws
  for o in AmazonBedrock AmazonBedrockFoundationModels AmazonBedrockService; do
    curl -fsS -o $o.json $base/$o/current/index.json
  done
  bedrock-ledger prices import --offer AmazonBedrock.json \\
    --offer AmazonBedrockFoundationModels.json --offer AmazonBedrockService.json \\
    --prices prices.csv --out prices-new.csv
  bedrock-ledger reprice --data ledger/ --prices prices-new.csv";

const CHECK_EXAMPLE: &str = "\
Example (nightly, after ingest; exit 5 means some usage has no price):
  bedrock-ledger prices check --data s3://my-log-bucket/ledger/ --month 2026-11";

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// An offer file (`index.json` of AmazonBedrock, AmazonBedrockFoundationModels or
    /// AmazonBedrockService, whole or for one region). Repeat for several.
    #[arg(long = "offer", value_name = "FILE", required = true)]
    offers: Vec<PathBuf>,
    /// The current price book to compare with and extend (default: the one shipped with the
    /// binary).
    #[arg(long, value_name = "FILE")]
    prices: Option<PathBuf>,
    /// The reviewed map from offer names to model ids (default: the one shipped with the binary,
    /// `pipeline/pricing/offer_models.csv`).
    #[arg(long, value_name = "FILE")]
    models: Option<PathBuf>,
    /// Where to write the new price book.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

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
        Command::Import(args) => execute_import(args),
        Command::Check(args) => execute_check(args).await,
    }
}

fn execute_import(args: ImportArgs) -> Result<u8> {
    let current = inputs::prices(args.prices.as_deref())?;
    let models = match &args.models {
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            ModelMap::from_csv(&bytes).with_context(|| format!("refusing {}", path.display()))?
        }
        None => ModelMap::built_in(),
    };
    let offers = args
        .offers
        .iter()
        .map(|path| read_offer(path))
        .collect::<Result<Vec<_>>>()?;
    let imported = import(&offers, &models);
    for skipped in &imported.not_imported {
        eprintln!(
            "not imported: {} {:?} {}: {}",
            skipped.offer_code, skipped.name, skipped.usage_type, skipped.reason
        );
    }
    let merged = merge(&current.book, imported.rows);
    eprint!("compared with {}:\n{}", current.origin, merged.describe());
    let written = write_csv(&merged.rows);
    // A book that does not read back as valid is never written where someone would use it.
    let book = PriceBookInUse::parse(&written, args.out.display().to_string())
        .context("the merged book does not validate")?;
    write_file(&args.out, &written)?;
    eprintln!(
        "wrote {} ({} rows, sha256 {})",
        args.out.display(),
        merged.rows.len(),
        book.sha256
    );
    Ok(exit::OK)
}

fn read_offer(path: &Path) -> Result<Offer> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Offer::from_json(&bytes, &path.display().to_string())
        .with_context(|| format!("reading the offer file {}", path.display()))
}

async fn execute_check(args: CheckArgs) -> Result<u8> {
    let prices = inputs::prices(args.prices.as_deref())?;
    let dataset = open_dataset(&args.data, &args.aws).await?;
    let (ctx, _) = report_session(&dataset, None, &Default::default(), &Default::default()).await?;
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
