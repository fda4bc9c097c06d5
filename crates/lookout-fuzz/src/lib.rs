//! Lookout's parser fuzzing harness, on the stable toolchain and without external fuzzing tools: a seeded,
//! deterministic mutation fuzzer ([`mutate`], [`rng`]) driving one target per parser a client, a scrape target or
//! a configuration author can reach ([`targets`]), from the committed seed corpus (`corpus/<target>/`).
//!
//! Every target calls the real public entry point with the real limits. The runner ([`runner`]) hands each input
//! to it inside `catch_unwind` on a thread with a 2 MiB stack (a quarter of production's), times it (over one
//! second is a hang), and measures its peak allocation when the test binary provides a counting allocator
//! ([`runner::AllocProbe`]). Tests run each target in a child process ([`supervise`]) so that a stack overflow is
//! reported with its input. Bugs found in code this crate may not change are listed in [`known_issues`].
//!
//! Tests: `tests/fuzz.rs` has a bounded run per target (`bounded::<target>`, 40,000 inputs) and the long run
//! (`long::<target>`, ignored, 1,000,000 inputs or `LOOKOUT_FUZZ_ITERATIONS`).
//!
//! Reproducing: runs are deterministic for a seed (`LOOKOUT_FUZZ_SEED`, default [`runner::DEFAULT_SEED`]); a
//! failure prints the input and saves it to the temporary directory; `LOOKOUT_FUZZ_TRACE_DIR=<dir>` writes each
//! input to `<dir>/<target>` before it runs.

pub mod corpus;
pub mod known_issues;
pub mod mutate;
pub mod report;
pub mod rng;
pub mod runner;
pub mod supervise;
pub mod target;
pub mod targets;

pub use report::{Failure, FailureKind, Report};
pub use runner::{AllocProbe, RunOptions, run};
pub use supervise::supervised;
pub use target::{Outcome, Target};
