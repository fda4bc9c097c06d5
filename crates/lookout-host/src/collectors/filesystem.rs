//! The `filesystem` collector: statfs(2) of every mount in `/proc/1/mounts` (falling back to `/proc/mounts` when
//! pid 1 is hidden) that the mount-point and fs-type regexes do not exclude. Mount points are statted under
//! `rootfs` and reported with that prefix stripped, as node_exporter's `--path.rootfs` does.
//!
//! A hung mount (a dead NFS or CIFS server) cannot stall the scrape: statfs runs on a thread of its own and is
//! given `filesystem.mount_timeout` (5 s, node_exporter's `--collector.filesystem.mount-timeout`); past it the mount
//! is marked unresponsive and reported with `node_filesystem_device_error` 1 and no statfs at all until the
//! stuck call returns, as node_exporter's stuck-mount tracking does. At most one statfs per mount is ever in flight.

use super::{CollectError, CollectResult, Context};
use crate::exposition::{Exposition, Kind};
use crate::procfile;

/// One line of a mounts file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Mount {
    pub(crate) device: String,
    pub(crate) mount_point: String,
    pub(crate) fs_type: String,
    pub(crate) options: String,
}

/// What statfs said about a mount, or that it failed.
struct FsStats {
    size: f64,
    free: f64,
    avail: f64,
    files: f64,
    files_free: f64,
    readonly: f64,
}

/// Parses a mounts file, undoing fstab(5)'s `\040` and `\011` escapes in mount points.
pub(crate) fn parse_mounts(text: &str, rootfs: &str) -> Result<Vec<Mount>, CollectError> {
    let mut mounts = Vec::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_ascii_whitespace().collect();
        if parts.len() < 4 {
            return Err(CollectError::Failed(format!(
                "malformed mount point information: {line:?}"
            )));
        }
        let mp = parts[1].replace("\\040", " ").replace("\\011", "\t");
        mounts.push(Mount {
            device: parts[0].to_string(),
            mount_point: strip_rootfs(&mp, rootfs),
            fs_type: parts[2].to_string(),
            options: parts[3].to_string(),
        });
    }
    Ok(mounts)
}

/// node_exporter's `rootfsStripPrefix`: a plain string prefix, `/` when nothing is left.
fn strip_rootfs(path: &str, rootfs: &str) -> String {
    if rootfs == "/" {
        return path.to_string();
    }
    match path.strip_prefix(rootfs).unwrap_or(path) {
        "" => "/".to_string(),
        s => s.to_string(),
    }
}

/// Mount points whose statfs has not returned within the timeout (shared by renders).
#[derive(Debug, Default)]
pub(crate) struct StuckMounts(
    std::sync::Arc<parking_lot::Mutex<std::collections::HashSet<String>>>,
);

impl StuckMounts {
    /// No mount is marked unresponsive.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.lock().is_empty()
    }
}

/// The statfs call (replaced in tests by one that hangs).
pub(crate) type StatfsFn = fn(&std::path::Path) -> rustix::io::Result<rustix::fs::StatFs>;

/// statfs(2).
pub(crate) fn real_statfs(path: &std::path::Path) -> rustix::io::Result<rustix::fs::StatFs> {
    rustix::fs::statfs(path)
}

fn stat(ctx: &Context, m: &Mount) -> Option<FsStats> {
    let path = procfile::join(&ctx.rootfs, &m.mount_point);
    let stuck = ctx.stuck_mounts.0.clone();
    if stuck.lock().contains(&m.mount_point) {
        tracing::debug!(mount_point = %m.mount_point, "mount point is unresponsive; statfs skipped");
        return None;
    }
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let mount_point = m.mount_point.clone();
    let statfs = ctx.statfs;
    let spawned = std::thread::Builder::new()
        .name("statfs".into())
        .spawn(move || {
            let r = statfs(std::path::Path::new(&path));
            // Recovered (or finished in time): the mount is statted again from the next render on.
            if stuck.lock().remove(&mount_point) {
                tracing::info!(%mount_point, "mount point responds again");
            }
            let _ = tx.send(r);
        });
    if spawned.is_err() {
        return None;
    }
    let s = match rx.recv_timeout(ctx.mount_timeout) {
        Ok(r) => r.ok()?,
        Err(_) => {
            ctx.stuck_mounts.0.lock().insert(m.mount_point.clone());
            tracing::warn!(mount_point = %m.mount_point, timeout = ?ctx.mount_timeout, "statfs did not return in time: mount point marked unresponsive");
            return None;
        }
    };
    let bsize = s.f_bsize as f64;
    Some(FsStats {
        size: s.f_blocks as f64 * bsize,
        free: s.f_bfree as f64 * bsize,
        avail: s.f_bavail as f64 * bsize,
        files: s.f_files as f64,
        files_free: s.f_ffree as f64,
        readonly: if m.options.split(',').any(|o| o == "ro") {
            1.0
        } else {
            0.0
        },
    })
}

pub(crate) fn collect(ctx: &Context, out: &mut Exposition) -> CollectResult {
    let text = match procfile::read(&ctx.proc("1/mounts")) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => procfile::read(&ctx.proc("mounts"))?,
        other => other?,
    };
    let mut rows: Vec<(Mount, Option<FsStats>)> = Vec::new();
    for m in parse_mounts(&text, &ctx.rootfs)? {
        if ctx.mount_points_exclude.is_match(&m.mount_point)
            || ctx.fs_types_exclude.is_match(&m.fs_type)
        {
            continue;
        }
        // A series is exported once, for its first mount (a repeated series is dropped by node_exporter too).
        if rows.iter().any(|(r, _)| {
            r.device == m.device && r.mount_point == m.mount_point && r.fs_type == m.fs_type
        }) {
            continue;
        }
        let s = stat(ctx, &m);
        rows.push((m, s));
    }

    let labels = |m: &Mount| -> [(&'static str, String); 3] {
        [
            ("device", m.device.clone()),
            ("mountpoint", m.mount_point.clone()),
            ("fstype", m.fs_type.clone()),
        ]
    };
    let write = |out: &mut Exposition, m: &Mount, name: &str, v: f64| {
        let l = labels(m);
        out.sample(
            name,
            &[(l[0].0, &l[0].1), (l[1].0, &l[1].1), (l[2].0, &l[2].1)],
            v,
        );
    };

    let name = "node_filesystem_device_error";
    out.header(
        name,
        "Whether an error occurred while getting statistics for the given device.",
        Kind::Gauge,
    );
    for (m, s) in &rows {
        write(out, m, name, if s.is_some() { 0.0 } else { 1.0 });
    }
    type Field = fn(&FsStats) -> f64;
    let families: [(&str, &str, Field); 6] = [
        (
            "node_filesystem_size_bytes",
            "Filesystem size in bytes.",
            |s| s.size,
        ),
        (
            "node_filesystem_free_bytes",
            "Filesystem free space in bytes.",
            |s| s.free,
        ),
        (
            "node_filesystem_avail_bytes",
            "Filesystem space available to non-root users in bytes.",
            |s| s.avail,
        ),
        (
            "node_filesystem_files",
            "Filesystem total file nodes.",
            |s| s.files,
        ),
        (
            "node_filesystem_files_free",
            "Filesystem total free file nodes.",
            |s| s.files_free,
        ),
        (
            "node_filesystem_readonly",
            "Filesystem read-only status.",
            |s| s.readonly,
        ),
    ];
    for (name, help, field) in families {
        out.header(name, help, Kind::Gauge);
        for (m, s) in &rows {
            if let Some(s) = s {
                write(out, m, name, field(s));
            }
        }
    }
    Ok(())
}
