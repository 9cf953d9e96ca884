//! A most-significant-bit-first bit reader for codec headers. Every read is bounds checked:
//! reading past the end gives `None`, never a panic, so the header parsers built on it are
//! total over arbitrary bytes.

/// Reads bits from a byte slice, first bit = the top bit of the first byte.
pub(super) struct Bits<'a> {
    data: &'a [u8],
    /// Position in bits from the start of `data`.
    pos: usize,
}

impl<'a> Bits<'a> {
    /// A reader at the first bit of `data`.
    pub(super) fn new(data: &'a [u8]) -> Self {
        Bits { data, pos: 0 }
    }

    /// One bit.
    pub(super) fn bit(&mut self) -> Option<bool> {
        let byte = *self.data.get(self.pos / 8)?;
        let bit = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Some(bit == 1)
    }

    /// An unsigned value of `n` bits (at most 32).
    pub(super) fn bits(&mut self, n: u32) -> Option<u32> {
        if n > 32 {
            return None;
        }
        let mut v = 0u64;
        for _ in 0..n {
            v = (v << 1) | u64::from(self.bit()?);
        }
        u32::try_from(v).ok()
    }

    /// Skip `n` bits.
    pub(super) fn skip(&mut self, n: usize) -> Option<()> {
        let end = self.pos.checked_add(n)?;
        if end > self.data.len().checked_mul(8)? {
            return None;
        }
        self.pos = end;
        Some(())
    }

    /// An unsigned Exp-Golomb value, `ue(v)` in HEVC. More than 32 leading zeros cannot code a
    /// 32-bit value, so such a code is `None`.
    pub(super) fn ue(&mut self) -> Option<u64> {
        let mut zeros = 0u32;
        while !self.bit()? {
            zeros += 1;
            if zeros > 32 {
                return None;
            }
        }
        let rest = if zeros == 0 { 0 } else { self.bits(zeros)? };
        Some((1u64 << zeros) - 1 + u64::from(rest))
    }

    /// AV1's `uvlc()` as dav1d reads it: 32 leading zeros mean the largest value, with no value
    /// bits following.
    pub(super) fn uvlc(&mut self) -> Option<u32> {
        let mut zeros = 0u32;
        while !self.bit()? {
            zeros += 1;
            if zeros == 32 {
                return Some(u32::MAX);
            }
        }
        let rest = if zeros == 0 { 0 } else { self.bits(zeros)? };
        u32::try_from((1u64 << zeros) - 1 + u64::from(rest)).ok()
    }
}

/// An MSB-first bit writer, for building headers in tests.
#[cfg(test)]
#[derive(Default)]
pub(super) struct Writer {
    /// The bytes written so far (the last one possibly partial).
    pub(super) bytes: Vec<u8>,
    bits: usize,
}

#[cfg(test)]
impl Writer {
    /// The low `n` bits of `v` (n at most 64), top bit first.
    pub(super) fn put(&mut self, n: u32, v: u64) {
        for i in (0..n).rev() {
            if self.bits.is_multiple_of(8) {
                self.bytes.push(0);
            }
            if (v >> i) & 1 == 1 {
                *self.bytes.last_mut().unwrap() |= 0x80 >> (self.bits % 8);
            }
            self.bits += 1;
        }
    }

    /// `n` zero bits.
    pub(super) fn zeros(&mut self, n: u32) {
        for _ in 0..n {
            self.put(1, 0);
        }
    }

    /// An unsigned Exp-Golomb code.
    pub(super) fn ue(&mut self, v: u64) {
        let len = 64 - (v + 1).leading_zeros();
        self.zeros(len - 1);
        self.put(len, v + 1);
    }

    /// A stop bit and zero padding to the byte boundary, as headers end.
    pub(super) fn finish(mut self) -> Vec<u8> {
        self.put(1, 1);
        while !self.bits.is_multiple_of(8) {
            self.put(1, 0);
        }
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_writer_wrote() {
        let mut w = Writer::default();
        w.put(5, 21);
        w.ue(1_000_000);
        w.put(32, u64::from(u32::MAX));
        w.ue(0);
        let bytes = w.finish();
        let mut r = Bits::new(&bytes);
        assert_eq!(r.bits(5), Some(21));
        assert_eq!(r.ue(), Some(1_000_000));
        assert_eq!(r.bits(32), Some(u32::MAX));
        assert_eq!(r.ue(), Some(0));
        assert_eq!(r.bit(), Some(true));
    }

    #[test]
    fn reads_fields_and_exp_golomb_codes() {
        // 101 | 00111 (ue 6) | 1 (ue 0) | 010 (ue 1), then padding.
        let mut b = Bits::new(&[0b1010_0111, 0b1010_0000]);
        assert_eq!(b.bits(3), Some(0b101));
        assert_eq!(b.ue(), Some(6));
        assert_eq!(b.ue(), Some(0));
        assert_eq!(b.ue(), Some(1));
        assert_eq!(b.skip(4), Some(()));
        assert_eq!(b.bit(), None);
    }

    #[test]
    fn reading_past_the_end_is_none() {
        let mut b = Bits::new(&[0xFF]);
        assert_eq!(b.bits(9), None);
        assert_eq!(Bits::new(&[0; 8]).ue(), None);
        assert_eq!(Bits::new(&[0; 4]).uvlc(), Some(u32::MAX));
        assert_eq!(Bits::new(&[]).skip(1), None);
        assert_eq!(Bits::new(&[0]).bits(33), None);
        assert_eq!(Bits::new(&[0]).skip(usize::MAX), None);
    }
}
