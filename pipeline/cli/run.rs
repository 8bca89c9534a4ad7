//! `bedrock-ledger run`: the nightly entry point. Ingests, then prints per month what the
//! dataset now holds and what this run added, writes each touched month's chargeback and HTML
//! report, says where the reports are, and exits non-zero when the run went badly.

use std::path::PathBuf;

use anyhow::{Context, Result};
use bedrock_ledger::ingest::IngestReport;
use bedrock_ledger::query::{OutputFormat, format_result, run_statement};
use bedrock_ledger::report::coverage::{Coverage, check_coverage, coverage_table};
use bedrock_ledger::report::report_session;

use super::{exit, ingest, inputs, prices, print_stdout, report};

#[derive(Debug, clap::Args)]
#[group(skip)]
pub struct Args {
    #[command(flatten)]
    pub ingest: ingest::Args,
    /// CSV `pattern,team,cost_center` attributing identities to teams in the chargeback.
    #[arg(long, value_name = "FILE")]
    pub teams: Option<PathBuf>,
    /// Exit with code 3 when rejected lines/objects exceed this fraction of decoded records.
    #[arg(long, value_name = "RATIO", value_parser = parse_ratio)]
    pub max_reject_ratio: Option<f64>,
}

fn parse_ratio(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(ratio) if (0.0..=1.0).contains(&ratio) => Ok(ratio),
        _ => Err(format!("{text:?} is not a ratio between 0 and 1")),
    }
}

pub async fn execute(args: Args) -> Result<u8> {
    let teams = inputs::teams(args.teams.as_deref(), &args.ingest.aws).await?;
    let (report, dataset) = ingest::ingest_inputs(&args.ingest).await?;
    let profiles = inputs::profiles(args.ingest.profiles.as_deref(), &args.ingest.aws).await?;
    let (ctx, version) = report_session(&dataset, None, &teams, &profiles).await?;
    let prices = inputs::prices(args.ingest.prices.as_deref())?;
    let touched: Vec<String> = report.months.keys().cloned().collect();
    let coverage = if touched.is_empty() {
        None
    } else {
        Some(
            check_coverage(&ctx, &prices.book, &touched)
                .await
                .context("checking which requests the price book does not price")?,
        )
    };
    let mut out = String::new();
    if report.months.is_empty() {
        out.push_str("no invocations in this run\n");
    } else {
        let result = run_statement(&ctx, &month_totals_sql(&report), &[])
            .await
            .context("summarizing the months this run touched")?;
        let table = format_result(&result, OutputFormat::Table)?;
        out.push_str(&String::from_utf8_lossy(&table));
    }
    out.push_str(&ingest::summary_line(&report));
    out.push('\n');
    let mut reports = Vec::new();
    for month in report.months.keys() {
        let csv = format!("reports/chargeback-{month}.csv");
        let chargeback = report::build(&ctx, version, month).await?;
        // The manifest first: a CSV is never visible without the manifest that checks it.
        dataset
            .put(
                &format!("reports/chargeback-{month}.manifest.json"),
                report::manifest_bytes(&chargeback)?,
            )
            .await?;
        dataset.put(&csv, chargeback.csv.clone()).await?;
        let html = format!("reports/chargeback-{month}.html");
        let page = report::html_page(&ctx, &chargeback).await?;
        dataset.put(&html, page.into_bytes()).await?;
        out.push_str(&format!(
            "chargeback {month}: {} rows, {} USD, {} unpriced requests ({csv}, table version {})\n",
            chargeback.manifest.rows,
            chargeback.manifest.total_cost_usd,
            chargeback.manifest.unpriced_requests,
            version,
        ));
        reports.push((
            month,
            format!("{}/{html}", args.ingest.data.trim_end_matches('/')),
        ));
    }
    for (month, page) in &reports {
        out.push_str(&format!("HTML report {month}: {page}\n"));
    }
    print_stdout(out.as_bytes())?;
    if let Some(coverage) = coverage.filter(|c| !c.unpriced.is_empty()) {
        warn_unpriced(&coverage, &prices.origin)?;
    }

    ingest::fail_on_unreadable(&report)?;
    if let Some(limit) = args.max_reject_ratio
        && report.reject_ratio() > limit
    {
        eprintln!(
            "bedrock-ledger: {} rejects are {:.2}% of the records, above --max-reject-ratio {limit}; see the rejects table",
            report.rejects,
            report.reject_ratio() * 100.0
        );
        return Ok(exit::TOO_MANY_REJECTS);
    }
    Ok(exit::OK)
}

/// The same list `prices check` prints, on stderr: the run still succeeds, but nobody should
/// read its chargeback without knowing what it leaves out.
fn warn_unpriced(coverage: &Coverage, origin: &str) -> Result<()> {
    let table = format_result(&coverage_table(coverage)?, OutputFormat::Table)?;
    eprintln!(
        "WARNING: usage without a price is NOT in the chargeback totals:\n{}\n{}",
        String::from_utf8_lossy(&table).trim_end(),
        prices::unpriced_summary(coverage, origin)
    );
    Ok(())
}

/// Per touched month: what the dataset holds now, and what this run added.
fn month_totals_sql(report: &IngestReport) -> String {
    let rows: Vec<String> = report
        .months
        .iter()
        .map(|(month, m)| {
            let new = m.commit.inserted;
            format!("('{month}', {new}, {})", m.objects)
        })
        .collect();
    format!(
        "WITH this_run(month, new_requests, objects_read) AS (VALUES {}) \
         SELECT i.month, sum(i.requests) AS requests, max(r.new_requests) AS new_requests, \
           sum(i.failed_requests) AS failed_requests, sum(i.input_tokens) AS input_tokens, \
           sum(i.output_tokens) AS output_tokens, sum(i.cache_read_tokens) AS cache_read_tokens, \
           sum(i.cache_write_tokens) AS cache_write_tokens, \
           sum(i.cache_write_1h_tokens) AS cache_write_1h_tokens, max(r.objects_read) AS objects_read \
         FROM daily_usage i JOIN this_run r ON i.month = r.month \
         GROUP BY i.month ORDER BY i.month",
        rows.join(", ")
    )
}
