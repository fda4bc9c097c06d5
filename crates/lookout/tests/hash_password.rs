//! `lookout hash-password`: reads the password from standard input and prints a bcrypt hash that verifies it, in
//! the form the web config file's `basic_auth_users` takes; an empty password is refused.

use std::io::Write;
use std::process::{Command, Stdio};

fn run(stdin: &[u8], args: &[&str]) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lookout"))
        .arg("hash-password")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lookout runs");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn prints_a_bcrypt_hash_of_standard_input() {
    let (ok, out, err) = run(b"correct horse\n", &["--cost", "5"]);
    assert!(ok, "{err}");
    let hash = out.trim();
    assert!(hash.starts_with("$2") && hash.len() == 60, "{hash}");
    assert!(hash.contains("$05$"), "the cost is used: {hash}");
    assert!(lookout_auth::verify_password("correct horse", hash).unwrap());
    assert!(!lookout_auth::verify_password("correct horse\n", hash).unwrap());
    // The hash is accepted by the web config file.
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web.yml");
    std::fs::write(&web, format!("basic_auth_users:\n  alice: '{hash}'\n")).unwrap();
    lookout_auth::WebConfigWatcher::load(&web).expect("the web config file loads");

    let (ok, _, err) = run(b"", &[]);
    assert!(!ok, "an empty password is refused");
    assert!(err.contains("empty password"), "{err}");
}
