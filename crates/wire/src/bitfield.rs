//! A set of pieces as BEP 3 sends it: bit 7 of byte 0 is piece 0; spare bits stay zero.

use crate::error::WireError;

/// A fixed-size set of piece indices, with its count kept up to date.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bitfield {
    bytes: Vec<u8>,
    len: usize,
    ones: usize,
}

impl Bitfield {
    /// An empty set for `len` pieces.
    pub fn new(len: usize) -> Self {
        Self {
            bytes: vec![0; len.div_ceil(8)],
            len,
            ones: 0,
        }
    }

    /// A full set for `len` pieces.
    pub fn full(len: usize) -> Self {
        let mut b = Self::new(len);
        b.bytes.fill(0xff);
        b.clear_spare();
        b.ones = len;
        b
    }

    /// Reads a bitfield message for a torrent of `len` pieces.
    ///
    /// # Errors
    ///
    /// [`WireError::BadBitfield`] when the size is not `ceil(len / 8)` or a spare bit is set.
    pub fn from_bytes(bytes: &[u8], len: usize) -> Result<Self, WireError> {
        let bad = || WireError::BadBitfield {
            got: bytes.len(),
            pieces: len,
        };
        if bytes.len() != len.div_ceil(8) {
            return Err(bad());
        }
        let mut b = Self {
            bytes: bytes.to_vec(),
            len,
            ones: 0,
        };
        let before: u32 = b.bytes.iter().map(|x| x.count_ones()).sum();
        b.clear_spare();
        let ones: u32 = b.bytes.iter().map(|x| x.count_ones()).sum();
        if ones != before {
            return Err(bad());
        }
        b.ones = ones as usize;
        Ok(b)
    }

    fn clear_spare(&mut self) {
        let spare = self.bytes.len() * 8 - self.len;
        if let Some(last) = self.bytes.last_mut() {
            *last &= 0xffu8.checked_shl(spare as u32).unwrap_or(0);
        }
    }

    /// Number of pieces the set is about.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for a set about zero pieces.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of pieces in the set.
    pub fn count(&self) -> usize {
        self.ones
    }

    /// True when every piece is in the set.
    pub fn is_full(&self) -> bool {
        self.ones == self.len
    }

    /// True when piece `i` is in the set (false past the end).
    pub fn get(&self, i: usize) -> bool {
        i < self.len && self.bytes[i / 8] & (0x80 >> (i % 8)) != 0
    }

    /// Adds or removes piece `i`; returns whether it changed. Indices past the end are ignored.
    pub fn set(&mut self, i: usize, value: bool) -> bool {
        if i >= self.len || self.get(i) == value {
            return false;
        }
        self.bytes[i / 8] ^= 0x80 >> (i % 8);
        if value {
            self.ones += 1;
        } else {
            self.ones -= 1;
        }
        true
    }

    /// The bytes of a bitfield message.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The indices in the set, ascending.
    pub fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len).filter(|&i| self.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spare_bits_and_counts() {
        let mut b = Bitfield::new(10);
        assert!(b.set(0, true) && b.set(9, true) && !b.set(9, true) && !b.set(10, true));
        assert_eq!(b.as_bytes(), &[0x80, 0x40]);
        assert_eq!(b.count(), 2);
        assert_eq!(Bitfield::from_bytes(&[0x80, 0x40], 10), Ok(b.clone()));
        assert!(Bitfield::from_bytes(&[0x80, 0x60], 10).is_err());
        assert!(Bitfield::from_bytes(&[0x80], 10).is_err());
        let full = Bitfield::full(10);
        assert_eq!(full.as_bytes(), &[0xff, 0xc0]);
        assert!(full.is_full());
        assert_eq!(full.ones().count(), 10);
        assert!(Bitfield::full(16).is_full());
        assert!(Bitfield::new(0).is_full());
    }
}
