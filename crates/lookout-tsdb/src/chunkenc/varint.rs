//! LEB128 varints and zig-zag signs for the byte-aligned parts of sealed chunks.

use super::ChunkError;

/// Maps signed to unsigned so that small magnitudes of either sign become small numbers.
#[inline]
pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Inverse of [`zigzag`].
#[inline]
pub(crate) fn unzigzag(z: u64) -> i64 {
    ((z >> 1) as i64) ^ -((z & 1) as i64)
}

/// Appends `v` as an unsigned LEB128 varint.
#[inline]
pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` zig-zagged as a varint.
#[inline]
pub(crate) fn put_ivarint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, zigzag(v));
}

/// Bytes [`put_uvarint`] takes for `v`.
#[inline]
pub(crate) fn uvarint_len(v: u64) -> u32 {
    (64 - (v | 1).leading_zeros()).div_ceil(7)
}

/// A cursor over the byte-aligned parts of a chunk; every read reports where it failed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ByteCursor<'a> {
    /// The whole chunk.
    pub(crate) buf: &'a [u8],
    /// Next byte to read.
    pub(crate) pos: usize,
}

impl<'a> ByteCursor<'a> {
    /// Starts at byte `pos` of `buf`.
    pub(crate) fn new(buf: &'a [u8], pos: usize) -> Self {
        ByteCursor { buf, pos }
    }

    /// Reads one byte.
    #[inline]
    pub(crate) fn byte(&mut self) -> Result<u8, ChunkError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or(ChunkError::Truncated { offset: self.pos })?;
        self.pos += 1;
        Ok(b)
    }

    /// Reads `N` raw bytes.
    #[inline]
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], ChunkError> {
        let s = self
            .buf
            .get(self.pos..self.pos + N)
            .ok_or(ChunkError::Truncated { offset: self.pos })?;
        self.pos += N;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// Reads an unsigned LEB128 varint of at most 10 bytes.
    #[inline]
    pub(crate) fn uvarint(&mut self) -> Result<u64, ChunkError> {
        let start = self.pos;
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            if shift == 63 && b > 1 {
                return Err(ChunkError::Corrupt(format!(
                    "varint at byte {start} overflows 64 bits"
                )));
            }
            v |= ((b & 0x7f) as u64) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(ChunkError::Corrupt(format!(
            "varint at byte {start} longer than 10 bytes"
        )))
    }

    /// Reads a zig-zagged varint.
    #[inline]
    pub(crate) fn ivarint(&mut self) -> Result<i64, ChunkError> {
        Ok(unzigzag(self.uvarint()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_reject_overflow() {
        let vals = [0i64, 1, -1, 63, -64, 64, 1 << 40, i64::MAX, i64::MIN];
        let mut buf = Vec::new();
        for &v in &vals {
            let before = buf.len();
            put_ivarint(&mut buf, v);
            assert_eq!((buf.len() - before) as u32, uvarint_len(zigzag(v)));
        }
        let mut c = ByteCursor::new(&buf, 0);
        for &v in &vals {
            assert_eq!(c.ivarint(), Ok(v));
        }
        assert_eq!(
            c.uvarint(),
            Err(ChunkError::Truncated { offset: buf.len() })
        );
        let overflow = [0xffu8; 9]
            .iter()
            .copied()
            .chain([0x02])
            .collect::<Vec<_>>();
        assert!(matches!(
            ByteCursor::new(&overflow, 0).uvarint(),
            Err(ChunkError::Corrupt(_))
        ));
    }
}
