//! The systemd journal, followed through `journalctl -o json --all --follow --no-tail`, from the saved cursor
//! (`--after-cursor`) or, on the first start, from `since` (`--since`). The cursor of the last stored entry is
//! saved in `journal.cursor` in the state directory only after its push was acknowledged. A missing or exiting
//! journalctl is logged, counted in `lookout_hostlogs_source_errors_total{source="journal"}` and started again
//! with a backoff (1s doubling to 30s); the child is killed at shutdown.

mod entry;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

use crate::HostLogsError;
use crate::config::JournalConfig;
use crate::labels::StaticLabels;
use crate::metrics::{DropReason, SourceMetrics, add, inc};
use crate::shipper::{Batch, Shipper, Shutdown, now_ns, write_atomic};

/// A journal line above this is skipped (journalctl `--all` prints binary fields such as core dumps in full).
const MAX_LINE: usize = 16 << 20;
const MIN_RESTART: Duration = Duration::from_secs(1);
const MAX_RESTART: Duration = Duration::from_secs(30);

struct Journal {
    cfg: JournalConfig,
    labels: StaticLabels,
    cursor_path: PathBuf,
    shipper: Shipper,
    metrics: Arc<SourceMetrics>,
    shutdown: Shutdown,
    /// The cursor of the last entry stored (or deliberately skipped), as saved.
    cursor: Option<String>,
}

/// How one journalctl run ended.
enum RunEnd {
    Shutdown,
    Exited { read_any: bool },
}

/// Checks the labels and starts the journal task.
pub(crate) fn start(
    cfg: &JournalConfig,
    state_dir: &Path,
    shipper: Shipper,
    metrics: Arc<SourceMetrics>,
    shutdown: Shutdown,
) -> Result<JoinHandle<()>, HostLogsError> {
    let labels = StaticLabels::new(&cfg.job, &cfg.labels)?;
    if cfg.path.is_some() && !cfg.files.is_empty() {
        // journalctl refuses --directory with --file, so the source would only ever restart.
        return Err(HostLogsError::Config(
            "journal: `path` and `files` exclude each other (journalctl takes one of --directory and --file)"
                .into(),
        ));
    }
    let j = Journal {
        cfg: cfg.clone(),
        labels,
        cursor_path: state_dir.join("journal.cursor"),
        shipper,
        metrics,
        shutdown,
        cursor: None,
    };
    Ok(tokio::spawn(j.run()))
}

