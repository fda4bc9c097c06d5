//! The two formats container runtimes write pod logs in, detected per line:
//!
//! - CRI (containerd, CRI-O): `<RFC3339Nano time> <stdout|stderr> <tags> <content>`, where the first `:`-separated
//!   tag is `P` for a partial line (continued by the next line of the stream) or `F` for a full one. Unlike
//!   Alloy's lenient parser, the fields are separated by exactly one space (so the content keeps its leading
//!   spaces) and the time must be a valid RFC 3339 timestamp, so that a plain line is not mistaken for CRI.
//! - docker `json-file`: `{"log":"text\n","stream":"stdout","time":"..."}`; a `log` without its trailing newline
//!   is a partial line (docker splits lines at 16KiB).
//!
//! Anything else is not container format and is passed on unchanged, as Promtail's `cri`/`docker` stages do.

use serde::Deserialize;

/// A container output stream (the `stream` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout = 0,
    /// Standard error.
    Stderr = 1,
}

impl Stream {
    fn parse(s: &str) -> Option<Stream> {
        match s {
            "stdout" => Some(Stream::Stdout),
            "stderr" => Some(Stream::Stderr),
            _ => None,
        }
    }
}

/// One decoded container log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Parsed {
    /// Unix nanoseconds, when the line's time is valid.
    pub ts: Option<i64>,
    pub stream: Stream,
    /// The line continues in the stream's next line.
    pub partial: bool,
    /// The text, without the trailing newline.
    pub content: String,
}

/// Decodes `line` as CRI or docker JSON; `None` when it is neither.
pub(crate) fn parse(line: &str) -> Option<Parsed> {
    if line.starts_with('{') {
        parse_docker(line)
    } else {
        parse_cri(line)
    }
}

fn parse_time(s: &str) -> Option<i64> {
    let t: jiff::Timestamp = s.parse().ok()?;
    i64::try_from(t.as_nanosecond()).ok()
}

fn parse_cri(line: &str) -> Option<Parsed> {
    let (time, rest) = line.split_once(' ')?;
    let ts = Some(parse_time(time)?);
    let (stream, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let stream = Stream::parse(stream)?;
    let (tags, content) = rest.split_once(' ').unwrap_or((rest, ""));
    let partial = match tags.split(':').next() {
        Some("P") => true,
        Some("F") => false,
        _ => return None,
    };
    Some(Parsed {
        ts,
        stream,
        partial,
        content: content.to_string(),
    })
}

#[derive(Deserialize)]
struct DockerLine {
    log: String,
    stream: String,
    #[serde(default)]
    time: Option<String>,
}

fn parse_docker(line: &str) -> Option<Parsed> {
    let d: DockerLine = serde_json::from_str(line).ok()?;
    let stream = Stream::parse(&d.stream)?;
    let mut content = d.log;
    let partial = !content.ends_with('\n');
    if !partial {
        content.pop();
    }
    Some(Parsed {
        ts: d.time.as_deref().and_then(parse_time),
        stream,
        partial,
        content,
    })
}
