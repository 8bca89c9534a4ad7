//! `bedrock-ledger athena`: make the dataset's tables queryable in Amazon Athena, as DDL to read
//! or run (`ddl`) or straight into the Glue Data Catalog (`register`); and the flags with which
//! `query` and `report chargeback` run on Athena instead of here.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use bedrock_ledger::athena::catalog::{Registration, register};
use bedrock_ledger::athena::ddl::{AthenaCatalog, Attribution};
use bedrock_ledger::athena::{Athena, AthenaTarget};
use bedrock_ledger::query::EngineKind;
use bedrock_ledger::source::aws::sdk_config;

use super::dataset::{dataset_root, open_dataset};
use super::{exit, inputs, print_stdout};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the DDL that makes the dataset's tables queryable in Athena.
    #[command(
        after_help = "Example:\n  bedrock-ledger athena ddl --data s3://my-log-bucket/ledger/ --database ledger \\\n    --teams teams.csv"
    )]
    Ddl(DdlArgs),
    /// Create or update the database, tables and views in the Glue Data Catalog (idempotent).
    #[command(
        after_help = "Example:\n  bedrock-ledger athena register --data s3://my-log-bucket/ledger/ --database ledger \\\n    --teams teams.csv --profiles profiles.csv --athena-output s3://my-athena-results/"
    )]
    Register(RegisterArgs),
}

#[derive(Debug, clap::Args)]
pub struct DdlArgs {
    /// The dataset: `s3://bucket/prefix/`.
    #[arg(long, value_name = "S3-URI")]
    data: String,
    /// The Glue database to put the tables in (lower-case letters, digits and _).
    #[arg(long, value_name = "DB")]
    database: String,
    /// CSV `pattern,team,cost_center` attributing identities to teams: adds the `teams` table
    /// and the `charged_invocations` view (which `query chargeback` and `report chargeback` read).
    #[arg(long, value_name = "FILE")]
    teams: Option<PathBuf>,
    /// CSV `arn,model_id[,team,cost_center]` of application inference profiles: their team tags
    /// come first in `charged_invocations`.
    #[arg(long, value_name = "FILE")]
    profiles: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct RegisterArgs {
    #[command(flatten)]
    catalog: DdlArgs,
    /// `s3://bucket/prefix/` for the results of the `CREATE VIEW` statements (default: the
    /// workgroup's result location).
    #[arg(long, value_name = "S3-URI")]
    athena_output: Option<String>,
    /// The Athena workgroup that creates the views (default: primary).
    #[arg(long, value_name = "NAME")]
    workgroup: Option<String>,
    #[command(flatten)]
    aws: inputs::AwsArgs,
}

/// `--engine` and what running on Athena needs, shared by `query` and `report chargeback`.
#[derive(Debug, Clone, clap::Args)]
pub struct EngineArgs {
    /// Where the SQL runs: here over the dataset, or in Amazon Athena over the same tables in
    /// S3 (registered with `bedrock-ledger athena register`).
    #[arg(long, value_enum, value_name = "ENGINE", default_value_t = EngineKind::Local)]
    pub engine: EngineKind,
    /// The Glue database holding the tables (with --engine athena).
    #[arg(long, value_name = "DB", required_if_eq("engine", "athena"))]
    pub database: Option<String>,
    /// `s3://bucket/prefix/` for Athena's result files (default: the workgroup's).
    #[arg(long, value_name = "S3-URI")]
    pub athena_output: Option<String>,
    /// The Athena workgroup (default: primary).
    #[arg(long, value_name = "NAME")]
    pub workgroup: Option<String>,
}

impl EngineArgs {
    /// The Athena client these flags name (`--engine athena`), or `None` for the local engine.
    pub async fn athena(&self, aws: &inputs::AwsArgs) -> Result<Option<Athena>> {
        if self.engine == EngineKind::Local {
            if self.database.is_some() || self.athena_output.is_some() || self.workgroup.is_some() {
                bail!("--database, --athena-output and --workgroup need --engine athena");
            }
            return Ok(None);
        }
        let database = self
            .database
            .clone()
            .expect("clap requires --database with --engine athena");
        let config = sdk_config(&aws.options()).await;
        Ok(Some(Athena::new(
            &config,
            AthenaTarget {
                database,
                output: self.athena_output.clone(),
                workgroup: self.workgroup.clone(),
            },
        )))
    }
}

pub async fn execute(command: Command) -> Result<u8> {
    match command {
        Command::Ddl(args) => {
            let catalog = plan(&args, &inputs::AwsArgs::default()).await?;
            print_stdout(catalog.ddl().as_bytes())?;
            Ok(exit::OK)
        }
        Command::Register(args) => execute_register(args).await,
    }
}

async fn plan(args: &DdlArgs, aws: &inputs::AwsArgs) -> Result<AthenaCatalog> {
    let root = dataset_root(&args.data)?;
    let teams = inputs::teams(args.teams.as_deref(), aws).await?;
    let profiles = inputs::profiles(args.profiles.as_deref(), aws).await?;
    let attribution = (args.teams.is_some() || args.profiles.is_some()).then_some(Attribution {
        teams: &teams,
        profiles: &profiles,
    });
    Ok(AthenaCatalog::plan(&root, &args.database, attribution)?)
}

async fn execute_register(args: RegisterArgs) -> Result<u8> {
    let catalog = plan(&args.catalog, &args.aws).await?;
    let dataset = open_dataset(&args.catalog.data, &args.aws).await?;
    let config = sdk_config(&args.aws.options()).await;
    let glue = aws_sdk_glue::Client::new(&config);
    let athena = Athena::new(
        &config,
        AthenaTarget {
            database: catalog.database.clone(),
            output: args.athena_output.clone(),
            workgroup: args.workgroup.clone(),
        },
    );
    let Registration {
        created,
        updated,
        unchanged,
    } = register(&catalog, &dataset, &glue, &athena)
        .await
        .with_context(|| {
            format!(
                "registering {} in the Glue database {}",
                args.catalog.data, catalog.database
            )
        })?;
    let views: Vec<&str> = catalog.views.iter().map(|v| v.name).collect();
    eprintln!(
        "Glue database {}: created: {}; updated: {}; unchanged: {}; views created by Athena: {}",
        catalog.database,
        list(&created),
        list(&updated),
        list(&unchanged),
        views.join(", ")
    );
    Ok(exit::OK)
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}
