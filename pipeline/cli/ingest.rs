//! `bedrock-ledger ingest`: decode log objects into the dataset.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use bedrock_ledger::dataset::Layout;
use bedrock_ledger::ingest::{IngestOptions, IngestReport, ingest};
use bedrock_ledger::source::local::list_objects;

use super::{exit, inputs};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Log files or directories (walked recursively), in any delivery shape.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// The dataset directory (created if missing).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// CSV `arn,model_id[,team,cost_center]` resolving application inference profile ARNs.
    #[arg(long, value_name = "FILE")]
    pub profiles: Option<PathBuf>,
    /// The price book (default: the one shipped with the binary).
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
}

pub async fn execute(args: Args) -> Result<u8> {
    let report = ingest_inputs(&args).await?;
    eprintln!("{}", summary_line(&report));
    fail_on_unreadable(&report)?;
    Ok(exit::OK)
}

/// Runs the ingest that `ingest` and `run` share.
pub async fn ingest_inputs(args: &Args) -> Result<IngestReport> {
    let profiles = inputs::profiles(args.profiles.as_deref())?;
    let prices = inputs::prices(args.prices.as_deref())?;
    let objects = list_objects(&args.inputs).context("listing inputs")?;
    let layout = Layout::new(&args.data);
    let options = IngestOptions {
        profiles: &profiles,
        prices: &prices,
        progress: std::io::stderr().is_terminal(),
    };
    ingest(objects, &layout, options)
        .await
        .with_context(|| format!("ingesting into {}", args.data.display()))
}

/// Unreadable objects fail the run, after everything else was ingested.
pub fn fail_on_unreadable(report: &IngestReport) -> Result<()> {
    if report.failed.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = report
        .failed
        .iter()
        .map(|f| format!("  {}: {}", f.uri, f.error))
        .collect();
    bail!(
        "{} object(s) could not be read:\n{}",
        report.failed.len(),
        list.join("\n")
    )
}

/// One line saying what an ingest did.
pub fn summary_line(report: &IngestReport) -> String {
    let kinds: Vec<String> = report
        .objects_by_kind
        .iter()
        .map(|(kind, n)| format!("{n} {kind}"))
        .collect();
    let duplicates = report.decoded_rows.saturating_sub(report.new_rows());
    format!(
        "objects: {} read ({}), {} skipped as noise, {} unreadable; records: {} decoded, {} new, {} already present or duplicated; {} noise events; {} rejected ({:.2}%)",
        report.objects_read,
        kinds.join(", "),
        report.objects_skipped(),
        report.failed.len(),
        report.decoded_rows,
        report.new_rows(),
        duplicates,
        report.noise_events,
        report.rejects,
        report.reject_ratio() * 100.0,
    )
}
