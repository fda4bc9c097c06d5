//! The `hwmon` collector: every sensor file under `/sys/class/hwmon/hwmon*/` (and its `device/`), named and
//! scaled by node_exporter's rules: `temp*` in °C (`node_hwmon_temp_celsius`, `_crit_celsius`, `_max_celsius`,
//! …), `in*` in volts, `fan*` in rpm, `power*` in watts, and so on; the `chip` label is derived from the device
//! path (`platform_coretemp_0`), falling back to the `name` file, as node_exporter does.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

use super::{CollectError, CollectResult, Context};
use crate::exposition::{Exposition, Kind};
use crate::procfile;

static INVALID_CHARS: LazyLock<Regex> = LazyLock::new(|| Regex::new("[^a-z0-9:_]").unwrap());
static FILENAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^(?P<type>[^0-9]+)(?P<id>[0-9]*)?(_(?P<property>.+))?$").unwrap());
const SENSOR_TYPES: [&str; 13] = [
    "vrm",
    "beep_enable",
    "update_interval",
    "in",
    "cpu",
    "fan",
    "pwm",
    "temp",
    "curr",
    "power",
    "energy",
    "humidity",
    "intrusion",
];

/// Lowercases, turns anything outside `[a-z0-9:_]` into `_` and trims `_` (node_exporter's `cleanMetricName`).
pub(crate) fn clean_name(name: &str) -> String {
    let lower = name.to_lowercase();
    INVALID_CHARS
        .replace_all(&lower, "_")
        .trim_matches('_')
        .to_string()
}

/// Splits `temp1_crit` into (`temp`, 1, `crit`); `None` when the name does not fit or the number overflows.
pub(crate) fn explode(filename: &str) -> Option<(String, i64, String)> {
    let caps = FILENAME.captures(filename)?;
    let ty = caps.name("type").map_or("", |m| m.as_str()).to_string();
    let id = caps.name("id").map_or("", |m| m.as_str());
    let num = if id.is_empty() { 0 } else { id.parse().ok()? };
    let prop = caps.name("property").map_or("", |m| m.as_str()).to_string();
    Some((ty, num, prop))
}

/// sensor (`temp1`) → property (`input`, `crit`, `label`, or `""`) → raw text.
type SensorData = BTreeMap<String, BTreeMap<String, String>>;

fn collect_sensor_data(dir: &Path, data: &mut SensorData) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let filename = entry.file_name().to_string_lossy().into_owned();
        let Some((ty, num, prop)) = explode(&filename) else {
            continue;
        };
        if !SENSOR_TYPES.contains(&ty.as_str()) {
            continue;
        }
        let Ok(raw) = procfile::read(&entry.path()) else {
            continue;
        };
        data.entry(format!("{ty}{num}"))
            .or_default()
            .insert(prop, raw.trim_matches('\n').to_string());
    }
    Ok(())
}

/// The `chip` label: `<parent dir>_<device dir>` of the resolved `device` link, else the `name` file, else the
/// resolved directory's own name.
pub(crate) fn chip_name(dir: &Path) -> Option<String> {
    if let Ok(device) = std::fs::canonicalize(dir.join("device")) {
        let name = device
            .file_name()
            .map(|n| clean_name(&n.to_string_lossy()))
            .unwrap_or_default();
        let ty = device
            .parent()
            .and_then(Path::file_name)
            .map(|n| clean_name(&n.to_string_lossy()))
            .unwrap_or_default();
        if !ty.is_empty() && !name.is_empty() {
            return Some(format!("{ty}_{name}"));
        }
        if !name.is_empty() {
            return Some(name);
        }
    }
    if let Some(name) = human_chip_name(dir) {
        return Some(name);
    }
    let real = std::fs::canonicalize(dir).ok()?;
    Some(clean_name(&real.file_name()?.to_string_lossy())).filter(|n| !n.is_empty())
}

/// The cleaned `name` file, for `node_hwmon_chip_names`.
fn human_chip_name(dir: &Path) -> Option<String> {
    let raw = procfile::read(&dir.join("name")).ok()?;
    Some(clean_name(&raw)).filter(|n| !n.is_empty())
}

