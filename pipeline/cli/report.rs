//! `bedrock-ledger report`: the monthly chargeback for finance, its HTML report, and latency per
//! model.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use bedrock_ledger::dataset::tables::Table;
use bedrock_ledger::query::{Engine, OutputFormat, format_result};
use bedrock_ledger::reconcile::{self, reconcile, usage_types::UsageTypeMap};
use bedrock_ledger::report::chargeback::{Chargeback, chargeback, month_price_book};
use bedrock_ledger::report::html::{self, monthly_report};
use bedrock_ledger::report::{MonthRange, named_query, report_session, run_named};
use object_store::ObjectStoreExt as _;

use super::athena::EngineArgs;
use super::dataset::open_dataset;
use super::{exit, inputs, print_stdout, write_file};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// The chargeback CSV of one month, with its JSON manifest.
    #[command(
        after_help = "Examples:\n  bedrock-ledger report chargeback --month 2026-10 --data sample-ledger \\\n    --teams sample/teams.csv --out chargeback-2026-10.csv\n  # the same, computed by Athena over the tables `athena register` made:\n  bedrock-ledger report chargeback --month last-month --data s3://my-log-bucket/ledger/ \\\n    --engine athena --database ledger --athena-output s3://my-athena-results/ \\\n    --out s3://my-log-bucket/reports/chargeback.csv"
    )]
    Chargeback(ChargebackArgs),
    /// The month's report for finance and team leads: one self-contained HTML page.
    #[command(
        after_help = "Example:\n  bedrock-ledger report html --month 2026-10 --data sample-ledger \\\n    --teams sample/teams.csv --profiles sample/profiles.csv --out report-2026-10.html\n  # then open report-2026-10.html in a browser, or print it (A4)"
    )]
    Html(HtmlArgs),
    /// p50/p90/p99 and mean latency and time to first byte per model and month.
    #[command(
        after_help = "Example:\n  bedrock-ledger report latency --data sample-ledger --month 2026-10"
    )]
    Latency(LatencyArgs),
    /// Compare the month's ledger with the billed AWS CUR 2.0 and share the bill out to
    /// identities in proportion to their priced cost.
    #[command(
        after_help = "Reads the month's Bedrock line items of an AWS Data Exports CUR 2.0 export (Parquet or\ngzip CSV) and writes, per account, region, model, token kind, scope and tier, the ledger's\ncost, the billed cost and the variance; unmapped usage types and other line items (credits,\ntax, ...) are listed too. With --allocation, each bucket's billed cost is shared to the\nidentities in proportion to their priced cost (docs/reconcile.md).\n\nExample (the bundled sample):\n  bedrock-ledger report reconcile --month 2026-10 --data sample-ledger \\\n    --cur sample/cur/2026-10 --teams sample/teams.csv \\\n    --profiles sample/profiles.csv --out reconcile-2026-10.csv \\\n    --allocation allocation-2026-10.csv"
    )]
    Reconcile(ReconcileArgs),
}

#[derive(Debug, clap::Args)]
pub struct ChargebackArgs {
    /// The month (YYYY-MM, UTC), or the month of `yesterday`, or `last-month`.
    #[arg(long, value_name = "YYYY-MM", value_parser = inputs::report_month)]
    month: String,
    /// The dataset: a directory or `s3://bucket/prefix/`.
    #[arg(long, value_name = "DIR|S3-URI")]
    data: String,
    /// Write the CSV here (a file, or `s3://bucket/key.csv`) and its manifest beside it
    /// (`<name>.manifest.json`); a `{month}` in the name becomes the month. Default: CSV to stdout.
    #[arg(long, value_name = "FILE|S3-URI")]
    out: Option<String>,
    #[command(flatten)]
    attribution: inputs::AttributionArgs,
    /// Fail unless the month was priced with this price book (run `reprice` after changing it).
    #[arg(long, value_name = "FILE")]
    prices: Option<PathBuf>,
    /// Read the `invocations` table as it was at this version: reproduces an issued chargeback
    /// (its manifest's `table_version`) exactly.
    #[arg(long, value_name = "VERSION")]
    as_of: Option<u64>,
    #[command(flatten)]
    engine: EngineArgs,
    #[command(flatten)]
    aws: inputs::AwsArgs,
}

#[derive(Debug, clap::Args)]
pub struct HtmlArgs {
    /// The month (YYYY-MM, UTC), or the month of `yesterday`, or `last-month`.
    #[arg(long, value_name = "YYYY-MM", value_parser = inputs::report_month)]
    month: String,
    /// The dataset: a directory or `s3://bucket/prefix/`.
    #[arg(long, value_name = "DIR|S3-URI")]
    data: String,
    /// Write the page here (a file, or `s3://bucket/key.html`); a `{month}` in the name becomes
    /// the month. Default: stdout.
    #[arg(long, value_name = "FILE|S3-URI")]
    out: Option<String>,
    #[command(flatten)]
    attribution: inputs::AttributionArgs,
    /// Read the `invocations` table as it was at this version (the chargeback manifest's
    /// `table_version`): the page of an issued chargeback, reproduced.
    #[arg(long, value_name = "VERSION")]
    as_of: Option<u64>,
    #[command(flatten)]
    aws: inputs::AwsArgs,
}

