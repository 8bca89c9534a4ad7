//! Retrying a commit that lost a race.
//!
//! Delta commits are optimistic: a writer reads a snapshot, computes its change, and commits it
//! as the next version with a put-if-absent of `_delta_log/<version>.json`. When another writer
//! took that version first, delta-rs checks whether the winner changed what this transaction
//! read (same month partition, files it read removed) and either commits on top of it or fails
//! with a conflict. A conflict means the change must be computed again from a fresh snapshot:
//! [`retry_conflicts`] does that a bounded number of times, with exponential backoff and
//! jitter so that racing workers spread out, then gives up with [`DatasetError::Busy`], which
//! the CLI turns into its "retry later" exit code.
//!
//! A network fault that outlived the object store's own retries (a connection reset while a
//! commit's conditional put was answered, say) is retried the same way: the attempt starts again
//! from a fresh snapshot, so a commit that did land before the fault is found in the table (its
//! requests are then stored, and the new attempt adds none of them twice).

use std::future::Future;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use deltalake::DeltaTableError;
use deltalake::kernel::transaction::TransactionError;

use super::DatasetError;

/// How often and how patiently a commit is retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts before giving up, the first included.
    pub attempts: u32,
    pub min_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 12 attempts over about a minute: enough for a dozen workers committing to one month.
    fn default() -> Self {
        RetryPolicy {
            attempts: 12,
            min_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(10),
        }
    }
}

/// Whether `error` says another writer committed first and the work must be redone.
pub fn is_conflict(error: &DatasetError) -> bool {
    let DatasetError::Delta { source, .. } = error else {
        return false;
    };
    matches!(
        source.as_ref(),
        DeltaTableError::VersionAlreadyExists(_)
            | DeltaTableError::Transaction {
                source: TransactionError::CommitConflict(_)
                    | TransactionError::MaxCommitAttempts(_)
                    | TransactionError::VersionAlreadyExists(_),
            }
    )
}

/// Whether `error` is a network fault that a new attempt may not meet: an object store error
/// from a remote store (S3) that is not an answer about the object (not found, already exists,
/// precondition, permission). Local disk errors (full, read-only) are not transient.
pub fn is_transient(error: &DatasetError) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(store) = current.downcast_ref::<object_store::Error>() {
            return matches!(store, object_store::Error::Generic { store, .. } if *store != "LocalFileSystem");
        }
        source = current.source();
    }
    false
}

/// Runs `attempt` until it succeeds, fails with something other than a conflict or a transient
/// fault, or has failed `policy.attempts` times. Each attempt must start from a fresh snapshot.
pub async fn retry_conflicts<T, F, Fut>(
    location: &str,
    policy: RetryPolicy,
    attempt: F,
) -> Result<T, DatasetError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, DatasetError>>,
{
    let backoff = ExponentialBuilder::default()
        .with_min_delay(policy.min_delay)
        .with_max_delay(policy.max_delay)
        .with_max_times(policy.attempts.saturating_sub(1) as usize)
        .with_jitter();
    attempt
        .retry(backoff)
        .when(|error| is_conflict(error) || is_transient(error))
        .notify(|error, wait| {
            tracing::info!(target: "commit_conflict", %location, ?wait, "{error}; retrying");
        })
        .await
        .map_err(|error| {
            if is_conflict(&error) {
                DatasetError::Busy {
                    location: location.to_owned(),
                    attempts: policy.attempts,
                }
            } else {
                error
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    const QUICK: RetryPolicy = RetryPolicy {
        attempts: 4,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(2),
    };

    fn conflict() -> DatasetError {
        DatasetError::delta(
            "t",
            DeltaTableError::Transaction {
                source: TransactionError::CommitConflict(
                    deltalake::kernel::transaction::CommitConflictError::ConcurrentAppend,
                ),
            },
        )
    }

    #[tokio::test]
    async fn retries_conflicts_then_gives_up_as_busy() {
        let calls = AtomicU32::new(0);
        let third = retry_conflicts("t", QUICK, || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(conflict()),
                _ => Ok(7),
            }
        })
        .await;
        assert_eq!(third.unwrap(), 7);

        calls.store(0, Ordering::SeqCst);
        let never = retry_conflicts("t", QUICK, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(conflict())
        })
        .await;
        assert!(matches!(never, Err(DatasetError::Busy { attempts: 4, .. })));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn does_not_retry_other_errors() {
        let calls = AtomicU32::new(0);
        let failed = retry_conflicts("t", QUICK, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(DatasetError::Invalid("bad".to_owned()))
        })
        .await;
        assert!(matches!(failed, Err(DatasetError::Invalid(_))));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn network_faults_of_a_remote_store_are_transient_and_nothing_else() {
        let store = |store: &'static str| DatasetError::Store {
            location: "s3://b/t/".to_owned(),
            source: object_store::Error::Generic {
                store,
                source: "connection reset by peer".into(),
            },
        };
        let in_delta = DatasetError::delta(
            "s3://b/t/",
            DeltaTableError::Transaction {
                source: TransactionError::ObjectStore {
                    source: object_store::Error::Generic {
                        store: "S3",
                        source: "error sending request".into(),
                    },
                },
            },
        );
        let not_found = DatasetError::Store {
            location: "s3://b/t/".to_owned(),
            source: object_store::Error::NotFound {
                path: "t/_delta_log/1.json".to_owned(),
                source: "404".into(),
            },
        };
        let cases = [
            (store("S3"), true),
            (in_delta, true),
            (store("LocalFileSystem"), false),
            (not_found, false),
            (conflict(), false),
            (DatasetError::Invalid("bad".to_owned()), false),
        ];
        for (error, transient) in cases {
            assert_eq!(is_transient(&error), transient, "{error}");
        }
    }
}
