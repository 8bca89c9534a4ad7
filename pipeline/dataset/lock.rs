//! One writer at a time: a run that writes the dataset holds an advisory lock (`flock`) on
//! `<root>/_lock`. The operating system releases it when the process ends, however it ends, so a
//! run killed with `kill -9` never leaves a stale lock behind. A second run fails at once with a
//! message naming the holder instead of corrupting the dataset.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::PathBuf;

use super::{DatasetError, Layout};

/// Held while a run writes the dataset; dropping it releases the lock.
#[derive(Debug)]
pub struct DatasetLock {
    _file: File,
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another bedrock-ledger run is writing {} ({holder}); try again when it has finished", path.display())]
    Busy { path: PathBuf, holder: String },
    #[error(transparent)]
    Dataset(#[from] DatasetError),
}

/// Takes the dataset's writer lock, creating the dataset directory if needed.
pub fn lock_dataset(layout: &Layout) -> Result<DatasetLock, LockError> {
    let root = layout.root();
    std::fs::create_dir_all(root).map_err(|e| DatasetError::io(root, e))?;
    let path = layout.lock_file();
    let io = |e| DatasetError::io(&path, e);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(LockError::Busy {
                path: root.to_owned(),
                holder: if holder.is_empty() {
                    "holder unknown".to_owned()
                } else {
                    holder.to_owned()
                },
            });
        }
        Err(TryLockError::Error(e)) => return Err(io(e).into()),
    }
    let started = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    write!(file, "pid {} since {started}", std::process::id()).map_err(io)?;
    Ok(DatasetLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_until_the_first_is_done() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path().join("data"));
        let first = lock_dataset(&layout).unwrap();
        let error = lock_dataset(&layout).unwrap_err().to_string();
        assert!(
            error.contains("another bedrock-ledger run is writing"),
            "{error}"
        );
        assert!(
            error.contains(&format!("pid {}", std::process::id())),
            "{error}"
        );
        drop(first);
        lock_dataset(&layout).unwrap();
    }
}
