//! Builds the web app in `web/` and generates `assets.rs` in OUT_DIR, which embeds every built file.
//!
//! `web/` is copied to `OUT_DIR/web` (the source tree stays free of build output), `npm ci` runs there only when
//! `package-lock.json` changed since the last install, then esbuild (`node build.mjs`) writes `dist/`. Each file
//! is embedded raw and, when it shrinks, gzip-compressed, with a content hash as its ETag.

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Files and directories of `web/` the build reads; a change to any of them rebuilds the app.
const INPUTS: &[&str] = &[
    "src",
    "test",
    "package.json",
    "package-lock.json",
    "build.mjs",
    "tsconfig.json",
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let web = manifest.join("web");
    println!("cargo:rerun-if-changed=build.rs");
    for input in INPUTS {
        println!("cargo:rerun-if-changed=web/{input}");
    }
    println!("cargo:rerun-if-env-changed=LOOKOUT_UI_NPM");

    let npm = std::env::var("LOOKOUT_UI_NPM").unwrap_or_else(|_| "npm".into());
    check_tool(&npm, "npm");
    check_tool("node", "node");

    let copy = out.join("web");
    for input in INPUTS {
        let (from, to) = (web.join(input), copy.join(input));
        if to.is_dir() {
            fs::remove_dir_all(&to)
                .unwrap_or_else(|e| fail(&format!("removing {}: {e}", to.display())));
        }
        copy_tree(&from, &to);
    }

    // `npm ci` wipes and reinstalls node_modules: only when the lockfile differs from the installed one.
    let lock = fs::read(web.join("package-lock.json"))
        .unwrap_or_else(|e| fail(&format!("web/package-lock.json: {e}")));
    let stamp = copy.join("node_modules").join(".lookout-installed-lock");
    if fs::read(&stamp).ok().as_deref() != Some(&lock[..]) {
        run(
            Command::new(&npm)
                .args([
                    "ci",
                    "--include=dev",
                    "--ignore-scripts",
                    "--prefer-offline",
                    "--no-audit",
                    "--no-fund",
                ])
                .current_dir(&copy),
            "npm ci",
        );
        fs::write(&stamp, &lock).unwrap_or_else(|e| fail(&format!("{}: {e}", stamp.display())));
    }
    run(
        Command::new("node").arg("build.mjs").current_dir(&copy),
        "node build.mjs (esbuild)",
    );

    let dist = copy.join("dist");
    let mut files = Vec::new();
    list_files(&dist, &dist, &mut files);
    files.sort();
    if !files.iter().any(|f| f == "index.html") {
        fail("the web build produced no dist/index.html");
    }
    let gz_dir = out.join("gz");
    let _ = fs::remove_dir_all(&gz_dir);
    let mut code = String::from(
        "/// Every embedded file, sorted by path.\npub(crate) static EMBEDDED: &[Embedded] = &[\n",
    );
    for rel in &files {
        let path = dist.join(rel);
        let bytes = fs::read(&path).unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
        let gz = gzip(&bytes);
        let gz_expr = if gz.len() + 64 < bytes.len() {
            let gz_path = gz_dir.join(format!("{rel}.gz"));
            fs::create_dir_all(gz_path.parent().expect("parent")).expect("create gz dir");
            fs::write(&gz_path, &gz)
                .unwrap_or_else(|e| fail(&format!("{}: {e}", gz_path.display())));
            format!("Some(include_bytes!({:?}))", gz_path.display().to_string())
        } else {
            "None".to_string()
        };
        let hash = fnv1a(&bytes);
        // Strong ETags differ per content encoding (RFC 9110 8.8.3), so the gzip variant has its own.
        writeln!(
            code,
            "    Embedded {{ path: {rel:?}, bytes: include_bytes!({:?}), gzip: {gz_expr}, content_type: {:?}, etag: {:?}, gzip_etag: {:?} }},",
            path.display().to_string(),
            content_type(rel),
            format!("\"{hash:016x}\""),
            format!("\"{hash:016x}-gz\""),
        )
        .expect("write to string");
    }
    code.push_str("];\n");
    fs::write(out.join("assets.rs"), code).unwrap_or_else(|e| fail(&format!("assets.rs: {e}")));
    println!("cargo:rustc-env=LOOKOUT_UI_WEB_BUILD={}", copy.display());
}

fn fail(msg: &str) -> ! {
    eprintln!("lookout-ui build: {msg}");
    std::process::exit(1);
}

fn check_tool(cmd: &str, name: &str) {
    match Command::new(cmd).arg("--version").output() {
        Ok(o) if o.status.success() => {}
        _ => fail(&format!(
            "`{cmd} --version` failed: building the embedded web UI needs Node.js (>= 18) and npm on PATH \
             (Debian: `apt-get install nodejs npm`; or set LOOKOUT_UI_NPM to npm's path). {name} is missing or broken."
        )),
    }
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| fail(&format!("running {what}: {e}")));
    if !out.status.success() {
        fail(&format!(
            "{what} failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
}

fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        fs::create_dir_all(to).unwrap_or_else(|e| fail(&format!("{}: {e}", to.display())));
        let entries =
            fs::read_dir(from).unwrap_or_else(|e| fail(&format!("{}: {e}", from.display())));
        for entry in entries.flatten() {
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        }
    } else if from.is_file() {
        fs::copy(from, to).unwrap_or_else(|e| fail(&format!("copying {}: {e}", from.display())));
    }
}

fn list_files(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| fail(&format!("{}: {e}", dir.display())));
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            list_files(root, &p, out);
        } else {
            let rel = p.strip_prefix(root).expect("under root");
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).expect("gzip to memory");
    enc.finish().expect("gzip to memory")
}

/// FNV-1a, 64 bits: a stable content hash for ETags (stable across Rust versions, unlike `DefaultHasher`).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}
