//! `bedrock-ledger check`: checks a scheduled job alerts on. `budgets` sets what each team or
//! identity spent in a month, and is forecast to spend by its end, against a budgets file; it
//! exits 5 when a budget is overspent.

use std::path::PathBuf;

use anyhow::{Context, Result};
use bedrock_ledger::budgets::{
    BudgetLine, Budgets, Month, MonthSpend, Status, budget_table, evaluate, month_spend,
};
use bedrock_ledger::pricing::format_micros;
use bedrock_ledger::query::{OutputFormat, format_result};
use bedrock_ledger::report::report_session;
use chrono::{DateTime, NaiveDate};

use super::dataset::open_dataset;
use super::{exit, inputs, print_stdout};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Spent and month-end forecast against each budget of a budgets file; exit 5 if any is
    /// over.
    #[command(after_help = BUDGETS_EXAMPLE)]
    Budgets(BudgetsArgs),
}

const BUDGETS_EXAMPLE: &str = "\
Example (nightly, after `run`; exit 5 means a budget is overspent, named on stderr):
  bedrock-ledger check budgets --data s3://my-log-bucket/ledger/ \\
    --budgets s3://my-log-bucket/config/budgets.csv --teams s3://my-log-bucket/config/teams.csv";

#[derive(Debug, clap::Args)]
pub struct BudgetsArgs {
    /// The dataset: a directory or `s3://bucket/prefix/`.
    #[arg(long, value_name = "DIR|S3-URI")]
    data: String,
    /// CSV `scope,pattern,monthly_usd`: `team` or `identity`, a glob, a budget in USD.
    #[arg(long, value_name = "FILE")]
    budgets: PathBuf,
    /// The month (YYYY-MM, UTC), or the month of `yesterday`, or `last-month`; default: the
    /// current month.
    #[arg(long, value_name = "YYYY-MM", value_parser = month)]
    month: Option<Month>,
    #[command(flatten)]
    attribution: inputs::AttributionArgs,
    /// Read the `invocations` table as it was at this version.
    #[arg(long, value_name = "VERSION")]
    as_of: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
    /// The UTC date to take as today (tests).
    #[arg(long, hide = true, value_name = "YYYY-MM-DD")]
    today: Option<NaiveDate>,
    #[command(flatten)]
    aws: inputs::AwsArgs,
}

pub async fn execute(command: Command) -> Result<u8> {
    match command {
        Command::Budgets(args) => execute_budgets(args).await,
    }
}

async fn execute_budgets(args: BudgetsArgs) -> Result<u8> {
    let budgets = read_budgets(&args).await?;
    let (teams, profiles) = args.attribution.load(&args.aws).await?;
    let today = args
        .today
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    let month = args.month.unwrap_or_else(|| Month::containing(today));
    let dataset = open_dataset(&args.data, &args.aws).await?;
    let (ctx, _) = report_session(&dataset, args.as_of, &teams, &profiles).await?;
    let spend = month_spend(&ctx, &month)
        .await
        .with_context(|| format!("reading the spend of {month} in {}", args.data))?;
    let lines = evaluate(&budgets, &spend, today);
    print_stdout(&format_result(&budget_table(&lines)?, args.format)?)?;

    eprintln!("{}", data_note(&spend, today));
    for line in &lines {
        for warning in warnings(line, &month) {
            eprintln!("{warning}");
        }
    }
    let over = lines.iter().filter(|l| l.status == Status::Over).count();
    if over == 0 {
        return Ok(exit::OK);
    }
    eprintln!("{over} of {} budget(s) over in {month}", lines.len());
    Ok(exit::OVER_BUDGET)
}

/// `--budgets`: a local file or `s3://bucket/key`, refused with its line before any other work.
async fn read_budgets(args: &BudgetsArgs) -> Result<Budgets> {
    let bytes = inputs::read_settings_file(&args.budgets, &args.aws).await?;
    Budgets::from_csv(&bytes)
        .with_context(|| format!("refusing the budgets file {}", args.budgets.display()))
}

/// `--month`, as a report's.
fn month(text: &str) -> Result<Month, String> {
    Month::parse(&inputs::report_month(text)?)
}

/// What the forecasts stand on.
fn data_note(spend: &MonthSpend, today: NaiveDate) -> String {
    let month = spend.month();
    if month.is_over(today) {
        return format!("{month} is over: the forecast is what was spent");
    }
    let newest = spend
        .horizon_ms()
        .and_then(DateTime::from_timestamp_millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    match newest {
        Some(newest) if !spend.progress(today).is_complete() => format!(
            "{month} so far: data up to {newest}; the forecast extrapolates from it to the month's end"
        ),
        _ => format!(
            "{month} has no request to extrapolate from yet: the forecast is what was spent"
        ),
    }
}

/// The lines stderr carries for one budget: overspent, forecast over, spent a lower bound.
fn warnings(line: &BudgetLine<'_>, month: &Month) -> Vec<String> {
    let budget = line.budget;
    let usd = |micros| format!("${}", format_micros(micros));
    let mut warnings = Vec::new();
    match line.status {
        Status::Over => warnings.push(format!(
            "over budget: {budget} spent {} of {} in {month}",
            usd(line.spent_micros()),
            usd(budget.monthly_micros)
        )),
        Status::ForecastOver => warnings.push(format!(
            "warning: {budget} is forecast to spend {} of {} in {month} ({} so far)",
            usd(line.forecast_micros),
            usd(budget.monthly_micros),
            usd(line.spent_micros())
        )),
        Status::Ok => {}
    }
    if line.unpriced_requests > 0 {
        warnings.push(format!(
            "warning: {budget}: {} request(s) in {month} have no price, so spent is a lower \
             bound (`bedrock-ledger prices check` lists them)",
            line.unpriced_requests
        ));
    }
    warnings
}
