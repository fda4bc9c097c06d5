//! File tailing: globs expanded every `sync_period`, files polled every `poll_interval` on a blocking thread,
//! entries batched and pushed, and `positions.json` saved only after the push carrying the entries up to those
//! positions was stored. The pods source reuses the tailer with its own discovery and line format ([`spawn`]). A multi-line block still being assembled is not covered by the saved position, so a
//! restart reads it again whole. New files start at their beginning; with `tail_from_end`, files found at
//! startup without a saved position start at their end.

mod decoder;
mod globs;
mod multiline;
mod positions;
mod reader;
mod tailer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use crate::HostLogsError;
use crate::config::FileTargetConfig;
use crate::labels::StaticLabels;
use crate::metrics::{SourceMetrics, inc};
use crate::shipper::{Batch, Shipper, Shutdown};
pub(crate) use decoder::Decoded;
use globs::{GlobDiscovery, GlobTarget};
use positions::PositionEntry;
pub(crate) use tailer::{Discovery, FilesState, Format, Found, Target};

/// Compiles the targets, loads the positions and starts the tailing task.
pub(crate) fn start(
    cfgs: &[FileTargetConfig],
    state_dir: &Path,
    shipper: Shipper,
    metrics: Arc<SourceMetrics>,
    shutdown: Shutdown,
) -> Result<JoinHandle<()>, HostLogsError> {
    let mut targets = Vec::new();
    let mut globs = Vec::new();
    for (i, c) in cfgs.iter().enumerate() {
        let bad = |what: &str, e: &dyn std::fmt::Display| {
            HostLogsError::Config(format!("files[{i}]: {what}: {e}"))
        };
        for p in &c.paths {
            glob::Pattern::new(p).map_err(|e| bad(&format!("bad glob {p:?}"), &e))?;
        }
        let exclude = c
            .exclude
            .iter()
            .map(|p| glob::Pattern::new(p).map_err(|e| bad(&format!("bad glob {p:?}"), &e)))
            .collect::<Result<Vec<_>, _>>()?;
        let multiline = match &c.multiline {
            None => None,
            Some(m) => Some((
                regex::Regex::new(&m.firstline).map_err(|e| bad("bad multiline.firstline", &e))?,
                m.max_lines,
                m.max_wait_time.as_duration(),
            )),
        };
        globs.push(GlobTarget {
            include: c.paths.clone(),
            exclude,
            labels: StaticLabels::new("", &c.labels)?,
        });
        targets.push(Target {
            format: Format::Plain,
            multiline,
            max_line: c.max_line_size.0 as usize,
            truncate: c.max_line_size_truncate,
            tail_from_end: c.tail_from_end,
        });
    }
    let sync = cfgs.iter().map(|c| c.sync_period.as_duration()).min();
    let poll = cfgs.iter().map(|c| c.poll_interval.as_duration()).min();
    let poll = poll
        .unwrap_or(Duration::from_millis(250))
        .max(Duration::from_millis(10));
    let state = |saved| {
        FilesState::new(
            targets,
            Box::new(GlobDiscovery::new(globs)),
            saved,
            sync.unwrap_or(Duration::from_secs(10)),
            metrics.clone(),
        )
    };
    Ok(spawn(
        state,
        &state_dir.join("positions.json"),
        poll,
        shipper,
        metrics.clone(),
        shutdown,
    ))
}

/// Loads the positions saved at `positions_path`, builds the state from them and starts the task polling it,
/// pushing its entries and saving its positions (shared by the files and pods sources).
pub(crate) fn spawn(
    state: impl FnOnce(Vec<PositionEntry>) -> FilesState,
    positions_path: &Path,
    poll: Duration,
    shipper: Shipper,
    metrics: Arc<SourceMetrics>,
    shutdown: Shutdown,
) -> JoinHandle<()> {
    let saved = positions::load(positions_path);
    let state = state(saved.clone());
    tokio::spawn(run(
        state,
        positions_path.to_path_buf(),
        saved,
        poll,
        shipper,
        metrics,
        shutdown,
    ))
}

async fn run(
    mut state: FilesState,
    path: PathBuf,
    mut saved: Vec<PositionEntry>,
    poll: Duration,
    shipper: Shipper,
    metrics: Arc<SourceMetrics>,
    shutdown: Shutdown,
) {
    let mut batch = Batch::default();
    loop {
        let polled = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            state.poll(Instant::now(), &mut out);
            (state, out)
        })
        .await;
        let items;
        (state, items) = match polled {
            Ok(x) => x,
            Err(e) => {
                tracing::error!(error = %e, "tailing stopped: poll failed");
                inc(&metrics.source_errors);
                return;
            }
        };
        for item in items {
            batch.add(item);
        }
        if batch.ready(shipper.cfg()) {
            if let Err(stopped) = shipper.ship(batch.take(), false).await {
                // Not saved: the entries are read again at the next start.
                tracing::info!(
                    entries = stopped.unshipped,
                    "file entries not stored at shutdown"
                );
                return;
            }
            save(&path, &mut saved, state.positions(), &metrics).await;
        } else if batch.is_empty() {
            // Nothing pending: dropped lines, new and finished files still move the positions.
            save(&path, &mut saved, state.positions(), &metrics).await;
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = shutdown.wait() => break,
        }
    }
    if !batch.is_empty() {
        match shipper.ship(batch.take(), true).await {
            Ok(()) => {}
            Err(stopped) => {
                // Not lost: the saved positions stay before them, so they are read again at the next start.
                tracing::info!(
                    entries = stopped.unshipped,
                    "file entries not stored at shutdown"
                );
                return;
            }
        }
    }
    save(&path, &mut saved, state.positions(), &metrics).await;
}

/// Writes the positions when they changed.
async fn save(
    path: &Path,
    saved: &mut Vec<PositionEntry>,
    now: Vec<PositionEntry>,
    metrics: &SourceMetrics,
) {
    if *saved == now {
        return;
    }
    let (p, data) = (path.to_path_buf(), now.clone());
    match tokio::task::spawn_blocking(move || positions::save(&p, &data)).await {
        Ok(Ok(())) => *saved = now,
        Ok(Err(e)) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot save positions");
            inc(&metrics.source_errors);
        }
        Err(e) => tracing::warn!(error = %e, "saving positions failed"),
    }
}

#[cfg(test)]
mod tests;
