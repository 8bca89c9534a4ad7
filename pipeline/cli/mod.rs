//! Command-line interface: one module per subcommand (`Args` + `execute`), errors printed with
//! their context chain, and documented exit codes.

mod athena;
mod check;
mod dataset;
mod ingest;
mod inputs;
mod maintain;
mod migrate;
mod prices;
mod query;
mod report;
mod reprice;
mod run;
mod sql;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use clap::{ArgAction, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Exit codes, documented in the README.
pub mod exit {
    pub const OK: u8 = 0;
    pub const ERROR: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const TOO_MANY_REJECTS: u8 = 3;
    /// Other writers kept winning the commits this run needed; nothing half-done is visible.
    pub const RETRY_LATER: u8 = 4;
    /// Something to act on: `prices check` found unpriced usage, `check budgets` an
    /// overspent budget.
    pub const UNPRICED: u8 = 5;
    pub const OVER_BUDGET: u8 = UNPRICED;
    /// Interrupted (Ctrl-C); a query running in Athena was stopped.
    pub const INTERRUPTED: u8 = 130;
}

#[derive(Debug, Parser)]
#[command(
    name = "bedrock-ledger",
    version,
    about = "Amazon Bedrock invocation logs → a Delta Lake ledger of tokens, cost and latency per identity, model and month."
)]
struct Cli {
    /// More log output on stderr (-v: info, -vv: debug). BEDROCK_LEDGER_LOG overrides.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decode log objects (files or directories) into the dataset.
    #[command(
        after_help = "Examples:\n  bedrock-ledger ingest s3://my-log-bucket/AWSLogs/ --since yesterday \\\n    --data ledger/ --profiles profiles.csv\n  # worker 2 of 4, all writing the same table at once:\n  bedrock-ledger ingest s3://my-log-bucket/AWSLogs/ --since yesterday \\\n    --data s3://my-log-bucket/ledger/ --shard 2/4"
    )]
    Ingest(ingest::Args),
    /// The nightly job: ingest, then print per-month totals and write the chargebacks.
    #[command(
        after_help = "Example (the bundled sample):\n  bedrock-ledger run sample/logs --data sample-ledger \\\n    --profiles sample/profiles.csv --teams sample/teams.csv"
    )]
    Run(run::Args),
    /// Run SQL over the dataset's `invocations` and `rejects` tables.
    #[command(
        after_help = "Example:\n  bedrock-ledger sql --data sample-ledger \\\n    \"SELECT model, count(*) AS requests FROM invocations GROUP BY model\""
    )]
    Sql(sql::Args),
    /// Run a named query from queries/ (or list them).
    #[command(
        after_help = "Examples:\n  bedrock-ledger query top_spenders --data sample-ledger --month 2026-10 \\\n    --teams sample/teams.csv\n  # in Athena, over the tables `athena register` made:\n  bedrock-ledger query by_identity --engine athena --database ledger \\\n    --athena-output s3://my-athena-results/ --month 2025-10 --format csv"
    )]
    Query(query::Args),
    /// Write a report: the monthly chargeback CSV and manifest, or latency per model.
    #[command(subcommand)]
    #[command(
        after_help = "Example:\n  bedrock-ledger report chargeback --month 2026-10 --data sample-ledger \\\n    --teams sample/teams.csv --out chargeback-2026-10.csv"
    )]
    Report(report::Command),
    /// Recompute every cost in the dataset with a (new) price book, without reading any log.
    #[command(
        after_help = "Example:\n  bedrock-ledger reprice --data sample-ledger --prices prices-new.csv"
    )]
    Reprice(reprice::Args),
    /// Compact small files and delete files older versions no longer need (past a retention).
    #[command(
        after_help = "Examples:\n  bedrock-ledger maintain --data s3://my-log-bucket/ledger/\n  # keep a year of versions readable with --as-of:\n  bedrock-ledger maintain --data sample-ledger --retention-days 365"
    )]
    Maintain(maintain::Args),
    /// Convert a dataset written by release 0.1 (plain Parquet) into Delta tables.
    #[command(
        after_help = "Examples:\n  bedrock-ledger migrate --data sample-ledger\n  # into a new location, leaving the old dataset as it is:\n  bedrock-ledger migrate --data s3://my-log-bucket/ledger/ \\\n    --to s3://my-log-bucket/ledger-delta/"
    )]
    Migrate(migrate::Args),
    /// Keep the price book current: import AWS Price List offers, check a dataset's coverage.
    #[command(subcommand)]
    #[command(
        after_help = "Example:\n  bedrock-ledger prices check --data sample-ledger --month 2026-10"
    )]
    Prices(prices::Command),
    /// Run the checks a nightly job alerts on: spend against monthly budgets per team or identity.
    #[command(subcommand)]
    #[command(
        after_help = "Example:\n  bedrock-ledger check budgets --data sample-ledger --budgets sample/budgets.csv \\\n    --teams sample/teams.csv --month 2026-10"
    )]
    Check(check::Command),
    /// Query the dataset in Amazon Athena: print its DDL, or register it in the Glue catalog.
    #[command(subcommand)]
    #[command(
        after_help = "Example:\n  bedrock-ledger athena register --data s3://my-log-bucket/ledger/ --database ledger \\\n    --teams teams.csv --athena-output s3://my-athena-results/"
    )]
    Athena(athena::Command),
}

