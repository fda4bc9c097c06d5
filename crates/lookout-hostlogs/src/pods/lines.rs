//! One container log file's lines to entries: each line decoded ([`super::format`]), partial lines joined with
//! the following parts of the same stream up to the full one (as Promtail's `cri` stage, by concatenation), the
//! entry taking the time of its last part. A joined entry keeps at most the size limit plus one byte of text
//! and counts its full length, so the limit can drop or truncate it without holding a huge line in memory.

use super::format::{Stream, parse};
use crate::files::Decoded;

/// A partial line waiting for its end.
#[derive(Debug)]
struct Partial {
    text: String,
    full_len: usize,
    /// File offset of its first part.
    start: u64,
    ts: Option<i64>,
}

/// The partial lines pending in one file, per stream.
#[derive(Debug)]
pub(crate) struct ContainerLines {
    max_line: usize,
    pending: [Option<Partial>; 2],
}

impl ContainerLines {
    /// An empty assembler holding entries to `max_line` bytes (0: no limit).
    pub fn new(max_line: usize) -> Self {
        ContainerLines {
            max_line,
            pending: [None, None],
        }
    }

    /// Adds the line read at file offset `start`; false when it is not container format (it is then an entry
    /// of its own, unchanged, with the read time and no `stream` label).
    pub fn push(&mut self, raw: String, start: u64, out: &mut Vec<Decoded>) -> bool {
        let Some(p) = parse(&raw) else {
            out.push(Decoded::plain(raw));
            return false;
        };
        let slot = &mut self.pending[p.stream as usize];
        if slot.is_none() && !p.partial {
            out.push(Decoded {
                full_len: p.content.len(),
                text: p.content,
                ts: p.ts,
                stream: Some(p.stream),
            });
            return true;
        }
        let part = slot.get_or_insert_with(|| Partial {
            text: String::new(),
            full_len: 0,
            start,
            ts: None,
        });
        if part.text.len() == part.full_len {
            // Nothing cut yet: later parts must not follow a cut.
            keep(&mut part.text, &p.content, self.max_line);
        }
        part.full_len += p.content.len();
        part.ts = p.ts;
        if !p.partial {
            let part = slot.take().expect("just filled");
            out.push(finish(part, p.stream));
        }
        true
    }

    /// Sends the pending partial lines as they are (the file ended), oldest first.
    pub fn flush(&mut self, out: &mut Vec<Decoded>) {
        let mut parts: Vec<(Partial, Stream)> = Vec::new();
        for (i, stream) in [Stream::Stdout, Stream::Stderr].into_iter().enumerate() {
            if let Some(p) = self.pending[i].take() {
                parts.push((p, stream));
            }
        }
        parts.sort_by_key(|(p, _)| p.start);
        out.extend(parts.into_iter().map(|(p, s)| finish(p, s)));
    }

    /// The file offset of the oldest pending partial line.
    pub fn pending_start(&self) -> Option<u64> {
        self.pending.iter().flatten().map(|p| p.start).min()
    }
}

fn finish(p: Partial, stream: Stream) -> Decoded {
    Decoded {
        text: p.text,
        full_len: p.full_len,
        ts: p.ts,
        stream: Some(stream),
    }
}

/// Appends `add` to `text`, keeping at most `max + 1` bytes (cut at a character boundary; 0: no limit).
fn keep(text: &mut String, add: &str, max: usize) {
    if max == 0 {
        text.push_str(add);
        return;
    }
    let mut room = (max + 1).saturating_sub(text.len()).min(add.len());
    while !add.is_char_boundary(room) {
        room -= 1;
    }
    text.push_str(&add[..room]);
}
