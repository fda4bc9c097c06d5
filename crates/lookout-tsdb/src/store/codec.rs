//! Byte layouts of what goes into sled: keys (big-endian so sled's order is time order), varints, and the
//! encodings of series-table segments, chunk groups and part directories (each zstd-compressed as a whole).

use std::sync::Arc;

use lookout_model::{Label, Labels};
use lookout_storage::StorageError;

use super::stamps::{StampTable, StampTableBuilder};

/// Appends `v` as an unsigned LEB128 varint.
pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads sled bytes with a position, failing with a description instead of panicking.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub(crate) fn uvarint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or_else(|| format!("varint truncated at byte {}", self.pos))?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(format!("varint too long at byte {}", self.pos))
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], String> {
        let s = self
            .buf
            .get(self.pos..self.pos + n)
            .ok_or_else(|| format!("{n} bytes missing at {}", self.pos))?;
        self.pos += n;
        Ok(s)
    }

    pub(crate) fn i64(&mut self) -> Result<i64, String> {
        Ok(i64::from_be_bytes(
            self.bytes(8)?.try_into().expect("8 bytes"),
        ))
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }
}

/// Order-preserving big-endian form of a signed time.
pub(crate) fn time_key(t: i64) -> [u8; 8] {
    ((t as u64) ^ (1 << 63)).to_be_bytes()
}

/// Inverse of [`time_key`].
pub(crate) fn time_from_key(b: &[u8]) -> i64 {
    (u64::from_be_bytes(b[..8].try_into().expect("8 bytes")) ^ (1 << 63)) as i64
}

/// A persisted part: block start and the sequence number of the persistence run that wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct PartKey {
    pub(crate) block_start: i64,
    pub(crate) seq: u32,
}

impl PartKey {
    pub(crate) fn bytes(&self) -> [u8; 12] {
        let mut k = [0u8; 12];
        k[..8].copy_from_slice(&time_key(self.block_start));
        k[8..].copy_from_slice(&self.seq.to_be_bytes());
        k
    }

    pub(crate) fn from_bytes(b: &[u8]) -> Option<PartKey> {
        (b.len() >= 12).then(|| PartKey {
            block_start: time_from_key(b),
            seq: u32::from_be_bytes(b[8..12].try_into().expect("4 bytes")),
        })
    }

    /// Key of group `g` of this part in the chunks tree.
    pub(crate) fn group_key(&self, g: u32) -> [u8; 16] {
        let mut k = [0u8; 16];
        k[..12].copy_from_slice(&self.bytes());
        k[12..].copy_from_slice(&g.to_be_bytes());
        k
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_uvarint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn read_str(r: &mut Reader<'_>) -> Result<Arc<str>, String> {
    let n = r.uvarint()? as usize;
    let b = r.bytes(n)?;
    std::str::from_utf8(b)
        .map(Arc::from)
        .map_err(|e| format!("label text is not utf-8: {e}"))
}

/// Encodes (id, labels) pairs sorted by id.
pub(crate) fn encode_series(entries: &[(u32, Labels)], out: &mut Vec<u8>) {
    put_uvarint(out, entries.len() as u64);
    for (id, labels) in entries {
        put_uvarint(out, u64::from(*id));
        put_uvarint(out, labels.len() as u64);
        for l in labels {
            put_str(out, &l.name);
            put_str(out, &l.value);
        }
    }
}

/// Decodes [`encode_series`], checking that labels are sorted and unique.
pub(crate) fn decode_series(buf: &[u8]) -> Result<Vec<(u32, Labels)>, String> {
    let mut r = Reader::new(buf);
    let n = r.uvarint()? as usize;
    let mut out = Vec::with_capacity(n.min(1 << 16));
    for _ in 0..n {
        let id = r.uvarint()? as u32;
        let k = r.uvarint()? as usize;
        let mut v = Vec::with_capacity(k.min(256));
        for _ in 0..k {
            let name = read_str(&mut r)?;
            let value = read_str(&mut r)?;
            v.push(Label { name, value });
        }
        if !v.windows(2).all(|w| w[0].name < w[1].name) {
            return Err(format!("labels of series {id} are not sorted"));
        }
        out.push((id, Labels::from_sorted_unchecked(v)));
    }
    Ok(out)
}

/// Where one series' samples sit inside a part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DirEntry {
    pub(crate) id: u32,
    pub(crate) group: u32,
    pub(crate) index: u32,
    pub(crate) count: u32,
    pub(crate) mint: i64,
    pub(crate) maxt: i64,
}

/// Encodes a part directory (entries sorted by id).
pub(crate) fn encode_dir(entries: &[DirEntry], part_mint: i64, out: &mut Vec<u8>) {
    put_uvarint(out, entries.len() as u64);
    let mut prev = 0u32;
    for e in entries {
        put_uvarint(out, u64::from(e.id - prev));
        prev = e.id;
        put_uvarint(out, u64::from(e.group));
        put_uvarint(out, u64::from(e.index));
        put_uvarint(out, u64::from(e.count));
        put_uvarint(out, (e.mint - part_mint) as u64);
        put_uvarint(out, (e.maxt - e.mint) as u64);
    }
}

/// A part's directory (entries sorted by id) and its shared timestamp sequences (none in parts written before
/// the table existed).
#[derive(Debug, Default)]
pub(crate) struct PartDir {
    pub(crate) entries: Vec<DirEntry>,
    pub(crate) stamps: StampTable,
}

impl std::ops::Deref for PartDir {
    type Target = [DirEntry];

