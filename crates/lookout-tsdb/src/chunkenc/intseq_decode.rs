//! Decoding of the integer sequence codec (the format is described in [`super::intseq`]).

use super::ChunkError;
use super::bits::BitReader;
use super::intseq::{CODE_GOLOMB, CODE_PACKED, CODE_RUNS, CODE_ZERO, HAS_FACTOR, HAS_OFFSET};
use super::varint::{ByteCursor, unzigzag};

/// Decodes `n` integers starting with `first` from `cur` (positioned after the first element), appending to
/// `out`, and moves `cur` past the encoding.
pub(crate) fn decode_ints(
    cur: &mut ByteCursor<'_>,
    first: i64,
    n: usize,
    out: &mut Vec<i64>,
) -> Result<(), ChunkError> {
    if n == 0 {
        return Ok(());
    }
    out.push(first);
    if n == 1 {
        return Ok(());
    }
    let mode_at = cur.pos;
    let mode = cur.byte()?;
    let order = (mode & 3) as usize;
    if order > n - 1 || mode >> 6 != 0 {
        return Err(ChunkError::Corrupt(format!(
            "int sequence mode {mode:#04x} at byte {mode_at} for {n} values"
        )));
    }
    let mut acc = [first, 0, 0, 0];
    for j in 1..order {
        acc[j] = cur.ivarint()?;
        for l in (0..j).rev() {
            acc[l] = acc[l].wrapping_add(acc[l + 1]);
        }
        out.push(acc[0]);
    }
    let slope = if order == 0 { cur.ivarint()? } else { 0 };
    let offset = if mode & HAS_OFFSET != 0 {
        cur.ivarint()?
    } else {
        0
    };
    let factor = if mode & HAS_FACTOR != 0 {
        cur.uvarint()? as i64
    } else {
        1
    };
    let count = n - order.max(1);
    let start = out.len();
    match (mode >> 2) & 3 {
        CODE_ZERO => out.resize(start + count, 0),
        CODE_GOLOMB => {
            let k = golomb_param(cur)?;
            let mut r = BitReader::at_byte(cur.buf, cur.pos);
            for _ in 0..count {
                let z = r.read_exp_golomb(k).ok_or(ChunkError::Truncated {
                    offset: r.position() / 8,
                })?;
                out.push(unzigzag(z));
            }
            cur.pos = r.next_byte();
        }
        CODE_PACKED => {
            let at = cur.pos;
            let width = match cur.byte()? {
                w @ 1..=64 => w as u32,
                w => {
                    return Err(ChunkError::Corrupt(format!(
                        "packed width {w} at byte {at}"
                    )));
                }
            };
            let mut r = BitReader::at_byte(cur.buf, cur.pos);
            for _ in 0..count {
                let z = r.read(width).ok_or(ChunkError::Truncated {
                    offset: r.position() / 8,
                })?;
                out.push(unzigzag(z));
            }
            cur.pos = r.next_byte();
        }
        CODE_RUNS => {
            let k_run = golomb_param(cur)?;
            let k_value = golomb_param(cur)?;
            out.resize(start + count, 0);
            let mut r = BitReader::at_byte(cur.buf, cur.pos);
            let mut i = 0usize;
            while i < count {
                let run = r.read_exp_golomb(k_run).ok_or(ChunkError::Truncated {
                    offset: r.position() / 8,
                })?;
                i = usize::try_from(run)
                    .ok()
                    .and_then(|run| i.checked_add(run))
                    .unwrap_or(usize::MAX);
                if i > count {
                    return Err(ChunkError::Corrupt(format!(
                        "zero run past the end at bit {}",
                        r.position()
                    )));
                }
                if i == count {
                    break;
                }
                let z = r.read_exp_golomb(k_value).ok_or(ChunkError::Truncated {
                    offset: r.position() / 8,
                })?;
                out[start + i] = unzigzag(z.wrapping_add(1));
                i += 1;
            }
            cur.pos = r.next_byte();
        }
        code => {
            return Err(ChunkError::Corrupt(format!(
                "int sequence code {code} at byte {mode_at}"
            )));
        }
    }
    if order == 0 {
        let mut line = first.wrapping_add(offset);
        for v in &mut out[start..] {
            line = line.wrapping_add(slope);
            *v = line.wrapping_add(v.wrapping_mul(factor));
        }
    } else {
        integrate(&mut out[start..], &mut acc, order, offset, factor);
    }
    Ok(())
}

fn golomb_param(cur: &mut ByteCursor<'_>) -> Result<u32, ChunkError> {
    let at = cur.pos;
    match cur.byte()? {
        k @ 0..=63 => Ok(k as u32),
        k => Err(ChunkError::Corrupt(format!(
            "golomb order {k} at byte {at}"
        ))),
    }
}

/// Turns residuals into values in place: Δᵒx = D + g·r, then sums back down the levels.
#[inline]
fn integrate(vals: &mut [i64], acc: &mut [i64; 4], order: usize, offset: i64, factor: i64) {
    match order {
        1 => {
            let mut x = acc[0];
            for v in vals.iter_mut() {
                x = x.wrapping_add(offset.wrapping_add(v.wrapping_mul(factor)));
                *v = x;
            }
        }
        2 => {
            let (mut x, mut d) = (acc[0], acc[1]);
            for v in vals.iter_mut() {
                d = d.wrapping_add(offset.wrapping_add(v.wrapping_mul(factor)));
                x = x.wrapping_add(d);
                *v = x;
            }
        }
        _ => {
            let (mut x, mut d, mut dd) = (acc[0], acc[1], acc[2]);
            for v in vals.iter_mut() {
                dd = dd.wrapping_add(offset.wrapping_add(v.wrapping_mul(factor)));
                d = d.wrapping_add(dd);
                x = x.wrapping_add(d);
                *v = x;
            }
        }
    }
}
