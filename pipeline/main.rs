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

fn main() -> std::process::ExitCode {
    // Freed memory goes back to the kernel at once. With mimalloc's default delay (1 s), memory
    // that DataFusion's threads freed while summing the rollups stayed with the process: a
    // one-shot ingest of a 10M-request month peaked at 1.04–1.13 GiB, and at 692 MiB without
    // the delay (`benches/month.sh`'s corpus). MIMALLOC_PURGE_DELAY, which mimalloc reads
    // itself, still overrides.
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets a process-wide option before any other thread exists.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    }
    // No transparent huge pages. mimalloc asks for them, so memory touched again after a purge
    // was faulted in 2 MiB at a time, each huge page zeroed whole: 8% of an ingest of small
    // objects went to clearing pages (`perf`), and its peak RSS was 210–247 MiB against 165 MiB
    // without (`benches/throughput.sh`'s small-object corpus). mimalloc's own switch
    // (MIMALLOC_ALLOW_THP=0) acts only when it starts, before `main`, so the process asks the
    // kernel itself; the kernel checks the flag at every fault.
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes one integer argument and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    cli::main()
}