#[derive(Debug, clap::Args)]
pub struct LatencyArgs {
    /// The dataset: a directory or `s3://bucket/prefix/`.
    #[arg(long, value_name = "DIR|S3-URI")]
    data: String,
    /// Only this month (YYYY-MM); default: every month.
    #[arg(long, value_name = "YYYY-MM", value_parser = inputs::month)]
    month: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
    /// Read the `invocations` table as it was at this version.
    #[arg(long, value_name = "VERSION")]
    as_of: Option<u64>,
    #[command(flatten)]
    aws: inputs::AwsArgs,
}

#[derive(Debug, clap::Args)]
pub struct ReconcileArgs {
    /// The month (YYYY-MM, UTC), or the month of `yesterday`, or `last-month`.
    #[arg(long, value_name = "YYYY-MM", value_parser = inputs::report_month)]
    month: String,
    /// The dataset: a directory or `s3://bucket/prefix/`.
    #[arg(long, value_name = "DIR|S3-URI")]
    data: String,
    /// The CUR 2.0 export: one data file (`*.parquet`, `*.csv.gz`) or a local directory walked
    /// for them (only the lines of --month's billing period are read).
    #[arg(long, value_name = "PATH")]
    cur: PathBuf,
    /// Write the comparison CSV here (a file or `s3://bucket/key.csv`; a `{month}` in the name
    /// becomes the month). Default: stdout.
    #[arg(long, value_name = "FILE|S3-URI")]
    out: Option<String>,
    /// Also write the allocation CSV here: each identity's share of each billed bucket.
    #[arg(long, value_name = "FILE|S3-URI")]
    allocation: Option<String>,
    #[command(flatten)]
    attribution: inputs::AttributionArgs,
    /// The price book that priced the month (default: the one shipped in the binary); its rates
    /// split the cache-write cost into 5-minute and 1-hour writes.
    #[arg(long, value_name = "FILE")]
    prices: Option<PathBuf>,
    #[command(flatten)]
    aws: inputs::AwsArgs,
}

pub async fn execute(command: Command) -> Result<u8> {
    match command {
        Command::Chargeback(args) => execute_chargeback(args).await,
        Command::Html(args) => execute_html(args).await,
        Command::Latency(args) => execute_latency(args).await,
        Command::Reconcile(args) => execute_reconcile(args).await,
    }
}

async fn execute_chargeback(args: ChargebackArgs) -> Result<u8> {
    let dataset = open_dataset(&args.data, &args.aws).await?;
    let (engine, version): (Box<dyn Engine>, u64) = match args.engine.athena(&args.aws).await? {
        Some(athena) => {
            if args.attribution.given() || args.as_of.is_some() {
                bail!(
                    "with --engine athena, the teams and profiles are those given to `athena register`, and Athena reads the newest version: drop --teams, --profiles and --as-of"
                );
            }
            // The version the manifest records: the newest when the queries start (a commit
            // landing while Athena runs them is not excluded).
            let invocations = dataset.open(Table::Invocations, None).await?;
            (Box::new(athena), invocations.version().unwrap_or(0))
        }
        None => {
            let (teams, profiles) = args.attribution.load(&args.aws).await?;
            let (ctx, version) = report_session(&dataset, args.as_of, &teams, &profiles).await?;
            (Box::new(ctx), version)
        }
    };
    let engine = engine.as_ref();
    if let Some(path) = &args.prices {
        let prices = inputs::prices(Some(path))?;
        let used = month_price_book(engine, &args.month).await?;
        if used.as_deref() != Some(prices.sha256.as_str()) {
            bail!(
                "{} was priced with another price book (sha256 {}); run `bedrock-ledger reprice --data {} --prices {}` first",
                args.month,
                used.as_deref().unwrap_or("unknown"),
                args.data,
                path.display()
            );
        }
    }
    let report = build(engine, version, &args.month).await?;
    warn_unpriced(&report);
    match &args.out {
        Some(out) => {
            let csv = out.replace("{month}", &args.month);
            let manifest = manifest_name(&csv);
            // The manifest first: a CSV is never visible without the manifest that checks it.
            write_output(&manifest, manifest_bytes(&report)?, &args.aws).await?;
            write_output(&csv, report.csv.clone(), &args.aws).await?;
            eprintln!(
                "wrote {csv} ({} rows, total {} USD) and {manifest}",
                report.manifest.rows, report.manifest.total_cost_usd,
            );
        }
        None => print_stdout(&report.csv)?,
    }
    Ok(exit::OK)
}

async fn execute_html(args: HtmlArgs) -> Result<u8> {
    let dataset = open_dataset(&args.data, &args.aws).await?;
    let (teams, profiles) = args.attribution.load(&args.aws).await?;
    let (ctx, version) = report_session(&dataset, args.as_of, &teams, &profiles).await?;
    let chargeback = build(&ctx, version, &args.month).await?;
    let page = html_page(&ctx, &chargeback).await?;
    match &args.out {
        Some(out) => {
            let out = out.replace("{month}", &args.month);
            write_output(&out, page.into_bytes(), &args.aws).await?;
            eprintln!("wrote {out}");
        }
        None => print_stdout(page.as_bytes())?,
    }
    Ok(exit::OK)
}