/// One sample before grouping into families: name, help, kind, labels (chip, sensor, optional label), value.
struct Sample {
    name: String,
    help: String,
    kind: Kind,
    labels: Vec<(&'static str, String)>,
    value: f64,
}

fn sensor_samples(
    chip: &str,
    sensor: &str,
    data: &BTreeMap<String, String>,
    out: &mut Vec<Sample>,
) {
    let ty = explode(sensor).map(|(t, _, _)| t).unwrap_or_default();
    let labels = || vec![("chip", chip.to_string()), ("sensor", sensor.to_string())];
    let mut push = |name: String, help: String, kind: Kind, value: f64| {
        out.push(Sample {
            name,
            help,
            kind,
            labels: labels(),
            value,
        })
    };
    let parsed = |key: &str| data.get(key).and_then(|v| v.parse::<f64>().ok());
    match ty.as_str() {
        "beep_enable" => {
            let v = if data.get("").is_some_and(|v| v == "1") {
                1.0
            } else {
                0.0
            };
            push(
                "node_hwmon_beep_enabled".into(),
                "Hardware beep enabled".into(),
                Kind::Gauge,
                v,
            );
            return;
        }
        "vrm" => {
            if let Some(v) = parsed("") {
                let help = "Hardware voltage regulator".into();
                push(
                    "node_hwmon_voltage_regulator_version".into(),
                    help,
                    Kind::Gauge,
                    v,
                );
            }
            return;
        }
        "update_interval" => {
            if let Some(v) = parsed("") {
                let help = "Hardware monitor update interval".into();
                push(
                    "node_hwmon_update_interval_seconds".into(),
                    help,
                    Kind::Gauge,
                    v * 0.001,
                );
            }
            return;
        }
        _ => {}
    }
    let prefix = format!("node_hwmon_{ty}");
    for (element, raw) in data {
        if element == "label" {
            continue;
        }
        let mut name = prefix.clone();
        if element == "input" {
            if data.contains_key("") {
                name.push_str("_input");
            }
        } else if !element.is_empty() {
            name.push('_');
            name.push_str(&clean_name(element));
        }
        let Ok(v) = raw.parse::<f64>() else { continue };
        let e = element.as_str();
        let (name, help, kind, v) = match (ty.as_str(), e) {
            (_, "fault" | "alarm") => (
                name,
                format!("Hardware sensor {e} status ({ty})"),
                Kind::Gauge,
                v,
            ),
            (_, "beep") => (
                format!("{name}_enabled"),
                "Hardware monitor sensor has beeping enabled".into(),
                Kind::Gauge,
                v,
            ),
            ("in" | "cpu", _) => (
                format!("{name}_volts"),
                format!("Hardware monitor for voltage ({e})"),
                Kind::Gauge,
                v * 0.001,
            ),
            ("temp", e) if e != "type" => {
                let e = if e.is_empty() { "input" } else { e };
                (
                    format!("{name}_celsius"),
                    format!("Hardware monitor for temperature ({e})"),
                    Kind::Gauge,
                    v * 0.001,
                )
            }
            ("curr", _) => (
                format!("{name}_amps"),
                format!("Hardware monitor for current ({e})"),
                Kind::Gauge,
                v * 0.001,
            ),
            ("energy", _) => (
                format!("{name}_joule_total"),
                format!("Hardware monitor for joules used so far ({e})"),
                Kind::Counter,
                v / 1e6,
            ),
            ("power", "accuracy") => (
                name,
                "Hardware monitor power meter accuracy, as a ratio".into(),
                Kind::Gauge,
                v / 1e6,
            ),
            ("power", "average_interval" | "average_interval_min" | "average_interval_max") => (
                format!("{name}_seconds"),
                format!("Hardware monitor power usage update interval ({e})"),
                Kind::Gauge,
                v * 0.001,
            ),
            ("power", _) => (
                format!("{name}_watt"),
                format!("Hardware monitor for power usage in watts ({e})"),
                Kind::Gauge,
                v / 1e6,
            ),
            ("humidity", _) => (
                name,
                format!(
                    "Hardware monitor for humidity, as a ratio (multiply with 100.0 to get the humidity as a percentage) ({e})"
                ),
                Kind::Gauge,
                v / 1e6,
            ),
            ("fan", "input" | "min" | "max" | "target") => (
                format!("{name}_rpm"),
                format!("Hardware monitor for fan revolutions per minute ({e})"),
                Kind::Gauge,
                v,
            ),
            _ => (
                name,
                format!("Hardware monitor {ty} element {e}"),
                Kind::Gauge,
                v,
            ),
        };
        push(name, help, kind, v);
    }
}

fn chip_samples(dir: &Path, out: &mut Vec<Sample>) -> Result<(), CollectError> {
    let chip = chip_name(dir).ok_or_else(|| {
        CollectError::Failed(format!("could not derive a name for {}", dir.display()))
    })?;
    let mut data = SensorData::new();
    collect_sensor_data(dir, &mut data)?;
    let device = dir.join("device");
    if device.exists() {
        collect_sensor_data(&device, &mut data)?;
    }
    if let Some(human) = human_chip_name(dir) {
        out.push(Sample {
            name: "node_hwmon_chip_names".into(),
            help: "Annotation metric for human-readable chip names".into(),
            kind: Kind::Gauge,
            labels: vec![("chip", chip.clone()), ("chip_name", human)],
            value: 1.0,
        });
    }
    for (sensor, props) in &data {
        if let Some(label) = props.get("label") {
            out.push(Sample {
                name: "node_hwmon_sensor_label".into(),
                help: "Label for given chip and sensor".into(),
                kind: Kind::Gauge,
                labels: vec![
                    ("chip", chip.clone()),
                    ("sensor", sensor.clone()),
                    ("label", label.clone()),
                ],
                value: 1.0,
            });
        }
        sensor_samples(&chip, sensor, props, out);
    }
    Ok(())
}

pub(crate) fn collect(ctx: &Context, out: &mut Exposition) -> CollectResult {
    let root = ctx.sys("class/hwmon");
    let entries = match std::fs::read_dir(&root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(CollectError::NoData),
        Err(e) => return Err(e.into()),
    };
    let mut dirs: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    dirs.sort();
    let mut samples = Vec::new();
    let mut result = Ok(());
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        if let Err(e) = chip_samples(dir, &mut samples) {
            result = Err(e);
        }
    }
    samples.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.labels.cmp(&b.labels)));
    samples.dedup_by(|a, b| a.name == b.name && a.labels == b.labels);
    let mut current: Option<&str> = None;
    for s in &samples {
        if current != Some(s.name.as_str()) {
            out.header(&s.name, &s.help, s.kind);
            current = Some(&s.name);
        }
        let labels: Vec<(&str, &str)> = s.labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
        out.sample(&s.name, &labels, s.value);
    }
    result
}
