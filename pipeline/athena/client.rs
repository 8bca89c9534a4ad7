//! Running one statement on Athena: StartQueryExecution, GetQueryExecution polled with
//! exponential backoff until the query ends, Ctrl-C (SIGINT: the tool runs on Unix) turned into
//! StopQueryExecution, and every page of GetQueryResults (1,000 rows each) gathered into one
//! typed result.
//!
//! Throttling and 5xx answers are retried by the SDK (its standard retry policy, configured in
//! [`crate::source::aws::sdk_config`]), and an answer cut short or unreadable by [`resend`];
//! StartQueryExecution carries one idempotency token for all its attempts, so a repeated start
//! does not run the query twice.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState, ResultConfiguration};
use backon::{BackoffBuilder, ExponentialBuilder};
use tokio::signal::unix::{Signal, SignalKind, signal};

use super::AthenaError;
use super::results::{Column, is_header, to_result};
use crate::query::{Engine, EngineKind, QueryError, QueryResult};
use crate::source::aws::{error_chain, resend};

/// How [`AthenaError::Cancelled`] names a cancel asked for by Ctrl-C here.
pub(super) const BY_INTERRUPT: &str = " (interrupted here)";

/// The most rows GetQueryResults returns a page.
const PAGE_ROWS: i32 = 1000;

/// Where queries run.
#[derive(Clone, Debug)]
pub struct AthenaTarget {
    /// The Glue database holding the dataset's tables.
    pub database: String,
    /// `s3://bucket/prefix/` for the result files; `None` leaves it to the workgroup.
    pub output: Option<String>,
    /// The workgroup; `None` is the account's `primary`.
    pub workgroup: Option<String>,
}

/// An Athena client bound to a database.
#[derive(Clone, Debug)]
pub struct Athena {
    client: aws_sdk_athena::Client,
    target: AthenaTarget,
}

impl Athena {
    pub fn new(config: &SdkConfig, target: AthenaTarget) -> Self {
        Athena {
            client: aws_sdk_athena::Client::new(config),
            target,
        }
    }

    /// Starts `sql`; returns the query execution id.
    async fn start(&self, sql: &str) -> Result<String, AthenaError> {
        let mut request = self
            .client
            .start_query_execution()
            .query_string(sql)
            .query_execution_context(
                QueryExecutionContext::builder()
                    .database(&self.target.database)
                    .build(),
            );
        if let Some(output) = &self.target.output {
            request = request.result_configuration(
                ResultConfiguration::builder()
                    .output_location(output)
                    .build(),
            );
        }
        if let Some(workgroup) = &self.target.workgroup {
            request = request.work_group(workgroup);
        }
        // One token for every attempt: Athena starts the query once however often it is sent.
        let request = request.client_request_token(request_token());
        let started = resend(|| request.clone().send())
            .await
            .map_err(|e| AthenaError::Api {
                action: "StartQueryExecution",
                detail: error_chain(&e),
            })?;
        started
            .query_execution_id()
            .map(str::to_owned)
            .ok_or_else(|| AthenaError::Malformed("StartQueryExecution returned no id".into()))
    }

    /// Polls query `id` until it ends; Ctrl-C, from the moment `interrupt` was made, stops it.
    async fn wait(&self, id: &str, interrupt: &mut Signal) -> Result<(), AthenaError> {
        tokio::select! {
            ended = self.poll(id) => ended,
            _ = interrupt.recv() => {
                self.client
                    .stop_query_execution()
                    .query_execution_id(id)
                    .send()
                    .await
                    .map_err(|e| AthenaError::Api {
                        action: "StopQueryExecution",
                        detail: error_chain(&e),
                    })?;
                Err(AthenaError::Cancelled { id: id.to_owned(), by: BY_INTERRUPT })
            }
        }
    }

