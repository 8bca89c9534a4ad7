//! `athena register`: the [`AthenaCatalog`] of a dataset put into the Glue Data Catalog,
//! idempotently. The database and tables are created, or updated where they differ from what
//! the dataset needs (a rerun that changes nothing writes nothing); the attribution files are
//! uploaded under the dataset; the views are created by Athena itself (`CREATE OR REPLACE
//! VIEW`), which records each view's column types as its engine derives them. Every call is
//! repeated after a network fault ([`resend`]); a create repeated after it landed answers
//! AlreadyExists, which counts as done.

use std::collections::HashMap;

use arrow::datatypes::{DataType, Schema};
use aws_sdk_glue::types::{Column, DatabaseInput, SerDeInfo, StorageDescriptor, Table, TableInput};

use super::ddl::{AthenaCatalog, TableDef, TableFormat};
use super::{Athena, AthenaError};
use crate::dataset::Dataset;
use crate::query::Engine;
use crate::source::aws::{error_chain, resend};

/// What `register` did to each table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Registration {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
}

/// Registers `catalog` for `dataset` through `glue`, and creates its views with `athena`.
pub async fn register(
    catalog: &AthenaCatalog,
    dataset: &Dataset,
    glue: &aws_sdk_glue::Client,
    athena: &Athena,
) -> Result<Registration, AthenaError> {
    ensure_database(glue, &catalog.database).await?;
    for file in &catalog.files {
        dataset
            .put(&file.path, file.bytes.clone())
            .await
            .map_err(|e| AthenaError::Api {
                action: "PutObject",
                detail: e.to_string(),
            })?;
    }
    let mut registration = Registration::default();
    for table in &catalog.tables {
        let input = table_input(table)?;
        let name = table.name.to_owned();
        match put_table(glue, &catalog.database, input).await? {
            TableChange::Created => registration.created.push(name),
            TableChange::Updated => registration.updated.push(name),
            TableChange::Unchanged => registration.unchanged.push(name),
        }
    }
    for view in &catalog.views {
        athena
            .run(&catalog.view_statement(view))
            .await
            .map_err(|e| AthenaError::Api {
                action: "CREATE VIEW",
                detail: format!("{}: {e}", view.name),
            })?;
    }
    Ok(registration)
}

async fn ensure_database(glue: &aws_sdk_glue::Client, name: &str) -> Result<(), AthenaError> {
    match resend(|| glue.get_database().name(name).send()).await {
        Ok(_) => return Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_entity_not_found_exception()) => {}
        Err(e) => {
            return Err(AthenaError::Api {
                action: "GetDatabase",
                detail: error_chain(&e),
            });
        }
    }
    let input = DatabaseInput::builder()
        .name(name)
        .description("Amazon Bedrock invocation logs, by bedrock-ledger")
        .build()
        .map_err(|e| AthenaError::Invalid(e.to_string()))?;
    // Repeated after a fault, a create that landed answers AlreadyExists: fine.
    match resend(|| glue.create_database().database_input(input.clone()).send()).await {
        Ok(_) => Ok(()),
        // Another worker created it first.
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_already_exists_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(AthenaError::Api {
            action: "CreateDatabase",
            detail: error_chain(&e),
        }),
    }
}

enum TableChange {
    Created,
    Updated,
    Unchanged,
}

async fn put_table(
    glue: &aws_sdk_glue::Client,
    database: &str,
    input: TableInput,
) -> Result<TableChange, AthenaError> {
    let existing = match resend(|| {
        glue.get_table()
            .database_name(database)
            .name(input.name())
            .send()
    })
    .await
    {
        Ok(found) => found.table().cloned(),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_entity_not_found_exception()) =>
        {
            None
        }
        Err(e) => {
            return Err(AthenaError::Api {
                action: "GetTable",
                detail: error_chain(&e),
            });
        }
    };
    let Some(existing) = existing else {
        return match resend(|| {
            glue.create_table()
                .database_name(database)
                .table_input(input.clone())
                .send()
        })
        .await
        {
            Ok(_) => Ok(TableChange::Created),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_already_exists_exception()) =>
            {
                update_table(glue, database, input).await
            }
            Err(e) => Err(AthenaError::Api {
                action: "CreateTable",
                detail: error_chain(&e),
            }),
        };
    };
    if already_registered(&existing, &input) {
        Ok(TableChange::Unchanged)
    } else {
        update_table(glue, database, input).await
    }
}

