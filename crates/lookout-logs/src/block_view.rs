//! A block's entries read in place: the payload written by [`crate::codec::put_block`] parsed into its timestamp
//! column and line offsets, so a scan checks its line filters on borrowed lines and allocates an [`Entry`] only for
//! the lines it hands out.

use crate::codec::{BlockFormat, DecodeError, Reader};
use crate::entry::Entry;
use crate::rice::read_rice;

/// One block's payload and its parsed columns.
pub struct BlockView {
    payload: Vec<u8>,
    ts: Vec<i64>,
    /// Line `i` is `payload[spans[i].0..spans[i].1]`.
    spans: Vec<(usize, usize)>,
    layout: BlockFormat,
    /// The block's distinct metadata pairs ([`BlockFormat::Current`]).
    table: Vec<(String, String)>,
    /// Where each entry's metadata starts in the payload (`usize::MAX`: none), when any entry has some.
    metadata: Option<Vec<usize>>,
}

impl BlockView {
    /// Parses `payload` (metadata in `layout`), checking every length, every index and that the strings are UTF-8.
    pub fn parse(payload: Vec<u8>, layout: BlockFormat) -> Result<BlockView, DecodeError> {
        let mut r = Reader::new(&payload);
        let n = r.u64()?;
        let left = (payload.len() - r.position()) as u64;
        if n.saturating_mul(2) > left {
            return Err(DecodeError {
                at: r.position(),
                what: "count larger than the bytes left",
            });
        }
        let n = n as usize;
        let mut ts = Vec::with_capacity(n);
        if n > 0 {
            ts.push(r.i64()?);
            let unit = i64::try_from(r.u64()?).map_err(|_| DecodeError {
                at: r.position(),
                what: "time unit out of range",
            })?;
            match layout {
                BlockFormat::Earlier => {
                    for i in 1..n {
                        let d = r.i64()?.wrapping_mul(unit);
                        ts.push(ts[i - 1].wrapping_add(d));
                    }
                }
                BlockFormat::Current => {
                    for (i, z) in read_rice(&mut r, n - 1)?.into_iter().enumerate() {
                        let d = ((z >> 1) as i64) ^ -((z & 1) as i64);
                        ts.push(ts[i].wrapping_add(d.wrapping_mul(unit)));
                    }
                }
            }
        }
        let joined = match layout {
            BlockFormat::Current if n > 0 => r.byte()? == 0,
            _ => false,
        };
        // Line i is `payload[spans[i].0..spans[i].1]`.
        let mut spans: Vec<(usize, usize)> = Vec::with_capacity(n);
        let lines_at;
        let total;
        if joined {
            total = usize::try_from(r.u64()?).unwrap_or(usize::MAX);
            lines_at = r.position();
            let Some(text) = payload.get(lines_at..lines_at.saturating_add(total)) else {
                return Err(DecodeError {
                    at: lines_at,
                    what: "line cut short",
                });
            };
            let mut from = 0;
            for nl in memchr::memchr_iter(b'\n', text) {
                spans.push((lines_at + from, lines_at + nl));
                from = nl + 1;
            }
            spans.push((lines_at + from, lines_at + text.len()));
            if spans.len() != n {
                return Err(DecodeError {
                    at: lines_at,
                    what: "line count differs from the block's",
                });
            }
        } else {
            let mut sum = 0usize;
            let mut lens = Vec::with_capacity(n);
            for _ in 0..n {
                let len = usize::try_from(r.u64()?).unwrap_or(usize::MAX);
                lens.push(len);
                sum = sum.saturating_add(len);
            }
            total = sum;
            lines_at = r.position();
            let mut at = lines_at;
            for len in lens {
                spans.push((at, at.saturating_add(len)));
                at = at.saturating_add(len);
            }
        }
        if payload
            .get(lines_at..lines_at.saturating_add(total))
            .is_none()
        {
            return Err(DecodeError {
                at: lines_at,
                what: "line cut short",
            });
        }
        // Lines are checked for UTF-8 one by one when taken (`line`): a scan takes only those in its time range,
        // and each once.
        // Metadata is decoded only for the entries handed out: here only where each entry's starts (none when no
        // entry has any).
        let meta_at = lines_at + total;
        let mut meta_reader = Reader::new(&payload[meta_at..]);
        let mut table = Vec::new();
        if layout == BlockFormat::Current && n > 0 {
            let pairs = meta_reader.count_of(2)?;
            table.reserve_exact(pairs);
            for _ in 0..pairs {
                table.push((meta_reader.string()?, meta_reader.string()?));
            }
        }
        let mut metadata: Option<Vec<usize>> = None;
        for i in 0..n {
            let at = meta_reader.position();
            let m = meta_reader.count_of(1)?;
            if m == 0 && metadata.is_none() {
                continue;
            }
            metadata.get_or_insert_with(|| vec![usize::MAX; n])[i] = meta_at + at;
            match layout {
                BlockFormat::Earlier => {
                    for _ in 0..2 * m {
                        meta_reader.skip_string()?;
                    }
                }
                BlockFormat::Current => {
                    for _ in 0..m {
                        if meta_reader.u64()? >= table.len() as u64 {
                            return Err(DecodeError {
                                at: meta_at + meta_reader.position(),
                                what: "metadata index out of range",
                            });
                        }
                    }
                }
            }
        }
        if !meta_reader.is_empty() {
            return Err(DecodeError {
                at: meta_at + meta_reader.position(),
                what: "bytes after the block",
            });
        }
        Ok(BlockView {
            payload,
            ts,
            spans,
            layout,
            table,
            metadata,
        })
    }