impl Journal {
    async fn run(mut self) {
        let p = self.cursor_path.clone();
        self.cursor = tokio::task::spawn_blocking(move || std::fs::read_to_string(p).ok())
            .await
            .ok()
            .flatten()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        if let Some(c) = &self.cursor
            && !is_cursor(c)
        {
            // journalctl cannot seek to it and would exit at every restart: start over from `since` instead.
            tracing::warn!(path = %self.cursor_path.display(), cursor = %c, "the saved journal cursor is not a journal cursor; reading from `since` instead");
            inc(&self.metrics.source_errors);
            self.cursor = None;
        }
        let mut backoff = MIN_RESTART;
        while !self.shutdown.is_set() {
            let mut child = match self.command().spawn() {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(program = %self.cfg.journalctl_path, error = %e, "cannot start journalctl");
                    inc(&self.metrics.source_errors);
                    if !self.pause(&mut backoff).await {
                        break;
                    }
                    continue;
                }
            };
            inc(&self.metrics.starts);
            match self.follow(&mut child).await {
                RunEnd::Shutdown => break,
                RunEnd::Exited { read_any } => {
                    let status = child.wait().await;
                    tracing::warn!(?status, "journalctl exited; starting it again");
                    inc(&self.metrics.source_errors);
                    if read_any {
                        backoff = MIN_RESTART;
                    }
                    if !self.pause(&mut backoff).await {
                        break;
                    }
                }
            }
        }
    }

    /// Waits the backoff and doubles it; false on shutdown.
    async fn pause(&self, backoff: &mut Duration) -> bool {
        let d = *backoff;
        *backoff = (*backoff * 2).min(MAX_RESTART);
        tokio::select! {
            _ = tokio::time::sleep(d) => true,
            _ = self.shutdown.wait() => false,
        }
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.cfg.journalctl_path);
        c.args(["-o", "json", "--all", "--follow", "--no-tail", "--no-pager"]);
        if let Some(dir) = &self.cfg.path {
            c.arg(format!("--directory={dir}"));
        }
        for f in &self.cfg.files {
            c.arg(format!("--file={f}"));
        }
        match &self.cursor {
            Some(cur) => {
                c.arg(format!("--after-cursor={cur}"));
            }
            None if !self.cfg.since.is_empty() => {
                c.arg(format!("--since={}", self.cfg.since));
            }
            None => {}
        }
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        c
    }

    /// Reads the child's entries until it exits or shutdown; pushes batches and saves the cursor after each.
    async fn follow(&mut self, child: &mut Child) -> RunEnd {
        if let Some(err) = child.stderr.take() {
            tokio::spawn(async move {
                let mut lines = BufReader::new(err).lines();
                while let Ok(Some(l)) = lines.next_line().await {
                    tracing::warn!(stderr = %l, "journalctl");
                }
            });
        }
        let Some(out) = child.stdout.take() else {
            return RunEnd::Exited { read_any: false };
        };
        let mut out = BufReader::with_capacity(256 << 10, out);
        let mut batch = Batch::default();
        let mut pending_cursor: Option<String> = None;
        let mut line = Vec::new();
        let mut oversized = false;
        let mut read_any = false;
        let end = loop {
            let due = batch.due_at(self.shipper.cfg());
            // `read_line` keeps its progress in `line`/`oversized`, so losing the race to the timer loses nothing.
            let got = tokio::select! {
                r = read_line(&mut out, &mut line, &mut oversized) => r,
                _ = async { tokio::time::sleep_until(due.unwrap().into()).await }, if due.is_some() => Ok(Some(false)),
                _ = self.shutdown.wait() => break RunEnd::Shutdown,
            };
            match got {
                Ok(None) | Err(_) => break RunEnd::Exited { read_any },
                Ok(Some(false)) => {}
                Ok(Some(true)) => {
                    read_any = true;
                    self.take_line(&line, oversized, &mut batch, &mut pending_cursor);
                    line.clear();
                    oversized = false;
                }
            }
            if (batch.ready(self.shipper.cfg()) || (batch.is_empty() && pending_cursor.is_some()))
                && !self.flush(&mut batch, &mut pending_cursor, false).await
            {
                break RunEnd::Shutdown;
            }
        };
        if let RunEnd::Shutdown = end {
            let _ = child.start_kill();
            let _ = child.wait().await;
            self.flush(&mut batch, &mut pending_cursor, true).await;
        } else {
            self.flush(&mut batch, &mut pending_cursor, false).await;
        }
        end
    }

    /// Counts and parses one line into the batch.
    fn take_line(
        &self,
        line: &[u8],
        oversized: bool,
        batch: &mut Batch,
        cursor: &mut Option<String>,
    ) {
        if line.is_empty() && !oversized {
            return;
        }
        inc(&self.metrics.read);
        add(&self.metrics.read_bytes, line.len() as u64);
        if oversized {
            self.metrics.dropped(DropReason::TooLarge, 1);
            return;
        }
        match entry::parse(
            line,
            &self.labels,
            self.cfg.max_field_size.0 as usize,
            now_ns(),
        ) {
            Ok(e) => {
                if e.cursor.is_some() {
                    *cursor = e.cursor;
                }
                if e.entry.line.is_empty() {
                    self.metrics.dropped(DropReason::Empty, 1);
                } else {
                    batch.add((e.labels, e.entry));
                }
            }
            Err(err) => {
                tracing::debug!(error = %err, "skipping journal line");
                self.metrics.dropped(DropReason::Malformed, 1);
            }
        }
    }

    /// Pushes the batch and saves the cursor; false when stopped by shutdown (cursor not saved).
    async fn flush(
        &mut self,
        batch: &mut Batch,
        pending: &mut Option<String>,
        final_flush: bool,
    ) -> bool {
        if !batch.is_empty()
            && let Err(stopped) = self.shipper.ship(batch.take(), final_flush).await
        {
            tracing::info!(
                entries = stopped.unshipped,
                "journal entries not stored at shutdown; read again at start"
            );
            *pending = None;
            return false;
        }
        if let Some(cur) = pending.take()
            && self.cursor.as_ref() != Some(&cur)
        {
            let path = self.cursor_path.clone();
            let data = cur.clone();
            match tokio::task::spawn_blocking(move || write_atomic(&path, data.as_bytes())).await {
                Ok(Ok(())) => {}
                _ => {
                    tracing::warn!(path = %self.cursor_path.display(), "cannot save the journal cursor");
                    inc(&self.metrics.source_errors);
                }
            }
            self.cursor = Some(cur);
        }
        true
    }
}