/// The HTML report of the month of `chargeback` (from [`build`], which refuses a month
/// without invocations).
pub async fn html_page(engine: &dyn Engine, chargeback: &Chargeback) -> Result<String> {
    let report = monthly_report(engine, chargeback)
        .await
        .with_context(|| format!("building the report of {}", chargeback.manifest.month))?;
    Ok(html::render(&report)?)
}

/// Writes `bytes` to a local file (atomically) or to `s3://bucket/key` (one put).
async fn write_output(out: &str, bytes: Vec<u8>, aws: &inputs::AwsArgs) -> Result<()> {
    let Some((store, key)) = inputs::s3_object(out, aws).await? else {
        return write_file(Path::new(out), &bytes);
    };
    store
        .put(&key, bytes.into())
        .await
        .with_context(|| format!("writing {out}"))?;
    Ok(())
}

/// `report.csv` (a path or an S3 key) → `report.manifest.json`.
fn manifest_name(csv: &str) -> String {
    let stem = csv.strip_suffix(".csv").unwrap_or(csv);
    format!("{stem}.manifest.json")
}

pub async fn build(engine: &dyn Engine, table_version: u64, month: &str) -> Result<Chargeback> {
    let report = chargeback(engine, table_version, month)
        .await
        .with_context(|| format!("building the chargeback of {month}"))?;
    if report.manifest.grand_totals.requests == 0 {
        bail!("no invocations in {month}");
    }
    Ok(report)
}

/// Unpriced usage is never a silent $0.
fn warn_unpriced(report: &Chargeback) {
    let manifest = &report.manifest;
    if manifest.unpriced_requests == 0 {
        return;
    }
    eprintln!(
        "WARNING: {} request(s) in {} have no price and are NOT in the totals:",
        manifest.unpriced_requests, manifest.month
    );
    for model in &manifest.unpriced_by_model {
        eprintln!(
            "  {}: {} request(s), {} input + {} cache read + {} cache write + {} output tokens",
            model.model.as_deref().unwrap_or("(unknown model)"),
            model.requests,
            model.input_tokens,
            model.cache_read_tokens,
            model.cache_write_tokens,
            model.output_tokens
        );
    }
    eprintln!("  add their rates to the price book (--prices) and run `bedrock-ledger reprice`");
}

/// The manifest as written: pretty JSON and a final newline.
pub fn manifest_bytes(report: &Chargeback) -> Result<Vec<u8>> {
    let manifest =
        serde_json::to_vec_pretty(&report.manifest).context("serializing the manifest")?;
    Ok([manifest.as_slice(), b"\n"].concat())
}

async fn execute_latency(args: LatencyArgs) -> Result<u8> {
    let dataset = open_dataset(&args.data, &args.aws).await?;
    let months = match &args.month {
        Some(month) => MonthRange::single(month).map_err(anyhow::Error::msg)?,
        None => MonthRange::all(),
    };
    let (ctx, _) = report_session(
        &dataset,
        args.as_of,
        &Default::default(),
        &Default::default(),
    )
    .await?;
    let query = named_query("latency").expect("the latency query ships with the binary");
    let result = run_named(&ctx, query, &months).await?;
    print_stdout(&format_result(&result, args.format)?)?;
    Ok(exit::OK)
}

async fn execute_reconcile(args: ReconcileArgs) -> Result<u8> {
    let dataset = open_dataset(&args.data, &args.aws).await?;
    let (teams, profiles) = args.attribution.load(&args.aws).await?;
    let prices = inputs::prices(args.prices.as_deref())?;
    let (ctx, _) = report_session(&dataset, None, &teams, &profiles).await?;
    let month = &args.month;
    let result = reconcile(
        &ctx,
        month,
        args.cur.clone(),
        &prices,
        &UsageTypeMap::built_in(),
    )
    .await
    .with_context(|| format!("reconciling {month} with {}", args.cur.display()))?;
    eprintln!(
        "read {} CUR file(s): {} row(s), {} Bedrock line(s) of {month}, {} of other billing periods, {} of other services",
        result.files.len(),
        result.rows,
        result.rows - result.other_periods - result.other_services,
        result.other_periods,
        result.other_services
    );
    let csv = reconcile::render::reconcile_csv(month, &result.comparison)?;
    if let Some(path) = &args.allocation {
        let path = path.replace("{month}", month);
        let allocation = reconcile::render::allocation_csv(month, &result.allocation)?;
        write_output(&path, allocation, &args.aws).await?;
        eprintln!("wrote {path} ({} rows)", result.allocation.len());
    }
    match &args.out {
        Some(out) => {
            let out = out.replace("{month}", month);
            write_output(&out, csv, &args.aws).await?;
            eprintln!("wrote {out}");
        }
        None => print_stdout(&csv)?,
    }
    eprint!(
        "{}",
        reconcile::render::summary(month, &result.comparison, &result.allocation)
    );
    Ok(exit::OK)
}
