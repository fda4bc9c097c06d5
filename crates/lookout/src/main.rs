//! The `lookout` binary.

fn main() -> std::process::ExitCode {
    tune_malloc();
    lookout::cli::main()
}

/// glibc malloc tuned for a long-running server held to a memory budget; each setting is skipped when its
/// environment variable is set, which then wins.
///
/// - Two arenas instead of one per thread (up to 8 × cores) (`MALLOC_ARENA_MAX`): with the ingest pool, the tokio
///   workers and tantivy's threads all allocating, per-thread arenas fragmented to about twice the memory budget
///   while ingesting logs (benches/logs_bench.py, 256 MiB limit: 490 MiB peak RSS with the default, 249 MiB with
///   two arenas; mimalloc 352 MiB).
/// - A fixed mmap threshold of 128 KiB (`MALLOC_MMAP_THRESHOLD_`): glibc otherwise raises the threshold to the
///   size of each large block freed (up to 32 MiB), so the per-scrape buffers (exposition bodies, a batch's sample
///   list) move into the heap, where their freed space stays resident between scrapes. Scraping 109,000 series:
///   156 MiB RSS with the default, 122 MiB with the fixed threshold (BENCHMARKS.md, "Scrape RSS").
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn tune_malloc() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; it runs before any thread is spawned.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        // SAFETY: as above.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}
