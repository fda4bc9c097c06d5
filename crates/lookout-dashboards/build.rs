//! Embeds every `dashboards/*.json` of the repository: writes `$OUT_DIR/dashboards.rs` with one `include_str!` per
//! file, sorted by file name, so adding a dashboard needs no code change.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=../../dashboards");
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let dir = manifest.join("../../dashboards");
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    let mut files: Vec<(String, PathBuf)> = entries
        .map(|e| e.unwrap_or_else(|e| panic!("listing {}: {e}", dir.display())))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.ends_with(".json").then(|| (name, e.path()))
        })
        .collect();
    files.sort();
    let mut out = String::from(
        "/// `(file name, contents)` of every `dashboards/*.json`, sorted by file name.\n\
         pub(crate) static FILES: &[(&str, &str)] = &[\n",
    );
    for (name, path) in &files {
        let path = path
            .canonicalize()
            .unwrap_or_else(|e| panic!("resolving {}: {e}", path.display()));
        let path = path.to_str().expect("dashboard paths are UTF-8");
        writeln!(out, "    ({name:?}, include_str!({path:?})),").expect("writing to a String");
    }
    out.push_str("];\n");
    let target =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("dashboards.rs");
    std::fs::write(&target, out).unwrap_or_else(|e| panic!("writing {}: {e}", target.display()));
}
