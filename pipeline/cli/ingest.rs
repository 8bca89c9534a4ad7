//! `bedrock-ledger ingest`: decode log objects into the dataset.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use bedrock_ledger::dataset::Dataset;
use bedrock_ledger::dataset::retry::RetryPolicy;
use bedrock_ledger::ingest::shard::Shard;
use bedrock_ledger::ingest::{IngestOptions, IngestReport, ingest};

use super::dataset::open_dataset;
use super::{exit, inputs};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Log files, directories (walked recursively), `s3://bucket/prefix` or
    /// `cwlogs://<log-group>[/<stream-prefix>]`, in any delivery shape.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// The dataset: a directory (created if missing) or `s3://bucket/prefix/`.
    #[arg(long, value_name = "DIR|S3-URI")]
    pub data: String,
    /// CSV `arn,model_id[,team,cost_center]` resolving application inference profile ARNs.
    #[arg(long, value_name = "FILE")]
    pub profiles: Option<PathBuf>,
    /// The price book (default: the one shipped with the binary).
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
    /// Forget what was ingested before and rebuild the dataset from the inputs.
    #[arg(long)]
    pub full_refresh: bool,
    /// Only events on or after this UTC date: YYYY-MM-DD, `today`, `yesterday` or `last-month`.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only events on or before this UTC date (same forms; default: today).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Ingest only the K-th of N disjoint subsets of the listed objects (K from 0), so that N
    /// workers can share one listing. Default: AWS_BATCH_JOB_ARRAY_INDEX of
    /// AWS_BATCH_JOB_ARRAY_SIZE when both are set, else everything.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    #[command(flatten)]
    pub aws: inputs::AwsArgs,
}

pub async fn execute(args: Args) -> Result<u8> {
    let (report, _) = ingest_inputs(&args).await?;
    eprintln!("{}", summary_line(&report));
    fail_on_unreadable(&report)?;
    Ok(exit::OK)
}

/// The shard to ingest: `--shard`, else AWS Batch's array index and size, else none.
fn shard(args: &Args) -> Result<Option<Shard>> {
    if args.shard.is_some() {
        return Ok(args.shard);
    }
    let var = |name: &str| std::env::var(name).ok();
    Shard::from_batch_array(
        var("AWS_BATCH_JOB_ARRAY_INDEX").as_deref(),
        var("AWS_BATCH_JOB_ARRAY_SIZE").as_deref(),
    )
    .transpose()
    .context("reading AWS_BATCH_JOB_ARRAY_INDEX and AWS_BATCH_JOB_ARRAY_SIZE")
}

/// Runs the ingest that `ingest` and `run` share, and returns the dataset it wrote.
pub async fn ingest_inputs(args: &Args) -> Result<(IngestReport, Dataset)> {
    let profiles = inputs::profiles(args.profiles.as_deref(), &args.aws).await?;
    let prices = inputs::prices(args.prices.as_deref())?;
    let window = inputs::window(args.since.as_deref(), args.until.as_deref())?;
    let shard = shard(args)?;
    let listing = std::time::Instant::now();
    let (objects, sources) = inputs::list_inputs(&args.inputs, window.as_ref(), &args.aws).await?;
    tracing::info!(
        target: "inputs_listed",
        objects = objects.len(),
        log_groups = sources.log_groups.len(),
        seconds = listing.elapsed().as_secs_f64(),
        "listed"
    );
    let dataset = open_dataset(&args.data, &args.aws).await?;
    let options = IngestOptions {
        profiles: &profiles,
        prices: &prices,
        progress: std::io::stderr().is_terminal(),
        full_refresh: args.full_refresh,
        window,
        sources: &sources,
        shard,
        retry: RetryPolicy::default(),
    };
    let report = ingest(objects, &dataset, options)
        .await
        .with_context(|| match shard {
            Some(shard) => format!("ingesting shard {shard} into {}", args.data),
            None => format!("ingesting into {}", args.data),
        })?;
    Ok((report, dataset))
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
    let in_dataset = match report.objects_in_dataset {
        0 => String::new(),
        n => format!(" ({n} listed object(s) inside the dataset itself left out)"),
    };
    if report.objects_read == 0 && report.log_groups_read == 0 && report.failed.is_empty() {
        return format!(
            "nothing new: {} object(s) already ingested unchanged, no log object read{in_dataset}",
            report.objects_unchanged
        );
    }
    let kinds: Vec<String> = report
        .objects_by_kind
        .iter()
        .map(|(kind, n)| format!("{n} {kind}"))
        .collect();
    let duplicates = report.decoded_rows.saturating_sub(report.new_rows());
    format!(
        "objects: {} read ({}), {} log group(s) read, {} skipped as noise, {} unchanged since an earlier run, {} changed and re-read, {} unreadable; records: {} decoded, {} outside --since/--until, {} new, {} already present or duplicated; {} noise events; {} rejected ({:.2}%){in_dataset}",
        report.objects_read,
        kinds.join(", "),
        report.log_groups_read,
        report.objects_skipped(),
        report.objects_unchanged,
        report.objects_changed,
        report.failed.len(),
        report.decoded_rows,
        report.outside_window,
        report.new_rows(),
        duplicates,
        report.noise_events,
        report.rejects,
        report.reject_ratio() * 100.0,
    )
}
