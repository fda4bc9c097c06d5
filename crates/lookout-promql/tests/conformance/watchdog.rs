//! A last-resort guard: if one case runs far past its query deadlines (an engine that ignores
//! `QueryContext::deadline`), name the case and end the test process instead of stalling CI.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The case being run and when it started.
static CURRENT: Mutex<Option<(Instant, String)>> = Mutex::new(None);
/// The file being run (prefix of the case description).
static FILE: Mutex<String> = Mutex::new(String::new());

/// Records the file about to run.
pub fn set_file(name: &str) {
    *FILE.lock().unwrap_or_else(|e| e.into_inner()) = name.to_string();
}

/// Records the case about to run.
pub fn set_current(case: &str) {
    let file = FILE.lock().unwrap_or_else(|e| e.into_inner()).clone();
    *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) =
        Some((Instant::now(), format!("{file} {case}")));
}

/// Records that no case is running (loads between cases are not timed).
pub fn clear_current() {
    *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = None;
}

/// Stops the watchdog thread when dropped.
pub struct Watchdog {
    stop: std::sync::Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Watchdog {
    /// Starts watching: a case running longer than `limit` ends the process; the thread itself gives up after
    /// `max_total` so that its loop is bounded.
    pub fn start(limit: Duration, max_total: Duration) -> Watchdog {
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let tick = Duration::from_millis(200);
        let ticks = (max_total.as_millis() / tick.as_millis()).max(1);
        let handle = std::thread::spawn(move || {
            for _ in 0..ticks {
                if flag.load(Ordering::Relaxed) {
                    return;
                }
                std::thread::sleep(tick);
                let current = CURRENT.lock().unwrap_or_else(|e| e.into_inner()).clone();
                if let Some((started, case)) = current
                    && started.elapsed() > limit
                {
                    eprintln!(
                        "\nPROMQL CONFORMANCE WATCHDOG: case {case} has run for more than {limit:?} although every \
                         query has a deadline; the engine does not honour QueryContext::deadline. Aborting."
                    );
                    std::process::exit(1);
                }
            }
        });
        Watchdog {
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
