//! `bedrock-ledger query`: run one of the named queries in `queries/`.

use anyhow::{Context, Result, bail};
use bedrock_ledger::query::{Engine, OutputFormat, format_result};
use bedrock_ledger::report::{MonthRange, NAMED_QUERIES, named_query, report_session, run_named};

use super::athena::EngineArgs;
use super::dataset::open_dataset;
use super::{exit, inputs, print_stdout};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The query to run (see --list).
    #[arg(required_unless_present = "list", value_name = "NAME")]
    name: Option<String>,
    /// List the named queries with a one-line description each.
    #[arg(long)]
    list: bool,
    /// The dataset: a directory or `s3://bucket/prefix/` (not needed with --engine athena).
    #[arg(long, value_name = "DIR|S3-URI", required_unless_present_any = ["list", "database"])]
    data: Option<String>,
    /// Only this month (YYYY-MM); default: every month.
    #[arg(long, value_name = "YYYY-MM", value_parser = inputs::month)]
    month: Option<String>,
    #[command(flatten)]
    attribution: inputs::AttributionArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
    /// Read the `invocations` table as it was at this version (see a report's manifest).
    #[arg(long, value_name = "VERSION")]
    as_of: Option<u64>,
    #[command(flatten)]
    engine: EngineArgs,
    #[command(flatten)]
    aws: inputs::AwsArgs,
}

pub async fn execute(args: Args) -> Result<u8> {
    if args.list {
        let width = NAMED_QUERIES
            .iter()
            .map(|q| q.name.len())
            .max()
            .unwrap_or(0);
        let lines: String = NAMED_QUERIES
            .iter()
            .map(|q| format!("{:width$}  {}\n", q.name, q.description()))
            .collect();
        print_stdout(lines.as_bytes())?;
        return Ok(exit::OK);
    }
    let name = args
        .name
        .as_deref()
        .expect("clap requires a name without --list");
    let Some(query) = named_query(name) else {
        bail!("no query named {name:?}; `bedrock-ledger query --list` shows them");
    };
    let months = match &args.month {
        Some(month) => MonthRange::single(month).map_err(anyhow::Error::msg)?,
        None => MonthRange::all(),
    };
    let engine: Box<dyn Engine> = match args.engine.athena(&args.aws).await? {
        Some(athena) => {
            if args.data.is_some() {
                bail!(
                    "--data is not read with --engine athena: Athena reads the tables `athena register` made"
                );
            }
            if args.attribution.given() || args.as_of.is_some() {
                bail!(
                    "with --engine athena, the teams and profiles are those given to `athena register`, and Athena reads the newest version: drop --teams, --profiles and --as-of"
                );
            }
            Box::new(athena)
        }
        None => {
            let data = args.data.as_deref().expect("clap requires --data");
            let (teams, profiles) = args.attribution.load(&args.aws).await?;
            let dataset = open_dataset(data, &args.aws).await?;
            Box::new(
                report_session(&dataset, args.as_of, &teams, &profiles)
                    .await?
                    .0,
            )
        }
    };
    let file = match query.sql_for(engine.kind()) {
        sql if sql == query.sql => format!("queries/{name}.sql"),
        _ => format!("queries/athena/{name}.sql"),
    };
    let result = run_named(engine.as_ref(), query, &months)
        .await
        .with_context(|| format!("running {file}"))?;
    print_stdout(&format_result(&result, args.format)?)?;
    Ok(exit::OK)
}
