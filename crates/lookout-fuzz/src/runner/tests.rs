//! The runner against small fake targets: seeds first, panics, hangs and allocation peaks reported with their
//! input, known issues counted, runs reproducible from their seed.

use std::sync::Mutex;
use std::time::Duration;

use super::*;
use crate::mutate::Grammar;
use crate::target::MIB;

const GRAMMAR: Grammar = Grammar {
    dictionary: &[b"x", b"!"],
    nesting: &[(b"(", b")")],
    max_len: 256,
};

fn target(name: &'static str, run: fn(&[u8]) -> Outcome) -> Target {
    Target {
        name,
        entry: "test",
        grammar: GRAMMAR,
        run,
        alloc_bound: |len| MIB + len,
        alloc_rule: "test",
    }
}

fn seeds() -> Vec<Vec<u8>> {
    vec![b"abc".to_vec(), b"hello world".to_vec(), Vec::new()]
}

#[test]
fn seeds_run_first_as_they_are_then_mutants() {
    static SEEN: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
    let t = target("record", |input| {
        SEEN.lock().unwrap().push(input.to_vec());
        Outcome::Accepted
    });
    let report = run(&t, &seeds(), &RunOptions::new(200), None);
    assert_eq!((report.inputs, report.accepted), (200, 200));
    assert!(report.failures.is_empty());
    let seen = SEEN.lock().unwrap();
    assert_eq!(seen[..3], seeds()[..]);
    let mutated = seen[3..].iter().filter(|s| !seeds().contains(s)).count();
    assert!(
        mutated > 150,
        "{mutated} of 197 mutants differ from the seeds"
    );
}

#[test]
fn a_panic_is_a_failure_with_its_input_message_and_backtrace_and_the_run_stops() {
    let t = target("panics", |input| {
        if input.contains(&b'!') {
            panic!("bang on {} bytes", input.len());
        }
        Outcome::Rejected
    });
    let report = run(&t, &seeds(), &RunOptions::new(100_000), None);
    assert_eq!(report.failures.len(), 3, "stops at max_failures");
    assert!(report.inputs < 100_000);
    for f in &report.failures {
        assert!(f.input.contains(&b'!'), "{:?}", f.input);
        let FailureKind::Panic { message } = &f.kind else {
            panic!("{f}");
        };
        assert!(message.contains("bang on"), "{message}");
        assert!(
            message.contains("runner/tests.rs"),
            "the location: {message}"
        );
    }
    let shown = report.failures[0].to_string();
    assert!(
        shown.contains("PANIC") && shown.contains("input #"),
        "{shown}"
    );
}

#[test]
fn a_slow_input_is_a_hang() {
    let t = target("slow", |input| {
        if input == b"hello world" {
            std::thread::sleep(HANG_AFTER + Duration::from_millis(50));
        }
        Outcome::Accepted
    });
    let report = run(&t, &seeds(), &RunOptions::new(3), None);
    assert_eq!(report.failures.len(), 1);
    assert!(
        matches!(report.failures[0].kind, FailureKind::Hang { elapsed } if elapsed > HANG_AFTER)
    );
    assert_eq!(report.failures[0].input, b"hello world");
}

/// A probe reporting a fixed peak.
struct FixedProbe(usize);

impl AllocProbe for FixedProbe {
    fn start(&self) {}
    fn peak(&self) -> usize {
        self.0
    }
}

#[test]
fn an_allocation_over_the_bound_is_a_failure_except_on_the_first_input() {
    let t = target("alloc", |_| Outcome::Accepted);
    let under = run(&t, &seeds(), &RunOptions::new(50), Some(&FixedProbe(MIB)));
    assert!(under.failures.is_empty());
    assert_eq!(under.peak_alloc, MIB);
    let over = run(
        &t,
        &seeds(),
        &RunOptions::new(50),
        Some(&FixedProbe(2 * MIB)),
    );
    assert_eq!(over.failures.len(), 3);
    assert_eq!(
        over.failures[0].iteration, 1,
        "the first input builds fixtures"
    );
    assert!(matches!(
        over.failures[0].kind,
        FailureKind::Allocation { peak, bound } if peak == 2 * MIB && bound == MIB + 11
    ));
}

#[test]
fn runs_are_reproducible_from_their_seed() {
    let t = target("bytes", |input| {
        if input.iter().map(|b| u32::from(*b)).sum::<u32>() % 3 == 0 {
            Outcome::Accepted
        } else {
            Outcome::Rejected
        }
    });
    let a = run(&t, &seeds(), &RunOptions::new(5000), None);
    let b = run(&t, &seeds(), &RunOptions::new(5000), None);
    let c = run(
        &t,
        &seeds(),
        &RunOptions {
            seed: 1,
            ..RunOptions::new(5000)
        },
        None,
    );
    assert_eq!((a.accepted, a.largest_input), (b.accepted, b.largest_input));
    assert_ne!((a.accepted, a.largest_input), (c.accepted, c.largest_input));
}
