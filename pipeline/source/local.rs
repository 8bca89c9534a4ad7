//! Local files and directories (walked recursively) as log objects.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use walkdir::WalkDir;

use super::{Location, SourceObject};

const READ_BUFFER_BYTES: usize = 256 << 10;
const MIN_READ_BUFFER_BYTES: usize = 8 << 10;

/// Why inputs could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: {source}", path.display())]
    Walk {
        path: PathBuf,
        source: walkdir::Error,
    },
}

/// Every file under `inputs`, each once (by canonical path), sorted by URI.
///
/// A directory's canonical path is resolved once for all its files (a bucket copy holds
/// thousands of small objects per directory, and resolving each file's path walks every
/// component of it again); a file that is itself a symbolic link is resolved on its own.
pub fn list_objects(inputs: &[PathBuf]) -> Result<Vec<SourceObject>, ListError> {
    let mut files: Vec<(walkdir::DirEntry, PathBuf)> = Vec::new();
    let mut canonical_dirs: HashMap<PathBuf, PathBuf> = HashMap::new();
    for input in inputs {
        for entry in WalkDir::new(input).follow_links(true).sort_by_file_name() {
            let entry = entry.map_err(|source| ListError::Walk {
                path: input.clone(),
                source,
            })?;
            if !entry.file_type().is_file() {
                continue;
            }
            let path = entry.path();
            let io_error = |source| ListError::Io {
                path: path.to_owned(),
                source,
            };
            let canonical = match path.parent() {
                Some(dir) if !entry.path_is_symlink() => {
                    // `file.gz` given as is: its directory is the working one.
                    let dir = if dir.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        dir
                    };
                    let dir = match canonical_dirs.get(dir) {
                        Some(canonical) => canonical,
                        None => {
                            let canonical = dir.canonicalize().map_err(io_error)?;
                            canonical_dirs.entry(dir.to_owned()).or_insert(canonical)
                        }
                    };
                    dir.join(entry.file_name())
                }
                _ => path.canonicalize().map_err(io_error)?,
            };
            files.push((entry, canonical));
        }
    }
    // Each file's size and time (a `stat`) are a third of listing thousands of small objects:
    // they are read on every core, and the first error in walking order is the one reported.
    let described: Vec<Result<SourceObject, ListError>> = files
        .into_par_iter()
        .map(|(entry, canonical)| {
            let metadata = entry.metadata().map_err(|source| ListError::Walk {
                path: entry.path().to_owned(),
                source,
            })?;
            describe(canonical, &metadata).map_err(|source| ListError::Io {
                path: entry.path().to_owned(),
                source,
            })
        })
        .collect();
    let mut objects = BTreeMap::new();
    for object in described {
        let object = object?;
        objects.entry(Arc::clone(&object.uri)).or_insert(object);
    }
    Ok(objects.into_values().collect())
}

fn describe(canonical: PathBuf, metadata: &std::fs::Metadata) -> io::Result<SourceObject> {
    let size_bytes = metadata.len();
    let name = canonical.to_string_lossy().into_owned();
    let version = crate::dataset::ledger::local_version(metadata)?;
    Ok(SourceObject {
        version,
        uri: Arc::from(format!("file://{name}")),
        name,
        location: Location::File(canonical),
        size_bytes,
    })
}

/// Opens a local object's bytes, with a read buffer no larger than the file: most log objects
/// are tens of KB, and a buffer of [`READ_BUFFER_BYTES`] for each would be mostly untouched
/// memory to map and unmap.
pub fn open(path: &Path) -> io::Result<Box<dyn BufRead + Send>> {
    let file = File::open(path)?;
    let size = usize::try_from(file.metadata()?.len()).unwrap_or(usize::MAX);
    let capacity = size.clamp(MIN_READ_BUFFER_BYTES, READ_BUFFER_BYTES);
    Ok(Box::new(BufReader::with_capacity(capacity, file)))
}

/// Files up to this size are read whole and decoded in memory ([`read_whole`]); larger ones are
/// streamed. Bedrock's objects are tens of KB.
pub const WHOLE_FILE_BYTES_MAX: u64 = 4 << 20;

/// Reads the file at `path` into `buffer` (appended) if it holds at most
/// [`WHOLE_FILE_BYTES_MAX`] bytes; `false`, having read nothing, if it is larger.
pub fn read_whole(path: &Path, buffer: &mut Vec<u8>) -> io::Result<bool> {
    let mut file = File::open(path)?;
    let size = file.metadata()?.len();
    if size > WHOLE_FILE_BYTES_MAX {
        return Ok(false);
    }
    // A file that grew since it was listed is read to its end all the same.
    buffer.reserve(size as usize);
    file.read_to_end(buffer)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_small_files_whole_and_leaves_large_ones_to_stream() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small.json");
        std::fs::write(&small, b"{}\n").unwrap();
        let large = dir.path().join("large.json.gz");
        File::create(&large)
            .unwrap()
            .set_len(WHOLE_FILE_BYTES_MAX + 1)
            .unwrap();
        let mut buffer = b"kept ".to_vec();
        assert!(read_whole(&small, &mut buffer).unwrap());
        assert_eq!(buffer, b"kept {}\n", "appended");
        assert!(!read_whole(&large, &mut buffer).unwrap());
        assert_eq!(buffer, b"kept {}\n", "nothing read of a large file");
        assert!(read_whole(&dir.path().join("gone"), &mut buffer).is_err());
    }

    #[test]
    fn lists_each_file_once_in_uri_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("b/c")).unwrap();
        for file in ["b/c/2.gz", "b/1.json", "a.txt"] {
            std::fs::write(root.join(file), file).unwrap();
        }
        let inputs = vec![root.join("b"), root.join("a.txt"), root.join("b/1.json")];
        let objects = list_objects(&inputs).unwrap();
        let root = root.canonicalize().unwrap();
        let names: Vec<&str> = objects
            .iter()
            .map(|o| o.name.strip_prefix(root.to_str().unwrap()).unwrap())
            .collect();
        assert_eq!(names, ["/a.txt", "/b/1.json", "/b/c/2.gz"]);
        assert!(objects.iter().all(|o| o.uri.starts_with("file:///")));
        assert!(list_objects(&[root.join("missing")]).is_err());
    }
}
