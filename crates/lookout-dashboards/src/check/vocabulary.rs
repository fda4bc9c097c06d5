//! The closed vocabularies the shipped dashboards may use: panel types, variable types, units and override
//! matchers. Kept small on purpose: each entry is something every Grafana from 10.4 on renders without a plugin.

/// The oldest `schemaVersion` accepted (Grafana 10.4 and 11.x save 39; later versions migrate it forward on load).
pub const MIN_SCHEMA_VERSION: u64 = 39;

/// Panel types (all built into Grafana; `row` may hold the others, never another row).
pub const PANEL_TYPES: &[&str] = &[
    "row",
    "timeseries",
    "stat",
    "gauge",
    "bargauge",
    "table",
    "text",
    "logs",
];

/// Template variable types. `query` variables use `label_values(label)`, `label_values(metric, label)` or
/// `query_result(expr)` (Prometheus) and `label_values(label)` / `label_values({selector}, label)` (Loki).
pub const VARIABLE_TYPES: &[&str] = &["query", "custom", "interval", "datasource"];

/// Data source types a `datasource` variable (its `query`) and a panel or target may name.
pub const DATASOURCE_TYPES: &[&str] = &["prometheus", "loki"];

/// Field override matchers.
pub const OVERRIDE_MATCHERS: &[&str] = &["byName", "byRegexp", "byFrameRefID", "byType"];

/// Unit ids, a subset of Grafana's standard units (`packages/grafana-data/src/valueFormats/categories.ts`):
/// misc, data (IEC and metric), data rate, date and time, temperature, time, throughput and a few electrical ones.
pub const UNITS: &[&str] = &[
    // Misc
    "none",
    "string",
    "short",
    "percent",
    "percentunit",
    "locale",
    "sci",
    "hex",
    "hex0x",
    // Data (IEC)
    "bits",
    "bytes",
    "kbytes",
    "mbytes",
    "gbytes",
    "tbytes",
    "pbytes",
    // Data (metric)
    "decbits",
    "decbytes",
    "deckbytes",
    "decmbytes",
    "decgbytes",
    "dectbytes",
    "decpbytes",
    // Data rate
    "pps",
    "bps",
    "Bps",
    "KBs",
    "Kbits",
    "MBs",
    "Mbits",
    "GBs",
    "Gbits",
    "TBs",
    "Tbits",
    // Date & time
    "dateTimeAsIso",
    "dateTimeAsIsoNoDateIfToday",
    "dateTimeAsUS",
    "dateTimeAsUSNoDateIfToday",
    "dateTimeFromNow",
    // Temperature
    "celsius",
    "fahrenheit",
    "kelvin",
    // Time
    "hertz",
    "ns",
    "µs",
    "ms",
    "s",
    "m",
    "h",
    "d",
    "dtdurationms",
    "dtdurations",
    "dthms",
    "dtdhms",
    "timeticks",
    "clockms",
    "clocks",
    // Throughput
    "cps",
    "ops",
    "reqps",
    "rps",
    "wps",
    "iops",
    "cpm",
    "opm",
    "rpm",
    "wpm",
    // Energy (hardware sensors)
    "watt",
    "volt",
    "amp",
    "joule",
];
