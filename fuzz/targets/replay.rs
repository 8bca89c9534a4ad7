//! Replays inputs through a target's body without AFL, one file at a time, and reports every
//! panic with its message and location (the AFL binaries abort on the first one).
//!
//! `replay <target> <file or directory>...` — exits 1 if any input panicked.

use std::panic;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

fn inputs(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .map(|e| e.expect("directory entry").path())
            .collect();
        entries.sort();
        for entry in entries {
            inputs(&entry, out);
        }
    } else if path.is_file() {
        out.push(path.to_owned());
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: replay <target> <file or directory>...";
    let name = args.next().expect(usage);
    let body = bedrock_ledger_fuzz::target(&name).unwrap_or_else(|| {
        let names: Vec<&str> = bedrock_ledger_fuzz::TARGETS.iter().map(|t| t.0).collect();
        panic!("unknown target {name:?}; targets: {}", names.join(", "))
    });
    let mut files = Vec::new();
    for arg in args {
        inputs(Path::new(&arg), &mut files);
    }
    let last_panic: Arc<Mutex<Option<String>>> = Arc::default();
    let seen = Arc::clone(&last_panic);
    panic::set_hook(Box::new(move |info| {
        let location = info.location().map_or_else(
            || "unknown location".to_owned(),
            |l| format!("{}:{}:{}", l.file(), l.line(), l.column()),
        );
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(non-string payload)".to_owned());
        let backtrace = std::backtrace::Backtrace::force_capture();
        *seen.lock().unwrap() = Some(format!("panicked at {location}: {message}\n{backtrace}"));
    }));
    let mut panicked = 0;
    for file in &files {
        let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let started = std::time::Instant::now();
        let result = panic::catch_unwind(|| body(&data));
        let elapsed = started.elapsed();
        match result {
            Ok(()) => println!(
                "ok     {} ({} bytes, {elapsed:?})",
                file.display(),
                data.len()
            ),
            Err(_) => {
                panicked += 1;
                let report = last_panic.lock().unwrap().take().unwrap_or_default();
                println!(
                    "PANIC  {} ({} bytes, {elapsed:?})\n{report}",
                    file.display(),
                    data.len()
                );
            }
        }
    }
    // The process's peak resident set (Linux), so a run over a whole corpus bounds its memory.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(peak) = status.lines().find(|l| l.starts_with("VmHWM:")) {
        let kb: u64 = peak
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        println!("peak_rss_mb {}", kb.div_ceil(1024));
    }
    println!("{} passed, {panicked} failed", files.len() - panicked);
    if panicked > 0 {
        std::process::exit(1);
    }
}
