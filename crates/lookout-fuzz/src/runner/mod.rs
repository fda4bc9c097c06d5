//! The fuzz loop: seeds first, then mutants of the seeds and of accepted mutants, each handed to the target inside
//! `catch_unwind` on a thread with a quarter of the stack production threads get, timed (a slow
//! input is a hang) and, when a probe is given, measured against the target's allocation bound.

use std::backtrace::Backtrace;
use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use crate::known_issues::{KNOWN_ISSUES, KnownIssue};
use crate::report::{Failure, FailureKind, Report};
use crate::rng::Rng;
use crate::target::{Outcome, Target};

/// Stack of a fuzzing thread: 2 MiB, a quarter of what Lookout's runtime threads get (8 MiB, `serve.rs`), where
/// its handlers and its ingest and query pools parse what clients send; the nesting checks of lookout-promql and
/// lookout-logql are tested with the same size. A debug build's frames are larger than a release build's, so an
/// input that fits here fits in production with room to spare.
pub const FUZZ_STACK_BYTES: usize = 2 << 20;

/// An input slower than this is a hang.
pub const HANG_AFTER: Duration = Duration::from_secs(1);

/// An input still running after this long is stuck: the watchdog prints it and ends the process.
pub const STUCK_AFTER: Duration = Duration::from_secs(30);

/// Environment variable naming a directory where every input is written before it runs (to recover the input
/// of a crash the process cannot survive, such as a stack overflow).
pub const TRACE_DIR_ENV: &str = "LOOKOUT_FUZZ_TRACE_DIR";

/// The seed CI runs with ("LOOKOUT" in ASCII): fixed, so a failure found in CI is found again locally.
pub const DEFAULT_SEED: u64 = 0x4c4f_4f4b_4f55_5400;

/// Accepted mutants kept as parents for further mutation.
const POOL_SIZE: usize = 256;

/// How a run goes.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Inputs to run, the seeds included.
    pub iterations: u64,
    /// PRNG seed; the same seed and corpus give the same inputs.
    pub seed: u64,
    /// Stop after this many failures.
    pub max_failures: usize,
    /// Stack of the fuzzing thread.
    pub stack_bytes: usize,
}

impl RunOptions {
    /// `iterations` inputs with the default seed, stopping at the third failure, on a [`FUZZ_STACK_BYTES`] stack.
    pub fn new(iterations: u64) -> RunOptions {
        RunOptions {
            iterations,
            seed: DEFAULT_SEED,
            max_failures: 3,
            stack_bytes: FUZZ_STACK_BYTES,
        }
    }
}

/// Measures what the calling thread allocates (implemented by the test binary's counting allocator: a library
/// cannot install one without `unsafe`, which the workspace denies).
pub trait AllocProbe: Sync {
    /// Starts a measurement on the calling thread.
    fn start(&self);
    /// The most bytes the calling thread held at once since [`AllocProbe::start`], above what it held then.
    fn peak(&self) -> usize;
}

/// A panic caught while a target ran.
struct CaughtPanic {
    /// The source file it was raised in.
    file: String,
    /// `panicked at <location>:\n<message>`.
    message: String,
    /// Captured, not yet symbolised (that allocates tens of MiB, so it is done only for a failure's report).
    backtrace: Backtrace,
}

thread_local! {
    /// Set while a target runs on this thread: its panics are recorded, not printed.
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
    /// The last captured panic.
    static LAST_PANIC: RefCell<Option<CaughtPanic>> = const { RefCell::new(None) };
}

/// Installs (once) a panic hook that records panics of fuzzed inputs with a backtrace and passes any other panic
/// to the previous hook.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CAPTURING.with(Cell::get) {
                let caught = CaughtPanic {
                    file: info
                        .location()
                        .map_or(String::new(), |l| l.file().to_string()),
                    message: info.to_string(),
                    backtrace: Backtrace::force_capture(),
                };
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(caught));
            } else {
                previous(info);
            }
        }));
    });
}

/// What the watchdog sees of the running input.
struct Running {
    started: Option<Instant>,
    input: Vec<u8>,
}

/// A stable hash of the target's name, so each target gets its own input sequence from one seed.
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Runs `target` over `corpus` (which must not be empty) and its mutants; see the module docs.
pub fn run(
    target: &Target,
    corpus: &[Vec<u8>],
    opts: &RunOptions,
    probe: Option<&dyn AllocProbe>,
) -> Report {
    assert!(
        !corpus.is_empty(),
        "the corpus of target {} is empty",
        target.name
    );
    install_panic_hook();
    let running = Mutex::new(Running {
        started: None,
        input: Vec::new(),
    });
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name(format!("fuzz-watchdog-{}", target.name))
            .spawn_scoped(s, || watchdog(target.name, &running, &done))
            .expect("spawn the watchdog");
        let report = std::thread::Builder::new()
            .name(format!("fuzz-{}", target.name))
            .stack_size(opts.stack_bytes)
            .spawn_scoped(s, || fuzz_loop(target, corpus, opts, probe, &running))
            .expect("spawn the fuzzing thread")
            .join();
        done.store(true, Ordering::Relaxed);
        match report {
            Ok(r) => r,
            Err(e) => std::panic::resume_unwind(e),
        }
    })
}

