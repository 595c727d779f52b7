//! The one framed reader of the peer wire protocol, shared by peer connections and magnet
//! metadata fetches: bytes are read into one buffer, frames are parsed in place (check, then
//! parse: an incomplete frame waits for more bytes), and the buffer grows to what the
//! largest frame the limits allow needs, never beyond.

use tokio::io::{AsyncRead, AsyncReadExt};
use wire::{Limits, Message, Parsed};

use crate::error::FrameError;

/// Bytes received and not yet handled.
#[derive(Debug)]
pub(crate) struct FrameReader {
    buf: Vec<u8>,
    /// Bytes received; those before `start` are handled.
    filled: usize,
    start: usize,
    /// Bytes the incomplete frame at `start` still needs.
    needed: usize,
    limits: Limits,
}

impl FrameReader {
    /// A reader with room for `capacity` bytes at first.
    pub fn new(capacity: usize, limits: Limits) -> Self {
        Self {
            buf: vec![0; capacity],
            filled: 0,
            start: 0,
            needed: 0,
            limits,
        }
    }

    /// Room left for reading.
    pub fn spare(&self) -> usize {
        self.buf.len() - self.filled
    }

    /// Reads at most `max` bytes (at least one byte of room is made); returns how many came.
    /// Cancel-safe: nothing is recorded until the read completes. The end of the stream is
    /// [`FrameError::Closed`].
    pub async fn read_from<R: AsyncRead + Unpin>(
        &mut self,
        rd: &mut R,
        max: usize,
    ) -> Result<usize, FrameError> {
        self.compact();
        if self.filled == self.buf.len() {
            self.buf.resize(self.buf.len().max(1) * 2, 0);
        }
        let end = self.filled + max.clamp(1, self.spare());
        let n = rd
            .read(&mut self.buf[self.filled..end])
            .await
            .map_err(FrameError::Read)?;
        if n == 0 {
            return Err(FrameError::Closed);
        }
        self.filled += n;
        Ok(n)
    }

    /// The next complete frame, if one is in the buffer.
    pub fn next_frame(&mut self) -> Result<Option<Message<'_>>, FrameError> {
        let Self {
            buf,
            filled,
            start,
            needed,
            limits,
        } = self;
        match wire::decode(&buf[*start..*filled], limits).map_err(FrameError::Protocol)? {
            Parsed::Done { value, len } => {
                *start += len;
                *needed = 0;
                Ok(Some(value))
            }
            Parsed::Incomplete { needed: k } => {
                *needed = k;
                Ok(None)
            }
        }
    }

    /// Moves the unhandled bytes to the front, and makes room for the frame that waits for
    /// more (its length prefix says how much).
    pub fn compact(&mut self) {
        self.buf.copy_within(self.start..self.filled, 0);
        self.filled -= self.start;
        self.start = 0;
        if self.filled + self.needed > self.buf.len() {
            self.buf.resize(self.filled + self.needed, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_split_across_reads_come_out_whole() {
        let mut bytes = Vec::new();
        Message::Have(7).write(&mut bytes);
        Message::Extended {
            id: 3,
            payload: &[9; 100],
        }
        .write(&mut bytes);
        let (mut a, mut b) = tokio::io::duplex(8);
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            a.write_all(&bytes).await.unwrap();
        });
        // A buffer smaller than the second frame: it grows to fit.
        let mut r = FrameReader::new(16, Limits::default());
        let mut got = Vec::new();
        while got.len() < 2 {
            r.read_from(&mut b, 5).await.unwrap();
            while let Some(m) = r.next_frame().unwrap() {
                got.push(format!("{m:?}"));
            }
        }
        writer.await.unwrap();
        assert!(
            got[0].contains("Have(7)") && got[1].contains("Extended"),
            "{got:?}"
        );
        assert!(matches!(r.read_from(&mut b, 5).await, Err(FrameError::Closed)));
    }

    #[test]
    fn a_bad_frame_is_a_protocol_violation() {
        let mut r = FrameReader::new(16, Limits::default());
        r.buf[..5].copy_from_slice(&[0xff, 0xff, 0xff, 0xff, 0]);
        r.filled = 5;
        assert!(matches!(r.next_frame(), Err(FrameError::Protocol(_))));
    }
}
