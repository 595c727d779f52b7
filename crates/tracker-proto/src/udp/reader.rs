//! A cursor over a datagram whose reads never fail: past the end they yield zeros and mark the
//! reader short, so a parser reads a fixed layout straight through and checks once.

/// Big-endian reads from the front of a byte slice.
pub(super) struct Reader<'a> {
    rest: &'a [u8],
    short: bool,
}

impl<'a> Reader<'a> {
    pub(super) fn new(buf: &'a [u8]) -> Self {
        Self {
            rest: buf,
            short: false,
        }
    }

    /// The next `N` bytes, or zeros (and the reader marked short) if fewer remain.
    pub(super) fn array<const N: usize>(&mut self) -> [u8; N] {
        match self.rest.split_first_chunk::<N>() {
            Some((head, tail)) => {
                self.rest = tail;
                *head
            }
            None => {
                self.rest = &[];
                self.short = true;
                [0; N]
            }
        }
    }

    pub(super) fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.array())
    }

    pub(super) fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.array())
    }

    pub(super) fn i32(&mut self) -> i32 {
        i32::from_be_bytes(self.array())
    }

    pub(super) fn u64(&mut self) -> u64 {
        u64::from_be_bytes(self.array())
    }

    /// The bytes not read yet.
    pub(super) fn rest(&self) -> &'a [u8] {
        self.rest
    }

    /// True once a read ran past the end.
    pub(super) fn is_short(&self) -> bool {
        self.short
    }
}
