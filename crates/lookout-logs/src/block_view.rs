//! A block's entries read in place: the payload written by [`crate::codec::put_block`] parsed into its timestamp
//! column and line offsets, so a scan checks its line filters on borrowed lines and allocates an [`Entry`] only for
//! the lines it hands out.

use crate::codec::{DecodeError, MetadataLayout, Reader};
use crate::entry::Entry;

/// One block's payload and its parsed columns.
pub struct BlockView {
    payload: Vec<u8>,
    ts: Vec<i64>,
    /// Line `i` is `payload[ends[i-1]..ends[i]]` (the first starts at `lines_at`).
    ends: Vec<usize>,
    lines_at: usize,
    layout: MetadataLayout,
    /// The block's distinct metadata pairs ([`MetadataLayout::Table`]).
    table: Vec<(String, String)>,
    /// Where each entry's metadata starts in the payload (`usize::MAX`: none), when any entry has some.
    metadata: Option<Vec<usize>>,
}

impl BlockView {
    /// Parses `payload` (metadata in `layout`), checking every length, every index and that the strings are UTF-8.
    pub fn parse(payload: Vec<u8>, layout: MetadataLayout) -> Result<BlockView, DecodeError> {
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
            for i in 1..n {
                let d = r.i64()?.wrapping_mul(unit);
                ts.push(ts[i - 1].wrapping_add(d));
            }
        }
        let mut ends = Vec::with_capacity(n);
        let mut total = 0usize;
        for _ in 0..n {
            let len = usize::try_from(r.u64()?).unwrap_or(usize::MAX);
            total = total.saturating_add(len);
            ends.push(total);
        }
        let lines_at = r.position();
        let Some(text) = payload.get(lines_at..lines_at.saturating_add(total)) else {
            return Err(DecodeError {
                at: lines_at,
                what: "line cut short",
            });
        };
        // One UTF-8 check for all lines, then each line must start on a character boundary.
        let text = std::str::from_utf8(text).map_err(|_| DecodeError {
            at: lines_at,
            what: "line is not UTF-8",
        })?;
        if !ends.iter().all(|&e| text.is_char_boundary(e)) {
            return Err(DecodeError {
                at: lines_at,
                what: "line is not UTF-8",
            });
        }
        for i in ends.iter_mut() {
            *i += lines_at;
        }
        // Metadata is decoded only for the entries handed out: here only where each entry's starts (none when no
        // entry has any).
        let meta_at = lines_at + total;
        let mut meta_reader = Reader::new(&payload[meta_at..]);
        let mut table = Vec::new();
        if layout == MetadataLayout::Table && n > 0 {
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
                MetadataLayout::Inline => {
                    for _ in 0..2 * m {
                        meta_reader.skip_string()?;
                    }
                }
                MetadataLayout::Table => {
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
            ends,
            lines_at,
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

    /// Entry `i`'s line.
    pub fn line(&self, i: usize) -> &str {
        let from = if i == 0 {
            self.lines_at
        } else {
            self.ends[i - 1]
        };
        // Checked in `parse`: the lines are UTF-8 and each starts on a character boundary.
        std::str::from_utf8(&self.payload[from..self.ends[i]]).unwrap_or_default()
    }

    /// Entry `i`, owned.
    pub fn entry(&self, i: usize) -> Entry {
        Entry {
            ts: self.ts[i],
            line: self.line(i).to_owned(),
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
                    MetadataLayout::Inline => pairs.push((r.string()?, r.string()?)),
                    MetadataLayout::Table => {
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
        put_block(&mut buf, entries.as_slice(), &all, MetadataLayout::Inline);
        let v = BlockView::parse(buf.clone(), MetadataLayout::Inline).unwrap();
        assert_eq!(v.len(), 3);
        for (i, e) in entries.iter().enumerate() {
            assert_eq!(&v.entry(i), e);
            assert_eq!(v.ts(i), e.ts);
            assert_eq!(v.line(i), e.line);
        }
        for cut in 0..buf.len() {
            assert!(
                BlockView::parse(buf[..cut].to_vec(), MetadataLayout::Inline).is_err(),
                "cut at {cut}"
            );
        }
        // A line boundary inside a character ("é" is two bytes): lengths 2 and 5 instead of 6 and 0.
        let mut bad = buf.clone();
        let lens_at = buf.windows(3).position(|w| w == [6, 0, 10]).unwrap();
        bad[lens_at] = 2;
        bad[lens_at + 1] = 4;
        assert!(BlockView::parse(bad, MetadataLayout::Inline).is_err());
        for layout in [MetadataLayout::Inline, MetadataLayout::Table] {
            let mut b = Vec::new();
            put_block(&mut b, entries.as_slice(), &[], layout);
            assert_eq!(BlockView::parse(b, layout).unwrap().len(), 0);
        }
        // A metadata index beyond the table is refused.
        let mut b = Vec::new();
        put_block(&mut b, entries.as_slice(), &all, MetadataLayout::Table);
        let last = b.len() - 2; // entry 1's single index (entries: 0, [0], 0)
        assert_eq!(b[last..], [0, 0]);
        b[last] = 1;
        assert_eq!(b[b.len() - 3..], [1, 1, 0]);
        assert!(BlockView::parse(b, MetadataLayout::Table).is_err());
    }
}
