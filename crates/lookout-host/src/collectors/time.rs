//! The `time` collector: the system clock, the local zone's offset and abbreviation (as Go's `time.Now().Zone()`,
//! honouring `TZ`), and the clocksources in `/sys/devices/system/clocksource/clocksource<N>/`.

use super::{CollectResult, Context};
use crate::exposition::{Exposition, Kind};
use crate::procfile;

pub(crate) fn collect(ctx: &Context, out: &mut Exposition) -> CollectResult {
    let now = jiff::Timestamp::now();
    let seconds = now.as_nanosecond() as f64 / 1e9;
    out.single(
        "node_time_seconds",
        "System time in seconds since epoch (1970).",
        Kind::Gauge,
        seconds,
    );
    let tz = jiff::tz::TimeZone::system();
    let info = tz.to_offset_info(now);
    let name = "node_time_zone_offset_seconds";
    out.header(name, "System time zone offset in seconds.", Kind::Gauge);
    out.sample(
        name,
        &[("time_zone", info.abbreviation())],
        f64::from(info.offset().seconds()),
    );
    clocksources(ctx, out);
    Ok(())
}

/// Available and current clocksources, `device` being the position in the sorted directory list (as procfs numbers them).
fn clocksources(ctx: &Context, out: &mut Exposition) {
    let dir = ctx.sys("devices/system/clocksource");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut ids: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.strip_prefix("clocksource")
                .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
                .map(str::to_string)
        })
        .collect();
    // procfs globs the directories (lexical order) and labels each by its position in that list.
    ids.sort();
    let mut sources = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let base = dir.join(format!("clocksource{id}"));
        let (Some(available), Some(current)) = (
            procfile::read_trimmed(&base.join("available_clocksource")),
            procfile::read_trimmed(&base.join("current_clocksource")),
        ) else {
            continue;
        };
        sources.push((i.to_string(), available, current));
    }
    if sources.is_empty() {
        return;
    }
    let name = "node_time_clocksource_available_info";
    out.header(
        name,
        "Available clocksources read from '/sys/devices/system/clocksource'.",
        Kind::Gauge,
    );
    for (id, available, _) in &sources {
        for cs in available.split_ascii_whitespace() {
            out.sample(name, &[("device", id), ("clocksource", cs)], 1.0);
        }
    }
    let name = "node_time_clocksource_current_info";
    out.header(
        name,
        "Current clocksource read from '/sys/devices/system/clocksource'.",
        Kind::Gauge,
    );
    for (id, _, current) in &sources {
        out.sample(name, &[("device", id), ("clocksource", current)], 1.0);
    }
}