/// Reads into `buf` until a newline (not kept), keeping at most [`MAX_LINE`] bytes (`oversized` then set):
/// `Some(true)` when a line is complete, `None` at the end of the stream. Cancel-safe: progress stays in `buf`.
async fn read_line<R: AsyncBufRead + Unpin>(
    r: &mut R,
    buf: &mut Vec<u8>,
    oversized: &mut bool,
) -> std::io::Result<Option<bool>> {
    loop {
        let avail = r.fill_buf().await?;
        if avail.is_empty() {
            return Ok((!buf.is_empty() || *oversized).then_some(true));
        }
        let (chunk, used, done) = match avail.iter().position(|&b| b == b'\n') {
            Some(i) => (&avail[..i], i + 1, true),
            None => (avail, avail.len(), false),
        };
        if buf.len() + chunk.len() > MAX_LINE {
            *oversized = true;
            buf.clear();
        } else if !*oversized {
            buf.extend_from_slice(chunk);
        }
        r.consume(used);
        if done {
            return Ok(Some(true));
        }
    }
}

#[cfg(test)]
mod tests;

/// Whether `c` has the shape of a journal cursor: `;`-separated `s=`, `i=`, `b=`, `m=`, `t=`, `x=` fields with
/// hexadecimal values (sd-journal's `sd_journal_get_cursor` format), `s=` and `i=` at least.
fn is_cursor(c: &str) -> bool {
    let mut keys = Vec::new();
    for part in c.split(';') {
        let Some((k, v)) = part.split_once('=') else {
            return false;
        };
        if !matches!(k, "s" | "i" | "b" | "m" | "t" | "x")
            || v.is_empty()
            || !v.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return false;
        }
        keys.push(k);
    }
    keys.contains(&"s") && keys.contains(&"i")
}

#[cfg(test)]
mod cursor_tests {
    use super::is_cursor;

    #[test]
    fn journal_cursors_are_recognised_and_garbage_is_not() {
        assert!(is_cursor(
            "s=0b5d2e1f8c6a4b7e9d3c2a1b0f9e8d7c;i=1a;b=6f1e2d3c4b5a69788796a5b4c3d2e1f0;m=12ab34;t=5f0e1d2c3b4a5;x=9a8b7c6d5e4f3a2b"
        ));
        assert!(!is_cursor("garbage"));
        assert!(!is_cursor("s=zz;i=1;b=2;m=3;t=4;x=5"));
        assert!(!is_cursor("b=2;m=3;t=4"));
        assert!(!is_cursor("s=1;i=1;q=2"));
        assert!(!is_cursor(""));
    }
}
