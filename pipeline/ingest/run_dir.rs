//! The private working directory of a run (its staged rows, priced rows on their way to a
//! merge), under the system's temporary directory, removed when the run ends.
//!
//! A run killed outright (SIGKILL, the OOM killer, a lost machine) cannot remove it, and a
//! backfill stages gigabytes; so every run first removes the directories of runs that are gone.
//! A run is known to be gone by a lock: each run holds an exclusive `flock` on a file in its
//! directory for as long as it lives, and the kernel releases it when the process dies, however
//! it dies. A directory whose lock can be taken belongs to nobody. Locks are the kernel's, so
//! this holds across PID namespaces (containers sharing `/tmp`), where a process id would not.
//!
//! A directory is created under a name the sweep ignores and renamed to its final name once its
//! lock is held, so no run ever sees another's directory before it is locked. (A run killed
//! between the two leaves an empty directory under the first name: the window is two system
//! calls wide, and nothing in it is worth a sweep that could race a live run.)

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// The name every run's directory starts with: the sweep looks only at these.
const PREFIX: &str = "bedrock-ledger-run-";
/// The name a directory has until its lock is held.
const NEW_PREFIX: &str = "bedrock-ledger-new-";
/// The file each run holds its lock on.
const LOCK_FILE: &str = ".lock";

/// A run's working directory, locked while the value lives and removed when it is dropped.
#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
    /// Held for the lock it carries.
    _lock: File,
}

impl RunDir {
    /// Removes the directories of runs that are gone, then creates this run's, in `parent`.
    /// Returns the new directory and the abandoned ones that were removed.
    pub fn create_in(parent: &Path) -> io::Result<(RunDir, Vec<PathBuf>)> {
        let removed = remove_abandoned(parent);
        let new = tempfile::Builder::new()
            .prefix(NEW_PREFIX)
            .tempdir_in(parent)?;
        let lock = File::create(new.path().join(LOCK_FILE))?;
        lock.lock()?;
        let name = new
            .path()
            .file_name()
            .expect("a temporary directory has a name")
            .to_string_lossy()
            .replacen(NEW_PREFIX, PREFIX, 1);
        let path = parent.join(name);
        fs::rename(new.path(), &path)?;
        // Renamed: the temporary directory's own cleanup would find nothing at its old path.
        let _ = new.keep();
        Ok((RunDir { path, _lock: lock }, removed))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        // The lock is released after the directory is gone (fields drop after this body).
        if let Err(error) = fs::remove_dir_all(&self.path) {
            tracing::warn!(path = %self.path.display(), %error, "could not remove the run's working directory");
        }
    }
}

/// Removes every run directory in `parent` whose lock nobody holds; returns those removed.
/// Anything it cannot read, lock or remove (another user's run, a directory being removed by
/// another sweep) is left as it is.
fn remove_abandoned(parent: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(PREFIX) {
            continue;
        }
        let dir = entry.path();
        let Ok(lock) = File::open(dir.join(LOCK_FILE)) else {
            continue;
        };
        // Held while the directory is removed, so a second sweep leaves it alone.
        if lock.try_lock().is_ok() && fs::remove_dir_all(&dir).is_ok() {
            removed.push(dir);
        }
    }
    removed.sort();
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_dirs(parent: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(parent)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_sweep_removes_only_the_directories_of_runs_that_are_gone() {
        let parent = tempfile::tempdir().unwrap();
        let (live, removed) = RunDir::create_in(parent.path()).unwrap();
        assert!(removed.is_empty());
        assert!(live.path().starts_with(parent.path()));
        // A run that was killed: its directory and lock file are there, its lock is not held.
        let gone = parent.path().join(format!("{PREFIX}killed"));
        fs::create_dir_all(gone.join("staged")).unwrap();
        fs::write(gone.join(LOCK_FILE), "").unwrap();
        fs::write(gone.join("staged/day.parquet"), "rows").unwrap();
        // Not ours to judge: no lock file, or another name.
        let unlocked = parent.path().join(format!("{PREFIX}no-lock-file"));
        fs::create_dir_all(&unlocked).unwrap();
        fs::create_dir_all(parent.path().join("other")).unwrap();

        let (next, removed) = RunDir::create_in(parent.path()).unwrap();
        assert_eq!(removed, [gone]);
        let live_name = live
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let next_name = next
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let mut expected = vec![
            format!("{PREFIX}no-lock-file"),
            live_name,
            next_name,
            "other".to_owned(),
        ];
        expected.sort();
        assert_eq!(run_dirs(parent.path()), expected);

        drop(live);
        drop(next);
        assert_eq!(
            run_dirs(parent.path()),
            [format!("{PREFIX}no-lock-file"), "other".to_owned()]
        );
    }
}