/// Ends the process when one input runs for [`STUCK_AFTER`], printing it: a loop that never returns cannot be
/// reported any other way.
fn watchdog(name: &str, running: &Mutex<Running>, done: &AtomicBool) {
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        let r = running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = r.started
            && t.elapsed() > STUCK_AFTER
        {
            let failure = Failure {
                target: name.to_string(),
                iteration: u64::MAX,
                kind: FailureKind::Hang {
                    elapsed: t.elapsed(),
                },
                input: r.input.clone(),
            };
            eprintln!("lookout-fuzz: STUCK: {failure}");
            if let Ok(path) = failure.save_input() {
                eprintln!("  saved to {}", path.display());
            }
            std::process::exit(3);
        }
    }
}

fn fuzz_loop(
    target: &Target,
    corpus: &[Vec<u8>],
    opts: &RunOptions,
    probe: Option<&dyn AllocProbe>,
    running: &Mutex<Running>,
) -> Report {
    let trace = std::env::var_os(TRACE_DIR_ENV).map(|d| PathBuf::from(d).join(target.name));
    let mut rng = Rng::new(opts.seed ^ name_hash(target.name));
    let pool_max_len = corpus.iter().map(Vec::len).max().unwrap_or(0) * 2 + 256;
    let mut pool: Vec<Vec<u8>> = Vec::new();
    let mut report = Report::new(target.name);
    let started = Instant::now();
    for i in 0..opts.iterations {
        let seeded = (i as usize) < corpus.len();
        let input = if seeded {
            corpus[i as usize].clone()
        } else {
            let parent = if !pool.is_empty() && rng.one_in(2) {
                &pool[rng.below(pool.len())]
            } else {
                &corpus[rng.below(corpus.len())]
            };
            let mut data = parent.clone();
            let donor = &corpus[rng.below(corpus.len())];
            target.grammar.mutate(&mut rng, &mut data, donor);
            data
        };
        if let Some(path) = &trace {
            std::fs::write(path, &input).expect("write the trace file");
        }
        {
            let mut r = running.lock().unwrap_or_else(|e| e.into_inner());
            r.input.clear();
            r.input.extend_from_slice(&input);
            r.started = Some(Instant::now());
        }
        if let Some(p) = probe {
            p.start();
        }
        LAST_PANIC.with(|p| p.borrow_mut().take());
        CAPTURING.with(|c| c.set(true));
        let t0 = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| (target.run)(&input)));
        let elapsed = t0.elapsed();
        CAPTURING.with(|c| c.set(false));
        let peak = probe.map(AllocProbe::peak);
        running.lock().unwrap_or_else(|e| e.into_inner()).started = None;

        report.inputs += 1;
        report.largest_input = report.largest_input.max(input.len());
        if elapsed > report.slowest {
            report.slowest = elapsed;
            report.slowest_input_len = input.len();
            report.slowest_input_head = input[..input.len().min(80)].to_vec();
        }
        let mut failures = Vec::new();
        match result {
            Ok(outcome) => {
                if outcome == Outcome::Accepted {
                    report.accepted += 1;
                }
            }
            Err(_) => match LAST_PANIC.with(|p| p.borrow_mut().take()) {
                Some(p) => match known_issue(target.name, &p) {
                    Some(issue) => report.note_known_issue(issue),
                    None => failures.push(FailureKind::Panic {
                        message: format!("{}\n{}", p.message, trim_backtrace(&p.backtrace)),
                    }),
                },
                None => failures.push(FailureKind::Panic {
                    message: "a panic the hook did not see".to_string(),
                }),
            },
        }
        if elapsed > HANG_AFTER {
            failures.push(FailureKind::Hang { elapsed });
        }
        // The first input also pays for lazily built fixtures (stores, compiled tables): not a per-input cost. A
        // panicking input is a failure already (or a known issue), and capturing its backtrace allocates.
        if let Some(peak) = peak.filter(|_| i > 0 && result.is_ok()) {
            let bound = (target.alloc_bound)(input.len());
            report.note_allocation(peak, input.len(), bound);
            if peak > bound {
                failures.push(FailureKind::Allocation { peak, bound });
            }
        }
        report
            .failures
            .extend(failures.into_iter().map(|kind| Failure {
                target: target.name.to_string(),
                iteration: i,
                kind,
                input: input.clone(),
            }));
        if report.failures.len() >= opts.max_failures {
            break;
        }
        if !seeded && matches!(result, Ok(Outcome::Accepted)) && input.len() <= pool_max_len {
            if pool.len() < POOL_SIZE {
                pool.push(input);
            } else {
                let at = rng.below(POOL_SIZE);
                pool[at] = input;
            }
        }
    }
    report.elapsed = started.elapsed();
    report
}

/// The known issue a caught panic is, if any.
fn known_issue(target: &str, p: &CaughtPanic) -> Option<&'static KnownIssue> {
    KNOWN_ISSUES.iter().find(|k| {
        k.seeds.iter().any(|(t, _)| *t == target)
            && p.file.ends_with(k.panic_file)
            && p.message.contains(k.panic_message)
            && k.frame
                .is_none_or(|frame| p.backtrace.to_string().contains(frame))
    })
}

/// A backtrace without the panic machinery's frames, the runner's own frames below the target, and frames of the
/// standard library's sources.
fn trim_backtrace(bt: &Backtrace) -> String {
    const NOISE: [&str; 6] = [
        "std::panicking",
        "core::panicking",
        "rust_begin_unwind",
        "__rust_end_short_backtrace",
        "PanicHookInfo",
        "/rustc/",
    ];
    let text = bt.to_string();
    let mut out = Vec::new();
    for line in text.lines() {
        if line.contains("lookout_fuzz::runner::fuzz_loop") {
            break;
        }
        if !NOISE.iter().any(|n| line.contains(n)) {
            out.push(line);
        }
    }
    out.join("\n")
}

#[cfg(test)]
mod tests;