/// Parses the command line, runs it and returns the exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    init_logging(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("bedrock-ledger: starting the async runtime: {error}");
            return ExitCode::from(exit::ERROR);
        }
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Ingest(args) => ingest::execute(args).await,
            Command::Run(args) => run::execute(args).await,
            Command::Sql(args) => sql::execute(args).await,
            Command::Query(args) => query::execute(args).await,
            Command::Report(command) => report::execute(command).await,
            Command::Reprice(args) => reprice::execute(args).await,
            Command::Maintain(args) => maintain::execute(args).await,
            Command::Migrate(args) => migrate::execute(args).await,
            Command::Prices(command) => prices::execute(command).await,
            Command::Check(command) => check::execute(command).await,
            Command::Athena(command) => athena::execute(command).await,
        }
    });
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(error) if is_broken_pipe(&error) => ExitCode::from(exit::OK),
        Err(error) if is_interrupt(&error) => {
            eprintln!("bedrock-ledger: {error:#}");
            ExitCode::from(exit::INTERRUPTED)
        }
        Err(error) if is_busy(&error) => {
            eprintln!("bedrock-ledger: {error:#}");
            ExitCode::from(exit::RETRY_LATER)
        }
        Err(error) => {
            eprintln!("bedrock-ledger: {error:#}");
            ExitCode::from(exit::ERROR)
        }
    }
}

fn init_logging(verbose: u8) {
    // delta-rs logs at warning level what is routine for us (a commit retried on top of
    // another writer's), and its kernel logs errors it also returns, which we print.
    let default = match verbose {
        0 => "warn,deltalake_core=error,buoyant_kernel=off",
        1 => "info,deltalake_core=error,buoyant_kernel=off",
        _ => "debug",
    };
    let filter =
        EnvFilter::try_from_env("BEDROCK_LEDGER_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .init();
}

/// `bedrock-ledger sql ... | head` must end quietly.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|e| e.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

/// Ctrl-C stopped an Athena query.
fn is_interrupt(error: &anyhow::Error) -> bool {
    use bedrock_ledger::athena::AthenaError;
    use bedrock_ledger::query::QueryError;
    use bedrock_ledger::report::chargeback::ChargebackError;
    let interrupted = |query: Option<&QueryError>| matches!(query, Some(QueryError::Athena(athena)) if athena.is_interrupt());
    error.chain().any(|e| {
        e.downcast_ref::<AthenaError>()
            .is_some_and(AthenaError::is_interrupt)
            || interrupted(e.downcast_ref::<QueryError>())
            || match e.downcast_ref::<ChargebackError>() {
                Some(ChargebackError::Query(query)) => interrupted(Some(query)),
                _ => false,
            }
    })
}

/// Other writers kept committing to the same data: the scheduler should retry later, not page
/// anyone.
fn is_busy(error: &anyhow::Error) -> bool {
    use bedrock_ledger::dataset::DatasetError;
    use bedrock_ledger::ingest::IngestError;
    error.chain().any(|e| {
        matches!(
            e.downcast_ref::<DatasetError>(),
            Some(DatasetError::Busy { .. })
        ) || matches!(
            e.downcast_ref::<IngestError>(),
            Some(IngestError::Dataset(DatasetError::Busy { .. }))
        )
    })
}

/// Writes `bytes` to `path` atomically (temporary file beside it, then rename).
fn write_file(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use anyhow::Context;
    use bedrock_ledger::dataset::write::AtomicFile;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => std::path::PathBuf::from("."),
    };
    let (atomic, mut file) = AtomicFile::create(&dir, path)?;
    file.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    atomic.commit(file)?;
    Ok(())
}

/// Writes results to stdout.
fn print_stdout(bytes: &[u8]) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(bytes)?;
    stdout.flush()
}
