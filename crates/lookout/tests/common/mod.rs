//! Helpers for tests that run the real `lookout` binary (and peer programs) as child processes on 127.0.0.1.

#![allow(dead_code)] // each test binary uses its own subset

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process, killed (SIGKILL) and reaped when dropped.
pub struct Proc(pub Child);

impl Proc {
    /// Starts `program` with `args`; panics with a clear message when it is not installed.
    pub fn spawn(program: &str, args: &[String]) -> Proc {
        let child = Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{program} is needed for this test (.ci/run installs it): {e}")
            });
        Proc(child)
    }

    /// The `lookout` binary built with this test, with `args`.
    pub fn lookout(args: &[String]) -> Proc {
        Proc::spawn(env!("CARGO_BIN_EXE_lookout"), args)
    }

    /// `kill -9`: no shutdown, no final fsync.
    pub fn kill9(mut self) {
        self.0.kill().expect("kill");
        self.0.wait().expect("reap");
    }

    /// SIGTERM and wait (10 s at most, then SIGKILL): a clean stop.
    pub fn terminate(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Peak resident set size (`VmHWM`) in bytes, while the process runs.
    pub fn peak_rss(&self) -> u64 {
        status_kib(self.0.id(), "VmHWM:") * 1024
    }

    /// (anonymous, file-backed) resident bytes (`RssAnon`, `RssFile`), while the process runs.
    pub fn rss_parts(&self) -> (u64, u64) {
        (
            status_kib(self.0.id(), "RssAnon:") * 1024,
            status_kib(self.0.id(), "RssFile:") * 1024,
        )
    }

    /// Resident set size (`VmRSS`) in bytes, while the process runs.
    pub fn rss(&self) -> u64 {
        status_kib(self.0.id(), "VmRSS:") * 1024
    }
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `lookout <mode> --listen 127.0.0.1:<port> --memory-limit <limit> --config <dir>/lookout.yml --data-dir <dir>/data`.
pub fn lookout_in(mode: &str, dir: &Path, port: u16, memory_limit: &str) -> Proc {
    Proc::lookout(&[
        mode.to_string(),
        "--listen".into(),
        format!("127.0.0.1:{port}"),
        "--memory-limit".into(),
        memory_limit.into(),
        "--config".into(),
        dir.join("lookout.yml").display().to_string(),
        "--data-dir".into(),
        dir.join("data").display().to_string(),
    ])
}

/// A free TCP port on 127.0.0.1 (bound and released; the process started next binds it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Waits until `url` answers 2xx (`timeout` at most).
pub async fn wait_ready(url: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(r) = reqwest::get(url).await
            && r.status().is_success()
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{url} did not answer 2xx within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}
