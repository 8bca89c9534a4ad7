//! A dataset kept in S3 (`--data s3://bucket/prefix/`): the same layout as on disk, written with
//! whole-object puts (atomic in S3) and guarded by a lock object created with a conditional put.
//!
//! A writing run works on a local copy: it takes the lock, downloads the dataset, ingests into the
//! copy as it would into a local dataset, then uploads what changed — months first, then rejects,
//! then the ledger — and releases the lock. A run that dies before the ledger is uploaded is
//! repaired by the next one, exactly as on disk. Readers read the files in place
//! ([`super::DatasetRoot::Store`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::put_object::PutObjectError;
use aws_sdk_s3::primitives::ByteStream;
use chrono::Utc;

use super::{DatasetError, Layout};
use crate::source::aws::error_chain;
use crate::source::s3::{S3Prefix, fetch};

/// How long a lock holds without being renewed: a run killed with `kill -9` blocks others at
/// most this long.
const LEASE: Duration = Duration::from_secs(60);
/// How often a running job renews its lease.
const RENEW_EVERY: Duration = Duration::from_secs(20);
/// How often a waiting run looks at the lock again.
const POLL_EVERY: Duration = Duration::from_secs(2);
const LOCK_KEY: &str = "_lock";

/// Why the dataset in S3 could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("s3://{bucket}/{key}: {message}")]
    S3 {
        bucket: String,
        key: String,
        message: String,
    },
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    #[error(
        "another bedrock-ledger run has held s3://{bucket}/{key} for longer than {waited:?} ({holder})"
    )]
    Busy {
        bucket: String,
        key: String,
        holder: String,
        waited: Duration,
    },
}

fn s3_error(bucket: &str, key: &str, error: impl std::error::Error) -> RemoteError {
    RemoteError::S3 {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        message: error_chain(&error),
    }
}

/// A dataset under `s3://bucket/prefix/`.
#[derive(Clone, Debug)]
pub struct RemoteDataset {
    client: Client,
    bucket: String,
    /// Empty, or ends with `/`.
    prefix: String,
}

/// The writer lock of a remote dataset; [`RemoteLock::release`] deletes it. A background task
/// renews the lease while it is held.
#[derive(Debug)]
pub struct RemoteLock {
    dataset: RemoteDataset,
    renewal: tokio::task::JoinHandle<()>,
}

impl RemoteDataset {
    /// The dataset at `location`.
    pub fn new(client: Client, location: S3Prefix) -> Self {
        let prefix = match location.prefix.trim_end_matches('/') {
            "" => String::new(),
            trimmed => format!("{trimmed}/"),
        };
        RemoteDataset {
            client,
            bucket: location.bucket,
            prefix,
        }
    }

    fn key(&self, relative: &str) -> String {
        format!("{}{relative}", self.prefix)
    }

