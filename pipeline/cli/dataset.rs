//! `--data`: a local directory, or `s3://bucket/prefix/`. Readers read an S3 dataset in place;
//! writers work on a local copy that is downloaded first and whose changed files are uploaded at
//! the end (see `bedrock_ledger::dataset::remote`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use bedrock_ledger::dataset::remote::{RemoteDataset, RemoteLock, working_copy};
use bedrock_ledger::dataset::{DatasetRoot, Layout};
use bedrock_ledger::source::aws::{s3_client, s3_object_store, sdk_config};
use bedrock_ledger::source::s3::parse_s3_uri;

use super::inputs::{AwsArgs, existing_dataset};

/// How long a writer waits for another run's lock on an S3 dataset: long enough for the lease of
/// a run that died to run out.
const LOCK_WAIT: Duration = Duration::from_secs(150);

/// A dataset opened for a command.
pub struct Dataset {
    pub layout: Layout,
    remote: Option<Remote>,
}

struct Remote {
    dataset: RemoteDataset,
    lock: RemoteLock,
    uri: String,
    _copy: tempfile::TempDir,
}

impl Dataset {
    /// Opens `data` to write: an S3 dataset is locked, then downloaded.
    pub async fn write(data: &str, aws: &AwsArgs) -> Result<Dataset> {
        match remote(data, aws).await? {
            None => Ok(Dataset {
                layout: Layout::new(data),
                remote: None,
            }),
            Some(dataset) => {
                let lock = dataset.lock(LOCK_WAIT).await?;
                Self::download(data, dataset, lock).await
            }
        }
    }

    async fn download(data: &str, dataset: RemoteDataset, lock: RemoteLock) -> Result<Dataset> {
        let (copy, root) = working_copy()?;
        let layout = Layout::new(root);
        dataset
            .download(&layout)
            .await
            .with_context(|| format!("downloading {data}"))?;
        Ok(Dataset {
            layout,
            remote: Some(Remote {
                dataset,
                lock,
                uri: data.to_owned(),
                _copy: copy,
            }),
        })
    }

    /// Uploads the files at these paths (relative to the dataset root), in order, to an S3
    /// dataset; a local dataset has nothing to do.
    pub async fn publish(&self, files: &[PathBuf]) -> Result<()> {
        if let Some(remote) = &self.remote {
            for file in files {
                remote
                    .dataset
                    .publish(&self.layout, file)
                    .await
                    .with_context(|| format!("uploading {} to {}", file.display(), remote.uri))?;
            }
        }
        Ok(())
    }

    /// Releases an S3 dataset's lock.
    pub async fn close(self) -> Result<()> {
        if let Some(Remote { lock, uri, .. }) = self.remote {
            lock.release()
                .await
                .with_context(|| format!("unlocking {uri}"))?;
        }
        Ok(())
    }

    /// A file's path relative to the dataset root.
    pub fn relative(&self, path: &Path) -> PathBuf {
        path.strip_prefix(self.layout.root())
            .unwrap_or(path)
            .to_owned()
    }
}

/// Where to read `data` from: the directory, or the S3 prefix in place.
pub async fn read_root(data: &str, aws: &AwsArgs) -> Result<DatasetRoot> {
    let Some(location) = parse_s3_uri(data) else {
        return Ok(DatasetRoot::Local(Layout::new(existing_dataset(
            Path::new(data),
        )?)));
    };
    let options = aws.options();
    let config = sdk_config(&options).await;
    let store = s3_object_store(&location.bucket, &config, &options)
        .with_context(|| format!("connecting to {data}"))?;
    let prefix = location.prefix.trim_end_matches('/');
    let url = if prefix.is_empty() {
        format!("s3://{}/", location.bucket)
    } else {
        format!("s3://{}/{prefix}/", location.bucket)
    };
    Ok(DatasetRoot::Store { url, store })
}

async fn remote(data: &str, aws: &AwsArgs) -> Result<Option<RemoteDataset>> {
    let Some(location) = parse_s3_uri(data) else {
        return Ok(None);
    };
    let options = aws.options();
    let client = s3_client(&sdk_config(&options).await, &options);
    Ok(Some(RemoteDataset::new(client, location)))
}
