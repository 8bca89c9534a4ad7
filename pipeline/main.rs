//! The `bedrock-ledger` binary: parses arguments, dispatches to a subcommand and maps the
//! outcome to an exit code. Everything else lives in the library.

mod cli;

/// Ingest allocates and frees buffers of up to a few MiB per object on every decoding thread.
/// With glibc's allocator a fifth of ingest's time went to the kernel, faulting those pages in
/// again after they were handed back (`perf` on `benches/throughput.sh`'s small-object corpus);
/// mimalloc keeps freed pages in per-thread heaps for reuse.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
