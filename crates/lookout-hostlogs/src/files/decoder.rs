//! Per-file assembly of read lines into entries: plain lines (optionally joined by the `multiline` stage), or
//! Kubernetes container lines (CRI / docker JSON with partial lines joined). Whatever is still being assembled is
//! not covered by the saved position ([`Decoder::pending_start`]), so a restart reads it again; the entries that
//! lines read before the saved `stored` offset complete were sent already, and are rebuilt but not sent again.

use std::time::Instant;

use super::multiline::{Block, Multiline};
use crate::metrics::{SourceMetrics, inc};
use crate::pods::{ContainerLines, Stream};

/// One entry assembled from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decoded {
    /// Its text (at most the limit plus one byte of it when it was longer).
    pub text: String,
    /// Its full length in bytes.
    pub full_len: usize,
    /// Its timestamp from the line (Unix ns); the read time when `None`.
    pub ts: Option<i64>,
    /// Its container stream, which becomes the `stream` label.
    pub stream: Option<Stream>,
}

impl Decoded {
    /// A plain entry: read time, the file's labels.
    pub fn plain(text: String) -> Self {
        Decoded {
            full_len: text.len(),
            text,
            ts: None,
            stream: None,
        }
    }
}

/// How one file's lines are assembled.
pub(crate) enum Assembler {
    /// Plain lines, joined into blocks when a multi-line stage is configured.
    Plain(Option<Multiline>),
    /// Kubernetes container logs.
    Container(ContainerLines),
}

/// One file's entry assembler, skipping what a previous run already sent.
pub(crate) struct Decoder {
    assembler: Assembler,
    /// Entries completed by lines starting before this offset were stored by a previous run.
    replay_until: u64,
}

impl Decoder {
    /// A decoder whose lines before `replay_until` only rebuild what is pending.
    pub fn new(assembler: Assembler, replay_until: u64) -> Self {
        Decoder {
            assembler,
            replay_until,
        }
    }

    /// Adds the line read at file offset `start`, appending the entries it completes to `out`.
    pub fn push(
        &mut self,
        text: String,
        start: u64,
        now: Instant,
        m: &SourceMetrics,
        out: &mut Vec<Decoded>,
    ) {
        let before = out.len();
        match &mut self.assembler {
            Assembler::Plain(None) => out.push(Decoded::plain(text)),
            Assembler::Plain(Some(ml)) => {
                let mut done: Vec<Block> = Vec::new();
                ml.push(text, start, now, &mut done);
                out.extend(done.into_iter().map(|b| Decoded::plain(b.text)));
            }
            Assembler::Container(c) => {
                if !c.push(text, start, out) {
                    inc(&m.unparsed);
                }
            }
        }
        if start < self.replay_until {
            out.truncate(before);
        }
    }

    /// Sends a multi-line block that waited long enough (container partial lines wait for their end, as in
    /// Promtail's `cri` stage).
    pub fn flush_if_due(&mut self, now: Instant, out: &mut Vec<Decoded>) {
        if let Assembler::Plain(Some(ml)) = &mut self.assembler {
            out.extend(ml.flush_if_due(now).map(|b| Decoded::plain(b.text)));
        }
    }

    /// Sends everything pending (the file ended or was truncated); what follows is new content.
    pub fn flush(&mut self, out: &mut Vec<Decoded>) {
        self.replay_until = 0;
        match &mut self.assembler {
            Assembler::Plain(None) => {}
            Assembler::Plain(Some(ml)) => out.extend(ml.flush().map(|b| Decoded::plain(b.text))),
            Assembler::Container(c) => c.flush(out),
        }
    }

    /// The file offset of the first line of what is pending: where reading must resume after a restart.
    pub fn pending_start(&self) -> Option<u64> {
        match &self.assembler {
            Assembler::Plain(None) => None,
            Assembler::Plain(Some(ml)) => ml.pending_start(),
            Assembler::Container(c) => c.pending_start(),
        }
    }
}
