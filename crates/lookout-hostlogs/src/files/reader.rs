//! Reading one file's complete lines from a position with positional reads on a handle kept open, so a renamed
//! or deleted file is still read to its end. An incomplete last line waits for its newline; at most
//! `max_line + 1` bytes of a line are kept, so a huge line costs no memory, and it is reported as oversized.

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;

/// One line read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    /// Its bytes without the newline (and a `\r` before it), at most `max_line + 1` of them.
    pub text: Vec<u8>,
    /// File offset of its first byte.
    pub start: u64,
    /// Its full length before any cut.
    pub len: u64,
}

/// Reads lines of one open file.
#[derive(Debug)]
pub(crate) struct LineReader {
    file: File,
    /// Offset of the next byte to read.
    pos: u64,
    partial: Vec<u8>,
    partial_len: u64,
    /// Most bytes kept of a line (0: no limit).
    max_line: usize,
}

const CHUNK: usize = 64 << 10;

impl LineReader {
    /// Opens `path` to read from `pos`; returns the reader and the file's (device, inode, length).
    pub fn open(path: &Path, pos: u64, max_line: usize) -> io::Result<(Self, (u64, u64, u64))> {
        let file = File::open(path)?;
        let md = file.metadata()?;
        Ok((
            LineReader {
                file,
                pos,
                partial: Vec::new(),
                partial_len: 0,
                max_line,
            },
            (md.dev(), md.ino(), md.len()),
        ))
    }

    /// The file's current length.
    pub fn file_len(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    /// Where everything before has been returned as complete lines: the start of the incomplete line.
    pub fn safe_pos(&self) -> u64 {
        self.pos - self.partial_len
    }

    /// The offset of the next byte to read.
    pub fn pos(&self) -> u64 {
        self.pos
    }

    /// Starts over at offset 0 (the file was truncated); the incomplete line is forgotten.
    pub fn reset(&mut self) {
        self.pos = 0;
        self.partial.clear();
        self.partial_len = 0;
    }

    /// The incomplete last line, taken as a line (at the end of a rotated file).
    pub fn take_partial(&mut self) -> Option<Line> {
        if self.partial_len == 0 {
            return None;
        }
        let line = Line {
            text: std::mem::take(&mut self.partial),
            start: self.pos - self.partial_len,
            len: self.partial_len,
        };
        self.partial_len = 0;
        Some(line)
    }

    /// Reads up to about `budget` bytes, appending complete lines to `out`; returns the bytes read (0 at EOF).
    pub fn read(&mut self, budget: usize, out: &mut Vec<Line>) -> io::Result<usize> {
        let mut buf = vec![0u8; CHUNK.min(budget.max(1))];
        let mut total = 0;
        while total < budget {
            let n = match self.file.read_at(&mut buf, self.pos) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                break;
            }
            self.consume(&buf[..n], out);
            self.pos += n as u64;
            total += n;
        }
        Ok(total)
    }

    fn consume(&mut self, mut data: &[u8], out: &mut Vec<Line>) {
        let base = self.pos;
        let mut off = 0u64;
        while !data.is_empty() {
            let nl = data.iter().position(|&b| b == b'\n');
            let piece = &data[..nl.unwrap_or(data.len())];
            self.keep(piece);
            self.partial_len += piece.len() as u64;
            match nl {
                Some(i) => {
                    let start = base + off + piece.len() as u64 + 1 - (self.partial_len + 1);
                    let mut text = std::mem::take(&mut self.partial);
                    let mut len = self.partial_len;
                    if text.last() == Some(&b'\r') && len == text.len() as u64 {
                        text.pop();
                        len -= 1;
                    }
                    out.push(Line { text, start, len });
                    self.partial_len = 0;
                    off += i as u64 + 1;
                    data = &data[i + 1..];
                }
                None => break,
            }
        }
    }

    fn keep(&mut self, piece: &[u8]) {
        let room = if self.max_line == 0 {
            piece.len()
        } else {
            (self.max_line + 1).saturating_sub(self.partial.len())
        };
        self.partial
            .extend_from_slice(&piece[..piece.len().min(room)]);
    }
}