    /// Downloads every dataset file (not the lock, not private `_` paths) into `layout`.
    pub async fn download(&self, layout: &Layout) -> Result<u64, RemoteError> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&self.prefix)
            .into_paginator()
            .send();
        let mut files = 0;
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| s3_error(&self.bucket, &self.prefix, e))?;
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                let relative = &key[self.prefix.len()..];
                if relative.is_empty() || relative.starts_with('_') || relative.ends_with('/') {
                    continue;
                }
                let bytes =
                    fetch(&self.client, &self.bucket, key)
                        .await
                        .map_err(|e| RemoteError::S3 {
                            bucket: self.bucket.clone(),
                            key: key.to_owned(),
                            message: e.message,
                        })?;
                let path = layout.root().join(relative);
                let parent = path.parent().expect("a file in the dataset");
                std::fs::create_dir_all(parent).map_err(|e| DatasetError::io(parent, e))?;
                std::fs::write(&path, &bytes).map_err(|e| DatasetError::io(&path, e))?;
                files += 1;
            }
        }
        Ok(files)
    }

    /// Uploads `relative` (a path inside `layout`) with one put, or deletes it in S3 when it no
    /// longer exists locally.
    pub async fn publish(&self, layout: &Layout, relative: &Path) -> Result<(), RemoteError> {
        let relative_key = relative.to_string_lossy().replace('\\', "/");
        let key = self.key(&relative_key);
        let path = layout.root().join(relative);
        if path.is_file() {
            let body = ByteStream::from_path(&path)
                .await
                .map_err(|e| s3_error(&self.bucket, &key, e))?;
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(&key)
                .body(body)
                .send()
                .await
                .map_err(|e| s3_error(&self.bucket, &key, e))?;
        } else {
            self.delete(&key).await?;
        }
        Ok(())
    }

    /// Takes the writer lock: creates the lock object only if there is none. A lock whose lease
    /// ran out (its holder died) is taken over; a live one is waited for up to `wait`.
    pub async fn lock(&self, wait: Duration) -> Result<RemoteLock, RemoteError> {
        let key = self.key(LOCK_KEY);
        let started = tokio::time::Instant::now();
        loop {
            let created = self
                .client
                .put_object()
                .bucket(&self.bucket)
                .key(&key)
                .if_none_match("*")
                .body(ByteStream::from(lease_text().into_bytes()))
                .send()
                .await;
            match created {
                Ok(_) => break,
                Err(error) if is_precondition_failed(&error) => {
                    let holder = String::from_utf8_lossy(
                        &fetch(&self.client, &self.bucket, &key)
                            .await
                            .map(|b| b.to_vec())
                            .unwrap_or_default(),
                    )
                    .into_owned();
                    if lease_expired(&holder) {
                        // Its holder stopped renewing it: it died. Take it over.
                        self.delete_lock().await?;
                        continue;
                    }
                    if started.elapsed() >= wait {
                        return Err(RemoteError::Busy {
                            bucket: self.bucket.clone(),
                            key,
                            holder: holder.trim().to_owned(),
                            waited: wait,
                        });
                    }
                    tokio::time::sleep(POLL_EVERY).await;
                }
                Err(error) => return Err(s3_error(&self.bucket, &key, error)),
            }
        }
        let renewer = self.clone();
        let renewal = tokio::spawn(async move {
            loop {
                tokio::time::sleep(RENEW_EVERY).await;
                let _ = renewer
                    .client
                    .put_object()
                    .bucket(&renewer.bucket)
                    .key(renewer.key(LOCK_KEY))
                    .body(ByteStream::from(lease_text().into_bytes()))
                    .send()
                    .await;
            }
        });
        Ok(RemoteLock {
            dataset: self.clone(),
            renewal,
        })
    }
}

impl RemoteDataset {
    async fn delete_lock(&self) -> Result<(), RemoteError> {
        self.delete(&self.key(LOCK_KEY)).await
    }

    async fn delete(&self, key: &str) -> Result<(), RemoteError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| s3_error(&self.bucket, key, e))?;
        Ok(())
    }
}

impl RemoteLock {
    /// Stops renewing and deletes the lock object.
    pub async fn release(self) -> Result<(), RemoteError> {
        self.renewal.abort();
        self.dataset.delete_lock().await
    }
}

/// S3 answers a conditional create of an existing object with 412 (or 409 while another
/// conditional write to the key is in flight).
fn is_precondition_failed(error: &SdkError<PutObjectError, HttpResponse>) -> bool {
    error
        .raw_response()
        .is_some_and(|response| matches!(response.status().as_u16(), 412 | 409))
}

/// The lock's content: who holds it and until when (RFC 3339, UTC).
fn lease_text() -> String {
    let until = Utc::now() + chrono::Duration::from_std(LEASE).expect("a short lease");
    format!(
        "pid {} since {} lease-until {}",
        std::process::id(),
        Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )
}

/// Whether a lock's lease has run out (an unreadable lock counts as expired).
fn lease_expired(text: &str) -> bool {
    text.split_whitespace()
        .skip_while(|word| *word != "lease-until")
        .nth(1)
        .and_then(|until| chrono::DateTime::parse_from_rfc3339(until).ok())
        .is_none_or(|until| until < Utc::now())
}

/// A local working copy for a remote dataset, removed when dropped.
pub fn working_copy() -> Result<(tempfile::TempDir, PathBuf), DatasetError> {
    let dir = tempfile::Builder::new()
        .prefix("bedrock-ledger-")
        .tempdir()
        .map_err(|e| DatasetError::io(&std::env::temp_dir(), e))?;
    let root = dir.path().join("data");
    Ok((dir, root))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lease_expiry() {
        let live = lease_text();
        assert!(!lease_expired(&live), "{live}");
        assert!(lease_expired(
            "pid 1 since 2025-01-01T00:00:00Z lease-until 2025-01-01T00:01:00Z"
        ));
        assert!(lease_expired(""));
        assert!(lease_expired("garbage"));
    }
}