    /// Entries in the block.
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    /// Entry `i`'s timestamp.
    pub fn ts(&self, i: usize) -> i64 {
        self.ts[i]
    }

    /// Entry `i`'s line; an error when its bytes are not UTF-8 (a damaged block).
    pub fn line(&self, i: usize) -> Result<&str, DecodeError> {
        let (from, to) = self.spans[i];
        std::str::from_utf8(&self.payload[from..to]).map_err(|_| DecodeError {
            at: from,
            what: "line is not UTF-8",
        })
    }

    /// The bytes every line lies in, in order (newline-separated or back to back, by the block's format), and
    /// where they start in the payload.
    pub fn text(&self) -> (usize, &[u8]) {
        match (self.spans.first(), self.spans.last()) {
            (Some(&(from, _)), Some(&(_, to))) => (from, &self.payload[from..to]),
            _ => (0, &[]),
        }
    }

    /// The line holding payload byte `at` (a byte of [`BlockView::text`] that is not a separator), and where that
    /// line ends in the payload.
    pub fn line_at(&self, at: usize) -> (usize, usize) {
        let i = self
            .spans
            .partition_point(|&(_, to)| to <= at)
            .min(self.spans.len().saturating_sub(1));
        (i, self.spans[i].1)
    }

    /// Entry `i`'s line length in bytes (without checking it).
    pub fn line_len(&self, i: usize) -> usize {
        let (from, to) = self.spans[i];
        to - from
    }

    /// Entry `i`, owned, with its `line` as taken by [`BlockView::line`].
    pub fn entry_with_line(&self, i: usize, line: &str) -> Entry {
        Entry {
            ts: self.ts[i],
            line: line.to_owned(),
            metadata: self.metadata(i),
        }
    }

    /// Entry `i`'s structured metadata (checked in `parse`, so decoding cannot fail here).
    fn metadata(&self, i: usize) -> Vec<(String, String)> {
        let Some(at) = self
            .metadata
            .as_ref()
            .map(|m| m[i])
            .filter(|&at| at != usize::MAX)
        else {
            return Vec::new();
        };
        let mut r = Reader::new(&self.payload[at..]);
        let read = |r: &mut Reader| -> Result<Vec<(String, String)>, DecodeError> {
            let m = r.count_of(1)?;
            let mut pairs = Vec::with_capacity(m);
            for _ in 0..m {
                match self.layout {
                    BlockFormat::Earlier => pairs.push((r.string()?, r.string()?)),
                    BlockFormat::Current => {
                        let i = r.u64()? as usize;
                        pairs.push(self.table.get(i).cloned().unwrap_or_default());
                    }
                }
            }
            Ok(pairs)
        };
        read(&mut r).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::put_block;

    #[test]
    fn reads_what_put_block_wrote_and_refuses_damage() {
        let entries = [
            Entry {
                ts: 5_000_000,
                line: "héllo".into(),
                metadata: vec![],
            },
            Entry {
                ts: 7_000_000,
                line: String::new(),
                metadata: vec![("trace_id".into(), "abc".into())],
            },
            Entry {
                ts: 6_000_000,
                line: "third line".into(),
                metadata: vec![],
            },
        ];
        let all = [0, 1, 2];
        let mut buf = Vec::new();
        put_block(&mut buf, entries.as_slice(), &all, BlockFormat::Earlier);
        let v = BlockView::parse(buf.clone(), BlockFormat::Earlier).unwrap();
        assert_eq!(v.len(), 3);
        for (i, e) in entries.iter().enumerate() {
            assert_eq!(&v.entry_with_line(i, v.line(i).unwrap()), e);
            assert_eq!(v.ts(i), e.ts);
            assert_eq!(v.line(i).unwrap(), e.line);
            assert_eq!(v.line_len(i), e.line.len());
        }
        for cut in 0..buf.len() {
            assert!(
                BlockView::parse(buf[..cut].to_vec(), BlockFormat::Earlier).is_err(),
                "cut at {cut}"
            );
        }
        // A line boundary inside a character ("é" is two bytes): lengths 2 and 4 instead of 6 and 0. The block
        // parses; taking either line is an error.
        let mut bad = buf.clone();
        let lens_at = buf.windows(3).position(|w| w == [6, 0, 10]).unwrap();
        bad[lens_at] = 2;
        bad[lens_at + 1] = 4;
        let v = BlockView::parse(bad, BlockFormat::Earlier).unwrap();
        assert!(v.line(0).is_err() && v.line(1).is_err());
        assert!(v.line(2).is_ok());
        for layout in [BlockFormat::Earlier, BlockFormat::Current] {
            let mut b = Vec::new();
            put_block(&mut b, entries.as_slice(), &[], layout);
            assert_eq!(BlockView::parse(b, layout).unwrap().len(), 0);
        }
        // A metadata index beyond the table is refused.
        let mut b = Vec::new();
        put_block(&mut b, entries.as_slice(), &all, BlockFormat::Current);
        let last = b.len() - 2; // entry 1's single index (entries: 0, [0], 0)
        assert_eq!(b[last..], [0, 0]);
        b[last] = 1;
        assert_eq!(b[b.len() - 3..], [1, 1, 0]);
        assert!(BlockView::parse(b, BlockFormat::Current).is_err());
    }
}
