//! The fuzz runs: a bounded run of every target in `cargo test`, and the long run (1,000,000 inputs per target,
//! `LOOKOUT_FUZZ_ITERATIONS` to change it) as ignored tests that `.ci/run` runs with `--include-ignored`. Each test
//! runs its target in a child process (see `lookout_fuzz::supervised`), with this binary's counting allocator
//! measuring every input against the target's allocation bound.

// The counting allocator must implement `GlobalAlloc`, an unsafe trait; it only forwards to `System` and counts.
// Nothing else in this crate is unsafe, and this file is the only one allowed to be.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use lookout_fuzz::runner::DEFAULT_SEED;
use lookout_fuzz::targets::by_name;
use lookout_fuzz::{AllocProbe, Report, RunOptions, corpus, run, supervised};

/// Forwards to the system allocator and keeps, per thread, the bytes held and the most held since the last
/// [`AllocProbe::start`]. Per thread, so that targets fuzzed at the same time do not count each other.
struct CountingAllocator;

thread_local! {
    static HELD: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
    static BASE: Cell<isize> = const { Cell::new(0) };
}

/// Adds `delta` to this thread's count (no-op while the thread's locals are being torn down).
fn count(delta: isize) {
    let _ = HELD.try_with(|held| {
        let now = held.get() + delta;
        held.set(now);
        let _ = PEAK.try_with(|peak| {
            if now > peak.get() {
                peak.set(now);
            }
        });
    });
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged and only adds bookkeeping in
// thread-local `Cell`s with const initialisers (which never allocate), so `System`'s guarantees carry over.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc_zeroed`'s contract.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` came from this allocator, i.e. from `System`.
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged; `ptr` came from `System` with `layout`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// The probe over [`CountingAllocator`]'s per-thread counts.
struct ThreadProbe;

impl AllocProbe for ThreadProbe {
    fn start(&self) {
        let held = HELD.with(Cell::get);
        BASE.with(|b| b.set(held));
        PEAK.with(|p| p.set(held));
    }

    fn peak(&self) -> usize {
        let base = BASE.with(Cell::get);
        PEAK.with(Cell::get).saturating_sub(base).max(0) as usize
    }
}

/// Inputs per target in the bounded run: the ten targets together take well under 20 s in the dev profile.
const BOUNDED_ITERATIONS: u64 = 40_000;

/// Inputs per target in the long run, unless `LOOKOUT_FUZZ_ITERATIONS` says otherwise.
const LONG_ITERATIONS: u64 = 1_000_000;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| {
        v.trim()
            .parse()
            .unwrap_or_else(|e| panic!("{name}={v:?} is not a number: {e}"))
    })
}

/// Fuzzes `target` for `iterations` inputs and fails with every failure found.
fn fuzz(target: &str, iterations: u64) -> Report {
    let t = by_name(target).unwrap_or_else(|| panic!("no target named {target}"));
    let seeds = corpus::load(target);
    let opts = RunOptions {
        seed: env_u64("LOOKOUT_FUZZ_SEED").unwrap_or(DEFAULT_SEED),
        ..RunOptions::new(iterations)
    };
    let report = run(&t, &seeds, &opts, Some(&ThreadProbe));
    println!("{report}");
    if !report.failures.is_empty() {
        let all: Vec<String> = report
            .failures
            .iter()
            .map(|f| match f.save_input() {
                Ok(path) => format!("{f}\n  saved to {}", path.display()),
                Err(e) => format!("{f}\n  (could not save the input: {e})"),
            })
            .collect();
        panic!(
            "{} failed on {} of {} inputs:\n{}",
            target,
            report.failures.len(),
            report.inputs,
            all.join("\n\n")
        );
    }
    assert_eq!(report.inputs, iterations, "every input was run");
    report
}

macro_rules! fuzz_tests {
    ($($target:ident),* $(,)?) => {
        mod bounded {
            $(
                #[test]
                fn $target() {
                    let name = concat!("bounded::", stringify!($target));
                    super::supervised(name, || {
                        super::fuzz(stringify!($target), super::BOUNDED_ITERATIONS);
                    });
                }
            )*
        }

        mod long {
            $(
                #[test]
                #[ignore = "long fuzz run: run by .ci/run"]
                fn $target() {
                    let name = concat!("long::", stringify!($target));
                    super::supervised(name, || {
                        let n = super::env_u64("LOOKOUT_FUZZ_ITERATIONS").unwrap_or(super::LONG_ITERATIONS);
                        super::fuzz(stringify!($target), n);
                    });
                }
            )*
        }
    };
}

fuzz_tests!(
    exposition,
    remote_write_v1,
    remote_write_v2,
    loki_push_protobuf,
    loki_push_json,
    promql,
    logql,
    config,
    rules,
    web_config,
);

#[test]
fn every_target_has_seeds_it_accepts_and_the_corpus_stays_small() {
    let mut total = 0;
    for t in lookout_fuzz::targets::ALL {
        let seeds = corpus::load(t.name);
        assert!(seeds.len() >= 5, "{}: only {} seeds", t.name, seeds.len());
        total += seeds.iter().map(Vec::len).sum::<usize>();
        // Through the runner, so that a seed of a known issue counts as that, not as a crash of this test.
        let report = run(&t, &seeds, &RunOptions::new(seeds.len() as u64), None);
        assert!(
            report.failures.is_empty(),
            "{}: a seed fails: {:?}",
            t.name,
            report.failures
        );
        let accepted = report.accepted;
        assert!(
            accepted >= 3,
            "{}: only {accepted} of {} seeds are accepted: the target does not reach the parser's valid paths",
            t.name,
            seeds.len()
        );
        assert!(
            seeds.iter().all(|s| s.len() <= t.grammar.max_len),
            "{}: a seed is longer than the mutator's max_len",
            t.name
        );
    }
    assert!(total < 300 << 10, "the corpus is {total} bytes");
}

#[test]
fn the_probe_measures_what_a_thread_allocates() {
    let p = ThreadProbe;
    p.start();
    let v = vec![0u8; 1 << 20];
    drop(v);
    let small = vec![0u8; 1000];
    assert!(
        p.peak() >= 1 << 20 && p.peak() < (1 << 20) + 4096,
        "{}",
        p.peak()
    );
    p.start();
    assert_eq!(p.peak(), 0);
    drop(small);
    assert_eq!(p.peak(), 0, "frees do not count");
}

#[test]
fn known_issues_still_reproduce() {
    let mut fixed = Vec::new();
    for issue in lookout_fuzz::known_issues::KNOWN_ISSUES {
        for (target, seed) in issue.seeds {
            let t = by_name(target).expect("a known issue names a real target");
            let input = std::fs::read(corpus::root().join(target).join(seed))
                .unwrap_or_else(|e| panic!("{target}: regression seed {seed}: {e}"));
            let report = run(&t, &[input], &RunOptions::new(1), None);
            assert!(
                report.failures.is_empty(),
                "{target}: {:?}",
                report.failures
            );
            if report.known_issues.is_empty() {
                fixed.push(format!("{target} ({seed}): {}", issue.summary));
            }
        }
    }
    assert!(
        fixed.is_empty(),
        "known issues no longer reproduce with their seeds; if they are fixed, remove them from \
         lookout_fuzz::known_issues::KNOWN_ISSUES:\n{}",
        fixed.join("\n")
    );
}
