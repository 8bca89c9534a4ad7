//! The inflate-only floor of `benches/throughput.sh`: the least work any ingest of a corpus
//! does (read every object, inflate the gzip ones), done with ingest's own decoder and threads,
//! so that ingest's wall time can be put next to it.
//!
//! ```text
//! cargo build --release --example inflate_only
//! inflate_only [--whole-members] LIST...
//! ```
//!
//! Each LIST holds file paths separated by NUL bytes (throughput.sh writes `gz.list` and
//! `plain.list`). Every file is read whole into a buffer. A file that starts with the gzip magic
//! is inflated completely by flate2's `bufread::MultiGzDecoder` on the zlib-rs backend, which
//! is what `decode/object.rs` opens every gzip object with (all members back to back, as Firehose
//! writes them), 1 MiB per read as `decode/lines.rs` asks for, and the output is discarded; any
//! other file is counted as it is. The files are shared out over rayon's global pool, the pool
//! ingest decodes on (a thread per core the process may run on, so `taskset` narrows it),
//! largest first as ingest fetches them, and each thread reuses its buffers across files.
//!
//! With `--whole-members` a gzip file is inflated as ingest inflates it: a file that is one gzip
//! member, small enough to be read whole, in one call by libdeflate
//! (`decode::inflate::inflate_single_member`), any other with zlib-rs as above. Without it, the
//! floor is zlib-rs's alone, as issue 12 defines it.
//!
//! Prints `<seconds> <uncompressed bytes>` on stdout: wall seconds from listing the files to the
//! last byte inflated, and the bytes all the files hold uncompressed.

use std::cell::RefCell;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use bedrock_ledger::decode::inflate::inflate_single_member;
use bedrock_ledger::source::local::WHOLE_FILE_BYTES_MAX;
use flate2::bufread::MultiGzDecoder;
use rayon::prelude::*;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Inflated bytes asked for per read (`READ_BYTES` in `decode/lines.rs`).
const READ_BYTES: usize = 1 << 20;

thread_local! {
    /// This thread's buffers: one whole object, the output of one read, and a whole member's.
    static BUFFERS: RefCell<(Vec<u8>, Vec<u8>, Vec<u8>)> =
        RefCell::new((Vec::new(), vec![0; READ_BYTES], Vec::new()));
}

fn main() -> Result<()> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let whole_members = args.first().is_some_and(|arg| arg == "--whole-members");
    let lists = &args[usize::from(whole_members)..];
    if lists.is_empty() {
        eprintln!(
            "usage: inflate_only [--whole-members] LIST... (each LIST holds file paths separated by NUL bytes)"
        );
        std::process::exit(2);
    }
    let mut paths = Vec::new();
    for list in lists {
        let bytes = std::fs::read(list).with_context(|| format!("reading {}", list.display()))?;
        paths.extend(
            bytes
                .split(|&b| b == 0)
                .filter(|path| !path.is_empty())
                .map(|path| PathBuf::from(OsStr::from_bytes(path))),
        );
    }

    let started = Instant::now();
    let mut files = paths
        .into_iter()
        .map(|path| {
            let size = std::fs::metadata(&path)
                .with_context(|| format!("reading {}", path.display()))?
                .len();
            Ok((size, path))
        })
        .collect::<Result<Vec<_>>>()?;
    files.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let bytes = files
        .into_iter()
        .par_bridge()
        .map(|(_, path)| uncompressed_bytes(&path, whole_members))
        .try_reduce(|| 0, |a, b| Ok(a + b))?;
    println!("{:.3} {bytes}", started.elapsed().as_secs_f64());
    Ok(())
}

/// Reads the file at `path` whole and inflates it if it is gzip (one member in one call if
/// `whole_members`); returns its uncompressed size.
fn uncompressed_bytes(path: &Path, whole_members: bool) -> Result<u64> {
    let context = || format!("reading {}", path.display());
    BUFFERS.with_borrow_mut(|(object, out, member)| {
        object.clear();
        File::open(path)
            .and_then(|mut file| file.read_to_end(object))
            .with_context(context)?;
        if !object.starts_with(&GZIP_MAGIC) {
            return Ok(object.len() as u64);
        }
        if whole_members
            && object.len() as u64 <= WHOLE_FILE_BYTES_MAX
            && inflate_single_member(object, member)
        {
            return Ok(member.len() as u64);
        }
        let mut decoder = MultiGzDecoder::new(object.as_slice());
        let mut total = 0;
        loop {
            match decoder.read(out) {
                Ok(0) => return Ok(total),
                Ok(n) => total += n as u64,
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) => return Err(error).with_context(context),
            }
        }
    })
}
