//! SQL over the dataset, and turning results into bytes for the terminal or a file.
//!
//! The same SQL runs on two engines ([`Engine`]): DataFusion over the dataset on this machine,
//! or Amazon Athena over the same tables in S3. Formatting is a pure function of the batches so
//! it can be tested without a dataset.

pub mod literals;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;

use datafusion::prelude::SessionContext;
use parquet::arrow::ArrowWriter;

use crate::athena::AthenaError;
use crate::dataset::DatasetError;
use crate::dataset::write::dataset_properties;
use literals::{UnboundParameter, bind};

/// How query results are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// An aligned text table.
    Table,
    /// RFC 4180 CSV with a header row.
    Csv,
    /// A JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// A Parquet file (zstd).
    Parquet,
}

/// The result of a query: its schema (also when there are no rows) and its batches.
#[derive(Debug)]
pub struct QueryResult {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

/// Why a query gave no result.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(transparent)]
    Local(#[from] DatasetError),
    #[error(transparent)]
    Athena(#[from] AthenaError),
    #[error(transparent)]
    Unbound(#[from] UnboundParameter),
}

/// Which engine runs the SQL.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineKind {
    /// DataFusion, on this machine, over the dataset where it is (a directory or S3).
    #[default]
    Local,
    /// Amazon Athena, over the tables `athena register` put in the Glue Data Catalog.
    Athena,
}

/// Where SQL runs: [`SessionContext`] (DataFusion, here) or [`crate::athena::Athena`].
#[async_trait::async_trait]
pub trait Engine: Sync {
    fn kind(&self) -> EngineKind;

    /// Runs one statement, `$name` placeholders already bound.
    async fn run(&self, sql: &str) -> Result<QueryResult, QueryError>;
}

#[async_trait::async_trait]
impl Engine for SessionContext {
    fn kind(&self) -> EngineKind {
        EngineKind::Local
    }

    async fn run(&self, sql: &str) -> Result<QueryResult, QueryError> {
        Ok(run_local(self, sql).await?)
    }
}

async fn run_local(ctx: &SessionContext, sql: &str) -> Result<QueryResult, DatasetError> {
    let frame = ctx.sql(sql).await?;
    let schema = SchemaRef::new(frame.schema().as_arrow().clone());
    let batches = frame.collect().await?;
    Ok(QueryResult { schema, batches })
}

/// Runs one SQL statement on `engine`, `$name` placeholders bound to `params` as literals.
pub async fn run_on(
    engine: &dyn Engine,
    sql: &str,
    params: &[(&str, &str)],
) -> Result<QueryResult, QueryError> {
    engine.run(&bind(sql, params)?).await
}

/// Runs one SQL statement in `ctx`, binding `$name` placeholders to `params`.
pub async fn run_statement(
    ctx: &SessionContext,
    sql: &str,
    params: &[(&str, &str)],
) -> Result<QueryResult, DatasetError> {
    let sql = bind(sql, params).map_err(|e| DatasetError::Invalid(e.to_string()))?;
    run_local(ctx, &sql).await
}

/// Renders a result in `format`.
pub fn format_result(result: &QueryResult, format: OutputFormat) -> Result<Vec<u8>, FormatError> {
    let batches = &result.batches;
    let mut out = Vec::new();
    match format {
        OutputFormat::Table => {
            let table = arrow::util::pretty::pretty_format_batches_with_schema(
                result.schema.clone(),
                batches,
            )?;
            out = format!("{table}\n").into_bytes();
        }
        OutputFormat::Csv => {
            let mut writer = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut out);
            if batches.is_empty() {
                writer.write(&RecordBatch::new_empty(result.schema.clone()))?;
            }
            for batch in batches {
                writer.write(batch)?;
            }
        }
        OutputFormat::Json => {
            let mut writer = arrow::json::ArrayWriter::new(&mut out);
            for batch in batches {
                writer.write(batch)?;
            }
            writer.finish()?;
            if batches.iter().all(|b| b.num_rows() == 0) {
                out = b"[]".to_vec();
            }
            out.push(b'\n');
        }
        OutputFormat::Ndjson => {
            let mut writer = arrow::json::LineDelimitedWriter::new(&mut out);
            for batch in batches {
                writer.write(batch)?;
            }
            writer.finish()?;
        }
        OutputFormat::Parquet => {
            let mut writer =
                ArrowWriter::try_new(&mut out, result.schema.clone(), Some(dataset_properties()))?;
            for batch in batches {
                writer.write(batch)?;
            }
            writer.close()?;
        }
    }
    Ok(out)
}

/// Why a result could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("arrow: {0}")]
    Arrow(#[from] ArrowError),
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    fn result(rows: bool) -> QueryResult {
        let schema = Arc::new(Schema::new(vec![
            Field::new("model", DataType::Utf8, true),
            Field::new("requests", DataType::Int64, false),
        ]));
        let batches = if rows {
            vec![
                RecordBatch::try_new(
                    schema.clone(),
                    vec![
                        Arc::new(StringArray::from(vec![Some("amazon.nova-lite-v1:0"), None])),
                        Arc::new(Int64Array::from(vec![3, 12])),
                    ],
                )
                .unwrap(),
            ]
        } else {
            vec![]
        };
        QueryResult { schema, batches }
    }

    #[test]
    fn renders_every_text_format() {
        let cases: &[(OutputFormat, bool, &str)] = &[
            (
                OutputFormat::Table,
                true,
                "+-----------------------+----------+\n\
                 | model                 | requests |\n\
                 +-----------------------+----------+\n\
                 | amazon.nova-lite-v1:0 | 3        |\n\
                 |                       | 12       |\n\
                 +-----------------------+----------+\n",
            ),
            (
                OutputFormat::Table,
                false,
                "+-------+----------+\n| model | requests |\n+-------+----------+\n+-------+----------+\n",
            ),
            (
                OutputFormat::Csv,
                true,
                "model,requests\namazon.nova-lite-v1:0,3\n,12\n",
            ),
            (OutputFormat::Csv, false, "model,requests\n"),
            (
                OutputFormat::Json,
                true,
                "[{\"model\":\"amazon.nova-lite-v1:0\",\"requests\":3},{\"requests\":12}]\n",
            ),
            (OutputFormat::Json, false, "[]\n"),
            (
                OutputFormat::Ndjson,
                true,
                "{\"model\":\"amazon.nova-lite-v1:0\",\"requests\":3}\n{\"requests\":12}\n",
            ),
        ];
        for (format, rows, expected) in cases {
            let bytes = format_result(&result(*rows), *format).unwrap();
            assert_eq!(
                String::from_utf8(bytes).unwrap(),
                *expected,
                "{format:?} rows={rows}"
            );
        }
    }

    #[test]
    fn renders_parquet_that_reads_back() {
        let bytes = format_result(&result(true), OutputFormat::Parquet).unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            bytes::Bytes::from(bytes),
        )
        .unwrap()
        .build()
        .unwrap();
        let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
        assert_eq!(rows, 2);
    }
}
