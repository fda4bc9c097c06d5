//! Gorilla XOR float compression, shared by the head chunk and the sealed fallback for values that are not
//! short decimals.
//!
//! `x` = bits XOR previous bits. `0` → same value; `10` + the bits of `x` inside the previous window of meaningful
//! bits; `11` + leading zeros (5 bits, capped at 31) + meaningful-bit count (6 bits, 64 written as 0) + the bits.

use super::bits::{BitReader, BitWriter};

/// "No window yet" marker for the leading-zero count.
const NO_WINDOW: u8 = u8::MAX;

/// Encoder state: the previous value and the current window of meaningful bits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct XorEncoder {
    prev: u64,
    leading: u8,
    trailing: u8,
}

impl XorEncoder {
    /// Starts after a first value written raw.
    #[inline]
    pub(crate) fn new(first_bits: u64) -> Self {
        XorEncoder {
            prev: first_bits,
            leading: NO_WINDOW,
            trailing: 0,
        }
    }

    /// Writes the code of the next value.
    #[inline]
    pub(crate) fn write(&mut self, w: &mut BitWriter<'_>, bits: u64) {
        let x = bits ^ self.prev;
        self.prev = bits;
        if x == 0 {
            w.write(0, 1);
            return;
        }
        let lead = (x.leading_zeros() as u8).min(31);
        let trail = x.trailing_zeros() as u8;
        if self.leading != NO_WINDOW && lead >= self.leading && trail >= self.trailing {
            let sig = 64 - self.leading as u32 - self.trailing as u32;
            if sig <= 62 {
                w.write((0b10 << sig) | (x >> self.trailing), sig + 2);
            } else {
                w.write(0b10, 2);
                w.write(x >> self.trailing, sig);
            }
        } else {
            let sig = 64 - lead as u32 - trail as u32;
            // 2 + 5 + 6 header bits in one write.
            w.write((0b11 << 11) | ((lead as u64) << 6) | (sig as u64 & 63), 13);
            w.write(x >> trail, sig);
            self.leading = lead;
            self.trailing = trail;
        }
    }
}

/// Decoder state matching [`XorEncoder`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct XorDecoder {
    prev: u64,
    leading: u32,
    sig: u32,
}

impl XorDecoder {
    /// Starts after a first value read raw.
    #[inline]
    pub(crate) fn new(first_bits: u64) -> Self {
        XorDecoder {
            prev: first_bits,
            leading: 0,
            sig: 0,
        }
    }

    /// Reads the next value's bits; `None` when the bits run out or are inconsistent.
    #[inline]
    pub(crate) fn read<B: AsRef<[u8]>>(&mut self, r: &mut BitReader<B>) -> Option<u64> {
        if r.read_bit()? {
            if r.read_bit()? {
                let header = r.read_short(11)? as u32;
                let leading = header >> 6;
                let sig = match header & 63 {
                    0 => 64,
                    s => s,
                };
                if leading + sig > 64 {
                    return None;
                }
                self.leading = leading;
                self.sig = sig;
            } else if self.sig == 0 {
                return None;
            }
            let trailing = 64 - self.leading - self.sig;
            self.prev ^= r.read(self.sig)? << trailing;
        }
        Some(self.prev)
    }
}
