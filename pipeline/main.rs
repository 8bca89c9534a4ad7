//! The `bedrock-ledger` binary: parses arguments, dispatches to a subcommand and maps the
//! outcome to an exit code. Everything else lives in the library.

mod cli;

/// Ingest allocates and frees buffers of up to a few MiB per object on every decoding thread.
/// With glibc's allocator 8% of an ingest of small objects went to page faults on memory it had
/// handed back to the kernel and 5% to malloc and free themselves (`perf` on
/// `benches/throughput.sh`'s small-object corpus); mimalloc reuses freed pages per thread.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_e` (`include/mimalloc.h`), which
/// libmimalloc-sys does not name (checked at run time: MIMALLOC_PURGE_DELAY=77 reads back 77).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long freed memory waits before mimalloc returns it to the kernel, in milliseconds. A
/// one-shot ingest of a 10M-request month (`benches/month.sh`'s corpus, huge pages off):
///
/// | delay | wall | peak RSS |
/// |---|---|---|
/// | 0 | 112 s | 418 MiB |
/// | 10 ms | 89 s | 455 MiB |
/// | 100 ms | 74 s | 572 MiB |
/// | 1 s (mimalloc's default) | 65 s | 729 MiB |
///
/// The shorter the delay, the more often a decoding thread finds the pages its last record
/// freed purged already and faults them in again; the longer, the more memory that DataFusion's
/// threads freed while summing the rollups stays with the process (with huge pages on, the
/// default delay peaked at 1.04–1.13 GiB). The small-object corpus of `benches/throughput.sh`
/// runs as fast with 0, 10 and 100 ms (1.09–1.17 s), at 163, 177–180 and 184–188 MiB.
const PURGE_DELAY_MS: std::ffi::c_long = 100;

fn main() -> std::process::ExitCode {
    // MIMALLOC_PURGE_DELAY, which mimalloc reads itself, still overrides.
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets a process-wide option before any other thread exists.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    }
    // No transparent huge pages. mimalloc asks for them, so memory touched again after a purge
    // was faulted in 2 MiB at a time, each huge page zeroed whole: 8–11% of an ingest of small
    // objects went to clearing pages (`perf`), and its peak RSS was 206–242 MiB against 160–163
    // MiB without (`benches/throughput.sh`'s small-object corpus). mimalloc's own switch
    // (MIMALLOC_ALLOW_THP=0) acts only when it starts, before `main`, so the process asks the
    // kernel itself; the kernel checks the flag at every fault.
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes one integer argument and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    cli::main()
}
