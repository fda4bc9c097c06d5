//! The collectors, named and ordered as node_exporter's, and the loop that runs them and writes
//! `node_scrape_collector_{duration_seconds,success}` for each.

mod cpu;
mod diskstats;
mod filefd;
mod filesystem;
mod hwmon;
mod loadavg;
mod meminfo;
mod netdev;
mod netstat;
mod pressure;
mod sockstat;
mod stat;
mod time;
mod uname;
mod vmstat;

use std::io;
use std::path::PathBuf;
use std::time::Instant;

use regex::Regex;

use crate::exposition::{Exposition, Kind};
use crate::options::{self, DeviceFilterOptions, HostOptions};
use crate::{HostError, procfile};

/// Why a collector produced nothing (or only part of its families).
#[derive(Debug)]
pub(crate) enum CollectError {
    /// The data source does not exist here (node_exporter's `ErrNoData`): success 0, logged at debug.
    NoData,
    /// Reading or parsing failed.
    Failed(String),
}

impl From<io::Error> for CollectError {
    fn from(e: io::Error) -> Self {
        CollectError::Failed(e.to_string())
    }
}

pub(crate) type CollectResult = Result<(), CollectError>;

/// node_exporter's device filter: a device is ignored when it matches the exclude regex or misses the include.
#[derive(Debug)]
pub(crate) struct DeviceFilter {
    exclude: Option<Regex>,
    include: Option<Regex>,
}

impl DeviceFilter {
    fn new(
        opts: &DeviceFilterOptions,
        default_exclude: Option<&str>,
        exclude_key: &'static str,
        include_key: &'static str,
    ) -> Result<Self, HostError> {
        let include = opts.device_include.as_deref().filter(|s| !s.is_empty());
        // An include regex replaces the default exclusion; both given explicitly is an error, as upstream.
        let exclude = match opts.device_exclude.as_deref() {
            Some(s) => Some(s).filter(|s| !s.is_empty()),
            None if include.is_some() => None,
            None => default_exclude,
        };
        if exclude.is_some() && include.is_some() {
            return Err(HostError::Invalid(format!(
                "{exclude_key} and {include_key} are mutually exclusive"
            )));
        }
        Ok(DeviceFilter {
            exclude: exclude.map(|r| compile(exclude_key, r)).transpose()?,
            include: include.map(|r| compile(include_key, r)).transpose()?,
        })
    }

    pub(crate) fn ignored(&self, name: &str) -> bool {
        self.exclude.as_ref().is_some_and(|r| r.is_match(name))
            || self.include.as_ref().is_some_and(|r| !r.is_match(name))
    }
}

fn compile(key: &'static str, re: &str) -> Result<Regex, HostError> {
    Regex::new(re).map_err(|source| HostError::Regex { key, source })
}

/// Compiled options plus the little state the collectors keep between renders.
#[derive(Debug)]
pub(crate) struct Context {
    pub(crate) proc_root: String,
    pub(crate) sys_root: String,
    pub(crate) rootfs: String,
    pub(crate) udev_data_path: String,
    pub(crate) mount_points_exclude: Regex,
    pub(crate) fs_types_exclude: Regex,
    pub(crate) disk_filter: DeviceFilter,
    pub(crate) netdev_filter: DeviceFilter,
    pub(crate) vmstat_fields: Regex,
    pub(crate) netstat_fields: Regex,
    pub(crate) cpu: cpu::CpuFloor,
    pub(crate) mount_timeout: std::time::Duration,
    pub(crate) stuck_mounts: filesystem::StuckMounts,
    pub(crate) statfs: filesystem::StatfsFn,
}

