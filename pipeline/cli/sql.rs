//! `bedrock-ledger sql`: run SQL over the dataset.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use bedrock_ledger::query::{OutputFormat, format_result, run_statement};
use bedrock_ledger::report::report_session;

use super::dataset::open_dataset;
use super::{exit, inputs, print_stdout};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The dataset: a directory or `s3://bucket/prefix/`.
    #[arg(long, value_name = "DIR|S3-URI")]
    data: String,
    /// The SQL statement (or use --file); it may start with a `--` comment.
    #[arg(
        value_name = "SQL",
        required_unless_present = "file",
        conflicts_with = "file",
        allow_hyphen_values = true
    )]
    sql: Option<String>,
    /// Read the SQL statement from a file.
    #[arg(short, long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
    /// Write the result to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    out: Option<PathBuf>,
    #[command(flatten)]
    attribution: inputs::AttributionArgs,
    /// Read the `invocations` table as it was at this version (see a report's manifest).
    #[arg(long, value_name = "VERSION")]
    as_of: Option<u64>,
    #[command(flatten)]
    aws: inputs::AwsArgs,
}

pub async fn execute(args: Args) -> Result<u8> {
    let sql = match (&args.sql, &args.file) {
        (Some(sql), _) => sql.clone(),
        (None, Some(file)) => {
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?
        }
        (None, None) => unreachable!("clap requires SQL or --file"),
    };
    let (teams, profiles) = args.attribution.load(&args.aws).await?;
    if args.format == OutputFormat::Parquet && args.out.is_none() && std::io::stdout().is_terminal()
    {
        bail!("refusing to write Parquet to a terminal: use --out FILE or redirect stdout");
    }
    let dataset = open_dataset(&args.data, &args.aws).await?;
    let (ctx, _) = report_session(&dataset, args.as_of, &teams, &profiles).await?;
    let result = run_statement(&ctx, &sql, &[]).await?;
    let bytes = format_result(&result, args.format)?;
    match &args.out {
        Some(path) => {
            std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?
        }
        None => print_stdout(&bytes)?,
    }
    Ok(exit::OK)
}
