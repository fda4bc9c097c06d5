//! The `lookout` binary.

fn main() -> std::process::ExitCode {
    limit_malloc_arenas();
    lookout::cli::main()
}

/// Two glibc malloc arenas instead of one per thread (up to 8 × cores): with the ingest pool, the tokio workers and
/// tantivy's threads all allocating, per-thread arenas fragmented to about twice the memory budget while ingesting
/// logs (benches/logs_bench.py, 256 MiB limit: 490 MiB peak RSS with the default, 249 MiB with two arenas; mimalloc
/// 352 MiB). Same effect as `MALLOC_ARENA_MAX=2`, which still wins when set.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn limit_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; it runs before any thread is spawned.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}