/// Whether `existing` already says what `input` says. Only the fields `input` sets count: Glue
/// adds defaults of its own (bucket counts, compression flags, parameters) to what it stores.
fn already_registered(existing: &Table, input: &TableInput) -> bool {
    let parameters_kept = input.parameters().is_some_and(|wanted| {
        let stored = existing.parameters();
        wanted
            .iter()
            .all(|(k, v)| stored.and_then(|s| s.get(k)) == Some(v))
    });
    let (Some(stored), Some(wanted)) = (existing.storage_descriptor(), input.storage_descriptor())
    else {
        return false;
    };
    let columns = |sd: &StorageDescriptor| -> Vec<(String, Option<String>)> {
        sd.columns()
            .iter()
            .map(|c| (c.name().to_owned(), c.r#type().map(str::to_owned)))
            .collect()
    };
    let serde = |sd: &StorageDescriptor| {
        sd.serde_info().map(|s| {
            (
                s.serialization_library().map(str::to_owned),
                s.parameters().cloned(),
            )
        })
    };
    existing.table_type() == input.table_type()
        && parameters_kept
        && stored.location() == wanted.location()
        && columns(stored) == columns(wanted)
        && stored.input_format() == wanted.input_format()
        && stored.output_format() == wanted.output_format()
        && serde(stored) == serde(wanted)
}

async fn update_table(
    glue: &aws_sdk_glue::Client,
    database: &str,
    input: TableInput,
) -> Result<TableChange, AthenaError> {
    resend(|| {
        glue.update_table()
            .database_name(database)
            .table_input(input.clone())
            .send()
    })
    .await
    .map_err(|e| AthenaError::Api {
        action: "UpdateTable",
        detail: error_chain(&e),
    })?;
    Ok(TableChange::Updated)
}

/// The Glue entry of `table`.
///
/// A Delta table is entered as the Athena guide's `aws glue create-table` example does
/// (<https://docs.aws.amazon.com/athena/latest/ug/delta-lake-tables-syncing-metadata.html>):
/// `spark.sql.sources.provider = delta` and the location also as the SerDe's `path`, which is
/// what Trino's Delta connector reads; plus `table_type = DELTA`, which Athena's own
/// `CREATE EXTERNAL TABLE … TBLPROPERTIES ('table_type' = 'DELTA')` sets. Athena reads the
/// schema from the Delta log; the columns are copied into the catalog all the same, since
/// views over a Delta table need the catalog's schema to match the log's.
fn table_input(table: &TableDef) -> Result<TableInput, AthenaError> {
    let invalid = |e: aws_sdk_glue::error::BuildError| AthenaError::Invalid(e.to_string());
    let columns = |names_and_types: Vec<(String, String)>| {
        names_and_types
            .into_iter()
            .map(|(name, hive_type)| Column::builder().name(name).r#type(hive_type).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(invalid)
    };
    let parameters = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    let (parameters, storage) = match &table.format {
        TableFormat::Delta { schema } => (
            parameters(&[
                ("EXTERNAL", "TRUE"),
                ("spark.sql.sources.provider", "delta"),
                ("table_type", "DELTA"),
            ]),
            StorageDescriptor::builder()
                .location(&table.location)
                .set_columns(Some(columns(hive_columns(schema)?)?))
                .input_format("org.apache.hadoop.mapred.SequenceFileInputFormat")
                .output_format("org.apache.hadoop.hive.ql.io.HiveSequenceFileOutputFormat")
                .serde_info(
                    SerDeInfo::builder()
                        .serialization_library("org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe")
                        .parameters("serialization.format", "1")
                        .parameters("path", &table.location)
                        .build(),
                )
                .build(),
        ),
        TableFormat::Csv { columns: names } => (
            parameters(&[
                ("EXTERNAL", "TRUE"),
                ("classification", "csv"),
                ("skip.header.line.count", "1"),
            ]),
            StorageDescriptor::builder()
                .location(&table.location)
                .set_columns(Some(columns(
                    names
                        .iter()
                        .map(|name| ((*name).to_owned(), "string".to_owned()))
                        .collect(),
                )?))
                .input_format("org.apache.hadoop.mapred.TextInputFormat")
                .output_format("org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat")
                .serde_info(
                    SerDeInfo::builder()
                        .serialization_library("org.apache.hadoop.hive.serde2.OpenCSVSerde")
                        .parameters("separatorChar", ",")
                        .parameters("quoteChar", "\"")
                        .parameters("escapeChar", "\\")
                        .build(),
                )
                .build(),
        ),
    };
    TableInput::builder()
        .name(table.name)
        .table_type("EXTERNAL_TABLE")
        .set_parameters(Some(parameters))
        .set_partition_keys(Some(Vec::new()))
        .storage_descriptor(storage)
        .build()
        .map_err(invalid)
}

/// The columns of `schema` with their Hive type names, as the Glue catalog records them.
fn hive_columns(schema: &Schema) -> Result<Vec<(String, String)>, AthenaError> {
    schema
        .fields()
        .iter()
        .map(|field| {
            let hive_type = match field.data_type() {
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".to_owned(),
                DataType::Boolean => "boolean".to_owned(),
                DataType::Int8 => "tinyint".to_owned(),
                DataType::Int16 => "smallint".to_owned(),
                DataType::Int32 => "int".to_owned(),
                DataType::Int64 => "bigint".to_owned(),
                DataType::Float32 => "float".to_owned(),
                DataType::Float64 => "double".to_owned(),
                DataType::Decimal128(precision, scale) => format!("decimal({precision},{scale})"),
                DataType::Date32 => "date".to_owned(),
                DataType::Timestamp(_, _) => "timestamp".to_owned(),
                other => {
                    return Err(AthenaError::Invalid(format!(
                        "column {} is a {other}, which has no Glue type here",
                        field.name()
                    )));
                }
            };
            Ok((field.name().clone(), hive_type))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::athena::ddl::{AthenaCatalog, Attribution};
    use crate::attribution::TeamRules;
    use crate::normalize::ProfileMap;

    fn catalog() -> AthenaCatalog {
        let root = url::Url::parse("s3://logs/ledger/").unwrap();
        let (teams, profiles) = (TeamRules::default(), ProfileMap::default());
        let attribution = Attribution {
            teams: &teams,
            profiles: &profiles,
        };
        AthenaCatalog::plan(&root, "ledger", Some(attribution)).unwrap()
    }

    #[test]
    fn enters_delta_tables_with_their_location_as_the_serde_path_and_their_columns() {
        let catalog = catalog();
        let input = table_input(&catalog.tables[0]).unwrap();
        assert_eq!(input.name(), "invocations");
        let parameters = input.parameters().unwrap();
        assert_eq!(parameters["spark.sql.sources.provider"], "delta");
        assert_eq!(parameters["table_type"], "DELTA");
        let storage = input.storage_descriptor().unwrap();
        assert_eq!(storage.location(), Some("s3://logs/ledger/invocations/"));
        let serde = storage.serde_info().unwrap().parameters().unwrap();
        assert_eq!(serde["path"], "s3://logs/ledger/invocations/");
        let types: HashMap<&str, &str> = storage
            .columns()
            .iter()
            .map(|c| (c.name(), c.r#type().unwrap()))
            .collect();
        for (name, hive_type) in [
            ("request_id", "string"),
            ("timestamp", "timestamp"),
            ("input_tokens", "bigint"),
            ("cost_usd", "decimal(38,12)"),
            ("usage_reported", "boolean"),
            ("month", "string"),
        ] {
            assert_eq!(types[name], hive_type, "{name}");
        }
        assert!(input.partition_keys().is_empty());
    }

    #[test]
    fn enters_csv_tables_as_strings_past_their_header() {
        let catalog = catalog();
        let teams = catalog.tables.iter().find(|t| t.name == "teams").unwrap();
        let input = table_input(teams).unwrap();
        assert_eq!(input.parameters().unwrap()["skip.header.line.count"], "1");
        let storage = input.storage_descriptor().unwrap();
        assert_eq!(
            storage.serde_info().unwrap().serialization_library(),
            Some("org.apache.hadoop.hive.serde2.OpenCSVSerde")
        );
        assert!(
            storage
                .columns()
                .iter()
                .all(|c| c.r#type() == Some("string"))
        );
    }
}