    async fn poll(&self, id: &str) -> Result<(), AthenaError> {
        let mut delays = poll_delays();
        loop {
            let execution = resend(|| {
                self.client
                    .get_query_execution()
                    .query_execution_id(id)
                    .send()
            })
            .await
            .map_err(|e| AthenaError::Api {
                action: "GetQueryExecution",
                detail: error_chain(&e),
            })?;
            let status = execution.query_execution().and_then(|q| q.status());
            match status.and_then(|s| s.state()) {
                Some(QueryExecutionState::Succeeded) => return Ok(()),
                Some(QueryExecutionState::Failed) => {
                    let status = status.expect("a state comes with its status");
                    let reason = status
                        .athena_error()
                        .and_then(|e| e.error_message())
                        .or(status.state_change_reason())
                        .unwrap_or("Athena gave no reason");
                    return Err(AthenaError::Failed {
                        id: id.to_owned(),
                        reason: reason.to_owned(),
                    });
                }
                Some(QueryExecutionState::Cancelled) => {
                    return Err(AthenaError::Cancelled {
                        id: id.to_owned(),
                        by: " by another client",
                    });
                }
                _ => {
                    let delay = delays.next().unwrap_or(Duration::from_secs(5));
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// Every page of the results of query `id`.
    async fn fetch(&self, id: &str) -> Result<QueryResult, AthenaError> {
        let api_error = |e: &dyn std::error::Error| AthenaError::Api {
            action: "GetQueryResults",
            detail: error_chain(e),
        };
        let request = self
            .client
            .get_query_results()
            .query_execution_id(id)
            .max_results(PAGE_ROWS);
        let mut columns: Option<Vec<Column>> = None;
        let mut rows: Vec<Vec<Option<String>>> = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let page = resend(|| request.clone().set_next_token(next_token.clone()).send())
                .await
                .map_err(|e| api_error(&e))?;
            let first_page = columns.is_none();
            let Some(result_set) = page.result_set() else {
                return Err(AthenaError::Malformed(
                    "GetQueryResults returned no result set".into(),
                ));
            };
            let page_columns = columns.get_or_insert_with(|| {
                result_set
                    .result_set_metadata()
                    .map(|m| m.column_info())
                    .unwrap_or_default()
                    .iter()
                    .map(|c| Column {
                        name: c.name().to_owned(),
                        type_name: c.r#type().to_owned(),
                        precision: c.precision(),
                        scale: c.scale(),
                    })
                    .collect()
            });
            for (index, row) in result_set.rows().iter().enumerate() {
                let values: Vec<Option<String>> = row
                    .data()
                    .iter()
                    .map(|datum| datum.var_char_value().map(str::to_owned))
                    .collect();
                if first_page && index == 0 && is_header(page_columns, &values) {
                    continue;
                }
                if values.len() != page_columns.len() {
                    return Err(AthenaError::Malformed(format!(
                        "a row of {} values for {} columns",
                        values.len(),
                        page_columns.len()
                    )));
                }
                rows.push(values);
            }
            // An unchanged token would ask for the same page again.
            match page.next_token() {
                Some(token) if next_token.as_deref() != Some(token) => {
                    next_token = Some(token.to_owned())
                }
                _ => break,
            }
        }
        to_result(&columns.unwrap_or_default(), &rows)
    }
}

/// A `ClientRequestToken` (32 to 128 characters) unique to one query start.
fn request_token() -> String {
    static STARTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let start = STARTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!(
        "bedrock-ledger-{:08x}-{nanos:032x}-{start:x}",
        std::process::id()
    )
}

/// The waits between polls: 200 ms growing by half each time to 5 s, as long as it runs.
fn poll_delays() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(5))
        .with_factor(1.5)
        .without_max_times()
        .build()
}

#[async_trait::async_trait]
impl Engine for Athena {
    fn kind(&self) -> EngineKind {
        EngineKind::Athena
    }

    async fn run(&self, sql: &str) -> Result<QueryResult, QueryError> {
        // Listening before the start, not from the first poll of `tokio::signal::ctrl_c()`: a
        // Ctrl-C while the start is under way is then held until the id is known, and stops the
        // query instead of killing the process with the query still running in Athena.
        let mut interrupt = signal(SignalKind::interrupt()).map_err(AthenaError::Interrupt)?;
        let id = self.start(sql).await?;
        tracing::info!(query_execution_id = %id, "started an Athena query");
        self.wait(&id, &mut interrupt).await?;
        Ok(self.fetch(&id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_sooner_first_and_at_most_every_five_seconds() {
        let delays: Vec<Duration> = poll_delays().take(12).collect();
        assert_eq!(delays[0], Duration::from_millis(200));
        assert!(delays.windows(2).all(|w| w[0] <= w[1]), "{delays:?}");
        assert_eq!(delays[11], Duration::from_secs(5));
    }
}