    fn deref(&self) -> &[DirEntry] {
        &self.entries
    }
}

impl PartDir {
    /// Encodes the directory, then the table (what a part file with the current magic holds).
    pub(crate) fn encode(
        entries: &[DirEntry],
        part_mint: i64,
        stamps: &StampTableBuilder,
        out: &mut Vec<u8>,
    ) {
        encode_dir(entries, part_mint, out);
        stamps.encode(out);
    }

    /// Decodes [`PartDir::encode`], or a bare [`encode_dir`] when `with_stamps` is false; bytes left over are an
    /// error.
    pub(crate) fn decode(buf: &[u8], part_mint: i64, with_stamps: bool) -> Result<PartDir, String> {
        let mut r = Reader::new(buf);
        let entries = read_dir(&mut r, part_mint)?;
        let stamps = if with_stamps {
            StampTable::decode(&mut r)?
        } else {
            StampTable::default()
        };
        if !r.rest().is_empty() {
            return Err(format!("{} bytes after the directory", r.rest().len()));
        }
        Ok(PartDir { entries, stamps })
    }

    /// Heap bytes, for the cache's weight.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<DirEntry>() + self.stamps.heap_bytes() + 64
    }
}

fn read_dir(r: &mut Reader<'_>, part_mint: i64) -> Result<Vec<DirEntry>, String> {
    let n = r.uvarint()? as usize;
    let mut out = Vec::with_capacity(n.min(1 << 20));
    let mut id = 0u32;
    for _ in 0..n {
        id += r.uvarint()? as u32;
        let group = r.uvarint()? as u32;
        let index = r.uvarint()? as u32;
        let count = r.uvarint()? as u32;
        let mint = part_mint + r.uvarint()? as i64;
        let maxt = mint + r.uvarint()? as i64;
        out.push(DirEntry {
            id,
            group,
            index,
            count,
            mint,
            maxt,
        });
    }
    Ok(out)
}

/// A decompressed chunk group: the sealed chunk bytes of up to `GROUP_SERIES` series.
#[derive(Debug)]
pub(crate) struct Group {
    data: Vec<u8>,
    ranges: Vec<(usize, usize)>,
}

impl Group {
    /// Encodes sealed chunks (already concatenated in `bodies`, lengths in `lens`).
    pub(crate) fn encode(lens: &[usize], bodies: &[u8], out: &mut Vec<u8>) {
        put_uvarint(out, lens.len() as u64);
        for &l in lens {
            put_uvarint(out, l as u64);
        }
        out.extend_from_slice(bodies);
    }

