use std::io::Write;
use std::time::{Duration, Instant};

use super::multiline::{Block, Multiline};
use super::reader::{Line, LineReader};

fn text(lines: &[Line]) -> Vec<String> {
    lines
        .iter()
        .map(|l| String::from_utf8_lossy(&l.text).into_owned())
        .collect()
}

#[test]
fn reader_returns_complete_lines_with_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f.log");
    let mut f = std::fs::File::create(&p).unwrap();
    f.write_all(b"ab\r\ncd\nef").unwrap();
    let (mut r, _) = LineReader::open(&p, 0, 0).unwrap();
    let mut out = Vec::new();
    assert_eq!(r.read(1 << 20, &mut out).unwrap(), 9);
    assert_eq!(text(&out), vec!["ab", "cd"]);
    assert_eq!((out[0].start, out[1].start), (0, 4));
    // The incomplete line is not returned, and the safe position stays before it.
    assert_eq!((r.pos(), r.safe_pos()), (9, 7));
    f.write_all(b"gh\n").unwrap();
    out.clear();
    r.read(1 << 20, &mut out).unwrap();
    assert_eq!(text(&out), vec!["efgh"]);
    assert_eq!((out[0].start, out[0].len, r.safe_pos()), (7, 4, 12));
}

#[test]
fn reader_keeps_only_the_limit_of_a_long_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f.log");
    std::fs::write(&p, format!("{}\nok\n", "z".repeat(300_000))).unwrap();
    let (mut r, _) = LineReader::open(&p, 0, 10).unwrap();
    let mut out = Vec::new();
    r.read(1 << 20, &mut out).unwrap();
    assert_eq!(out[0].text.len(), 11);
    assert_eq!(out[0].len, 300_000);
    assert_eq!(text(&out[1..]), vec!["ok"]);
    assert_eq!(out[1].start, 300_001);
}

#[test]
fn multiline_max_lines_and_wait() {
    let re = regex::Regex::new("^START").unwrap();
    let mut m = Multiline::new(re, 2, Duration::from_millis(100));
    let t0 = Instant::now();
    let mut out: Vec<Block> = Vec::new();
    m.push("orphan".into(), 0, t0, &mut out);
    m.push("START 1".into(), 7, t0, &mut out);
    assert_eq!(
        out,
        vec![Block {
            text: "orphan".into(),
            start: 0
        }]
    );
    assert_eq!(m.pending_start(), Some(7));
    m.push(" cont".into(), 15, t0, &mut out);
    // max_lines = 2 sends the block at once.
    assert_eq!(
        out[1],
        Block {
            text: "START 1\n cont".into(),
            start: 7
        }
    );
    m.push(" more".into(), 21, t0, &mut out);
    assert_eq!(m.flush_if_due(t0 + Duration::from_millis(50)), None);
    assert_eq!(
        m.flush_if_due(t0 + Duration::from_millis(100)),
        Some(Block {
            text: " more".into(),
            start: 21
        })
    );
    assert_eq!(m.pending_start(), None);
}
