//! The `cpu` collector: per-CPU mode seconds from `/proc/stat` (USER_HZ = 100, as node_exporter assumes), guest
//! seconds, thermal throttle counters and isolated CPUs from sysfs. Like node_exporter it keeps the last values
//! so a counter that jumps backwards is held, and resets a CPU whose idle time fell by 3 s or more (hotplug).

use parking_lot::Mutex;

use super::{CollectError, CollectResult, Context};
use crate::exposition::{Exposition, Kind};
use crate::procfile;

/// The kernel's USER_HZ, which `/proc/stat` counts in.
const USER_HZ: f64 = 100.0;
/// How far idle may fall before a CPU's history is dropped (node_exporter's `jumpBackSeconds`).
const JUMP_BACK_SECONDS: f64 = 3.0;

/// Field order of a `cpuN` line: user nice system idle iowait irq softirq steal guest guest_nice.
type CpuTimes = [f64; 10];
const IDLE: usize = 3;
const MODES: [&str; 8] = [
    "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal",
];

/// The last CPU times exported, per CPU index.
#[derive(Debug, Default)]
pub(crate) struct CpuFloor {
    last: Mutex<Vec<CpuTimes>>,
}

/// Parses the `cpuN` lines of `/proc/stat` into a list indexed by N (gaps stay zero, as procfs fills them).
pub(crate) fn parse_cpu_lines(stat: &str) -> Result<Vec<CpuTimes>, CollectError> {
    let mut cpus: Vec<CpuTimes> = Vec::new();
    for line in stat.lines() {
        let mut fields = line.split_ascii_whitespace();
        let Some(id) = fields.next().and_then(|f| f.strip_prefix("cpu")) else {
            continue;
        };
        if id.is_empty() {
            continue; // the all-CPU total line
        }
        let id: usize = id
            .parse()
            .map_err(|_| CollectError::Failed(format!("invalid cpu line {line:?} in stat")))?;
        let mut times = [0.0; 10];
        for (slot, field) in times.iter_mut().zip(fields) {
            *slot = super::parse_f64(field, "stat")? / USER_HZ;
        }
        if cpus.len() <= id {
            cpus.resize(id + 1, [0.0; 10]);
        }
        cpus[id] = times;
    }
    Ok(cpus)
}

impl CpuFloor {
    /// Merges fresh times into the floor and returns what to export.
    fn update(&self, fresh: Vec<CpuTimes>) -> Vec<CpuTimes> {
        let mut last = self.last.lock();
        if last.len() != fresh.len() {
            *last = vec![[0.0; 10]; fresh.len()];
        }
        for (old, new) in last.iter_mut().zip(&fresh) {
            if old[IDLE] - new[IDLE] >= JUMP_BACK_SECONDS {
                *old = [0.0; 10];
            }
            for (o, n) in old.iter_mut().zip(new) {
                if *n >= *o {
                    *o = *n;
                }
            }
        }
        last.clone()
    }
}

pub(crate) fn collect(ctx: &Context, out: &mut Exposition) -> CollectResult {
    let stat = procfile::read(&ctx.proc("stat"))?;
    let cpus = ctx.cpu.update(parse_cpu_lines(&stat)?);

    out.header(
        "node_cpu_seconds_total",
        "Seconds the CPUs spent in each mode.",
        Kind::Counter,
    );
    for (i, times) in cpus.iter().enumerate() {
        let id = i.to_string();
        for (mode, v) in MODES.iter().zip(times) {
            out.sample(
                "node_cpu_seconds_total",
                &[("cpu", &id), ("mode", mode)],
                *v,
            );
        }
    }
    out.header(
        "node_cpu_guest_seconds_total",
        "Seconds the CPUs spent in guests (VMs) for each mode.",
        Kind::Counter,
    );
    for (i, times) in cpus.iter().enumerate() {
        let id = i.to_string();
        let name = "node_cpu_guest_seconds_total";
        out.sample(name, &[("cpu", &id), ("mode", "user")], times[8]);
        out.sample(name, &[("cpu", &id), ("mode", "nice")], times[9]);
    }

    isolated(ctx, out);
    throttles(ctx, out)
}

/// `node_cpu_isolated`, from the kernel's list of isolated CPUs (`1,3-5`).
fn isolated(ctx: &Context, out: &mut Exposition) {
    let Some(list) = procfile::read_trimmed(&ctx.sys("devices/system/cpu/isolated")) else {
        return;
    };
    let mut cpus = Vec::new();
    for part in list.split(',').filter(|p| !p.is_empty()) {
        let (lo, hi) = part.split_once('-').unwrap_or((part, part));
        if let (Ok(lo), Ok(hi)) = (lo.parse::<u16>(), hi.parse::<u16>()) {
            cpus.extend(lo..=hi);
        }
    }
    if cpus.is_empty() {
        return;
    }
    out.header(
        "node_cpu_isolated",
        "Whether each core is isolated, information from /sys/devices/system/cpu/isolated.",
        Kind::Gauge,
    );
    for c in cpus {
        out.sample("node_cpu_isolated", &[("cpu", &c.to_string())], 1.0);
    }
}

/// `node_cpu_{package,core}_throttles_total` from `thermal_throttle/`, read once per package and per core.
fn throttles(ctx: &Context, out: &mut Exposition) -> CollectResult {
    let dir = ctx.sys("devices/system/cpu");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(());
    };
    let mut packages: Vec<(u64, Option<u64>)> = Vec::new();
    let mut cores: Vec<(u64, u64, Option<u64>)> = Vec::new();
    let mut cpu_dirs: Vec<_> = entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.strip_prefix("cpu")
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        })
        .map(|e| e.path())
        .collect();
    cpu_dirs.sort();
    for cpu in cpu_dirs {
        let Some(package) = procfile::read_u64(&cpu.join("topology/physical_package_id")) else {
            continue;
        };
        let Some(core) = procfile::read_u64(&cpu.join("topology/core_id")) else {
            continue;
        };
        if !cores.iter().any(|(p, c, _)| *p == package && *c == core) {
            let count = procfile::read_u64(&cpu.join("thermal_throttle/core_throttle_count"));
            cores.push((package, core, count));
        }
        if !packages.iter().any(|(p, _)| *p == package) {
            let count = procfile::read_u64(&cpu.join("thermal_throttle/package_throttle_count"));
            packages.push((package, count));
        }
    }
    let packages: Vec<_> = packages
        .into_iter()
        .filter_map(|(p, c)| Some((p, c?)))
        .collect();
    if !packages.is_empty() {
        let name = "node_cpu_package_throttles_total";
        out.header(
            name,
            "Number of times this CPU package has been throttled.",
            Kind::Counter,
        );
        for (p, c) in packages {
            out.sample(name, &[("package", &p.to_string())], c as f64);
        }
    }
    let cores: Vec<_> = cores
        .into_iter()
        .filter_map(|(p, core, c)| Some((p, core, c?)))
        .collect();
    if !cores.is_empty() {
        let name = "node_cpu_core_throttles_total";
        out.header(
            name,
            "Number of times this CPU core has been throttled.",
            Kind::Counter,
        );
        for (p, core, c) in cores {
            out.sample(
                name,
                &[("package", &p.to_string()), ("core", &core.to_string())],
                c as f64,
            );
        }
    }
    Ok(())
}