impl Context {
    pub(crate) fn new(o: HostOptions) -> Result<Self, HostError> {
        for (key, v) in [
            ("proc_root", &o.proc_root),
            ("sys_root", &o.sys_root),
            ("rootfs", &o.rootfs),
        ] {
            if v.is_empty() {
                return Err(HostError::Invalid(format!("{key} must not be empty")));
            }
        }
        Ok(Context {
            mount_points_exclude: compile(
                "filesystem.mount_points_exclude",
                &o.filesystem.mount_points_exclude,
            )?,
            fs_types_exclude: compile(
                "filesystem.fs_types_exclude",
                &o.filesystem.fs_types_exclude,
            )?,
            disk_filter: DeviceFilter::new(
                &o.diskstats,
                Some(options::DEFAULT_DISKSTATS_DEVICE_EXCLUDE),
                "diskstats.device_exclude",
                "diskstats.device_include",
            )?,
            netdev_filter: DeviceFilter::new(
                &o.netdev,
                None,
                "netdev.device_exclude",
                "netdev.device_include",
            )?,
            vmstat_fields: compile(
                "vmstat.fields",
                o.vmstat
                    .fields
                    .as_deref()
                    .unwrap_or(options::DEFAULT_VMSTAT_FIELDS),
            )?,
            netstat_fields: compile(
                "netstat.fields",
                o.netstat
                    .fields
                    .as_deref()
                    .unwrap_or(options::DEFAULT_NETSTAT_FIELDS),
            )?,
            proc_root: o.proc_root,
            sys_root: o.sys_root,
            rootfs: o.rootfs,
            udev_data_path: o.udev_data_path,
            cpu: cpu::CpuFloor::default(),
            mount_timeout: o.filesystem.mount_timeout.as_duration(),
            stuck_mounts: filesystem::StuckMounts::default(),
            statfs: filesystem::real_statfs,
        })
    }

    pub(crate) fn proc(&self, name: &str) -> PathBuf {
        procfile::join(&self.proc_root, name)
    }

    pub(crate) fn sys(&self, name: &str) -> PathBuf {
        procfile::join(&self.sys_root, name)
    }
}

type CollectFn = fn(&Context, &mut Exposition) -> CollectResult;

/// The collectors in node_exporter's names, alphabetical as node_exporter lists them.
const COLLECTORS: &[(&str, CollectFn)] = &[
    ("cpu", cpu::collect),
    ("diskstats", diskstats::collect),
    ("filefd", filefd::collect),
    ("filesystem", filesystem::collect),
    ("hwmon", hwmon::collect),
    ("loadavg", loadavg::collect),
    ("meminfo", meminfo::collect),
    ("netdev", netdev::collect),
    ("netstat", netstat::collect),
    ("pressure", pressure::collect),
    ("sockstat", sockstat::collect),
    ("stat", stat::collect),
    ("time", time::collect),
    ("uname", uname::collect),
    ("vmstat", vmstat::collect),
];

/// The names of the collectors this crate implements.
pub(crate) fn names() -> impl Iterator<Item = &'static str> {
    COLLECTORS.iter().map(|(n, _)| *n)
}

/// Runs every collector and appends the scrape-health families.
pub(crate) fn render(ctx: &Context) -> String {
    let mut out = Exposition::with_capacity(48 * 1024);
    let mut health = [(0.0f64, false); COLLECTORS.len()];
    for (i, (name, collect)) in COLLECTORS.iter().enumerate() {
        let start = Instant::now();
        let result = collect(ctx, &mut out);
        let elapsed = start.elapsed().as_secs_f64();
        match &result {
            Ok(()) => {}
            Err(CollectError::NoData) => {
                tracing::debug!(collector = name, "collector returned no data")
            }
            Err(CollectError::Failed(e)) => {
                tracing::warn!(collector = name, error = %e, "collector failed")
            }
        }
        health[i] = (elapsed, result.is_ok());
    }
    out.header(
        "node_scrape_collector_duration_seconds",
        "node_exporter: Duration of a collector scrape.",
        Kind::Gauge,
    );
    for ((name, _), (elapsed, _)) in COLLECTORS.iter().zip(&health) {
        out.sample(
            "node_scrape_collector_duration_seconds",
            &[("collector", name)],
            *elapsed,
        );
    }
    out.header(
        "node_scrape_collector_success",
        "node_exporter: Whether a collector succeeded.",
        Kind::Gauge,
    );
    for ((name, _), (_, ok)) in COLLECTORS.iter().zip(&health) {
        out.sample(
            "node_scrape_collector_success",
            &[("collector", name)],
            if *ok { 1.0 } else { 0.0 },
        );
    }
    out.finish()
}

/// Parses a decimal field, naming the file in the error.
pub(crate) fn parse_f64(field: &str, file: &str) -> Result<f64, CollectError> {
    field
        .parse::<f64>()
        .map_err(|_| CollectError::Failed(format!("invalid value {field:?} in {file}")))
}

#[cfg(test)]
mod tests;
