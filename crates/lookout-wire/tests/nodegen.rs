//! The import parser against the real benchmark dataset written by `shared/bench/nodegen.py dataset`.
//!
//! Needs the shared material (`LOOKOUT_SHARED`, default `../shared` beside the workspace) and `python3`; skips
//! with a note when either is missing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use lookout_model::Labels;
use lookout_wire::exposition::{Format, ParseOptions, parse_import};

fn nodegen_script() -> Option<PathBuf> {
    let shared = std::env::var_os("LOOKOUT_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let script = shared.join("bench/nodegen.py");
    script.exists().then_some(script)
}

#[test]
fn parses_the_nodegen_dataset_with_one_label_build_per_series() {
    let Some(script) = nodegen_script() else {
        eprintln!(
            "skipped: shared/bench/nodegen.py not found; set LOOKOUT_SHARED to the shared/ directory"
        );
        return;
    };
    let end = 1_795_611_600i64;
    let output = Command::new("python3")
        .arg(&script)
        .args([
            "dataset",
            "--hosts",
            "1",
            "--hours",
            "1",
            "--step",
            "15",
            "--end",
            &end.to_string(),
        ])
        .output();
    let Ok(output) = output else {
        eprintln!("skipped: python3 is not installed");
        return;
    };
    assert!(
        output.status.success(),
        "nodegen failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let body = output.stdout;
    assert_eq!(Format::sniff(&body), Format::OpenMetrics);

    // What a scrape cache does: key by the series text, build Labels only on a miss.
    let mut cache: HashMap<Vec<u8>, Labels> = HashMap::new();
    let mut builds = 0;
    let (mut min_t, mut max_t) = (i64::MAX, i64::MIN);
    let mut first_value = None;
    let stats = parse_import(&body, None, &ParseOptions::default(), &mut |s| {
        if !cache.contains_key(s.series_text) {
            builds += 1;
            cache.insert(
                s.series_text.to_vec(),
                s.to_labels().expect("nodegen label sets are valid"),
            );
        }
        let t = s.timestamp_ms.expect("every dataset line has a timestamp");
        min_t = min_t.min(t);
        max_t = max_t.max(t);
        first_value.get_or_insert(s.value);
    })
    .unwrap();

    assert_eq!(stats.samples, 109 * 240, "109 series × 240 steps of 15 s");
    assert_eq!(builds, 109);
    assert_eq!(min_t, (end - 3600) * 1000);
    assert_eq!(max_t, (end - 15) * 1000);
    assert!(stats.metadata.is_empty());
    for labels in cache.values() {
        assert_eq!(labels.get("job"), Some("node"));
        assert_eq!(labels.get("instance"), Some("host0000:9100"));
    }
    // The first value equals what the standard library reads from the first line's text.
    let first_line = body.split(|&b| b == b'\n').next().unwrap();
    let value_text = std::str::from_utf8(first_line)
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap();
    assert_eq!(
        first_value.map(f64::to_bits),
        Some(value_text.parse::<f64>().unwrap().to_bits())
    );
}