    pub(crate) fn decode(data: Vec<u8>) -> Result<Group, String> {
        let mut r = Reader::new(&data);
        let n = r.uvarint()? as usize;
        let mut ranges = Vec::with_capacity(n.min(1 << 16));
        let mut lens = Vec::with_capacity(n.min(1 << 16));
        for _ in 0..n {
            lens.push(r.uvarint()? as usize);
        }
        let mut off = data.len() - r.rest().len();
        for l in lens {
            if off + l > data.len() {
                return Err(format!(
                    "group body truncated: {} bytes, entry needs {}",
                    data.len(),
                    off + l
                ));
            }
            ranges.push((off, off + l));
            off += l;
        }
        Ok(Group { data, ranges })
    }

    /// The sealed chunk of entry `i`.
    pub(crate) fn chunk(&self, i: usize) -> Option<&[u8]> {
        self.ranges.get(i).map(|&(a, b)| &self.data[a..b])
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.data.capacity() + self.ranges.capacity() * 16
    }
}

/// zstd-compresses `raw`.
pub(crate) fn compress(raw: &[u8], level: i32) -> Result<Vec<u8>, StorageError> {
    zstd::bulk::compress(raw, level)
        .map_err(|e| StorageError::Other(format!("zstd compression failed: {e}")))
}

/// Decompresses a zstd frame of at most `limit` bytes. The output buffer is sized from the size the frame
/// declares (our frames always declare it), so a read reserves what it needs rather than `limit`.
pub(crate) fn decompress(z: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    let declared = zstd::zstd_safe::get_frame_content_size(z)
        .map_err(|e| format!("zstd frame header does not parse: {e}"))?;
    let capacity = match declared {
        Some(n) if n <= limit as u64 => n as usize,
        Some(n) => {
            return Err(format!(
                "zstd frame declares {n} bytes, over the limit of {limit}"
            ));
        }
        None => limit,
    };
    zstd::bulk::decompress(z, capacity).map_err(|e| format!("zstd frame does not decompress: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decompress_sizes_from_the_frame_and_enforces_the_limit() {
        let raw: Vec<u8> = (0..100_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let z = compress(&raw, 3).unwrap();
        let out = decompress(&z, 1 << 30).unwrap();
        assert_eq!(out, raw);
        assert!(
            out.capacity() < 2 * raw.len(),
            "buffer sized from the frame, not the limit"
        );
        assert!(decompress(&z, 1000).unwrap_err().contains("over the limit"));
        assert!(decompress(b"not zstd", 1000).is_err());
    }

    #[test]
    fn keys_sort_like_times_and_codecs_round_trip() {
        assert!(time_key(-5) < time_key(3));
        assert_eq!(time_from_key(&time_key(-7_200_000)), -7_200_000);
        let a = PartKey {
            block_start: -10,
            seq: 9,
        };
        let b = PartKey {
            block_start: 10,
            seq: 1,
        };
        assert!(a.bytes() < b.bytes());
        assert_eq!(PartKey::from_bytes(&b.group_key(3)), Some(b));

        let series = vec![
            (
                3,
                Labels::from_pairs(&[("__name__", "up"), ("job", "x")]).unwrap(),
            ),
            (70_000, Labels::from_pairs(&[("a", "ü")]).unwrap()),
        ];
        let mut buf = Vec::new();
        encode_series(&series, &mut buf);
        assert_eq!(decode_series(&buf).unwrap(), series);
        assert!(decode_series(&buf[..buf.len() - 1]).is_err());

        let dir = vec![
            DirEntry {
                id: 2,
                group: 0,
                index: 0,
                count: 5,
                mint: 100,
                maxt: 140,
            },
            DirEntry {
                id: 9,
                group: 1,
                index: 3,
                count: 1,
                mint: 120,
                maxt: 120,
            },
        ];
        let mut buf = Vec::new();
        encode_dir(&dir, 100, &mut buf);
        assert_eq!(PartDir::decode(&buf, 100, false).unwrap().entries, dir);

        let mut buf = Vec::new();
        Group::encode(&[2, 3], b"abcde", &mut buf);
        let g = Group::decode(buf).unwrap();
        assert_eq!(g.chunk(1), Some(&b"cde"[..]));
        assert_eq!(g.chunk(2), None);
    }
}
