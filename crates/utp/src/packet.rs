//! The uTP packet (BEP 29): a 20-byte header, a chain of extensions (only selective ack, 1,
//! is understood; others are skipped), then the payload.

/// Bytes of the fixed header.
pub const HEADER: usize = 20;
/// Most extensions read from one packet.
const MAX_EXTENSIONS: usize = 8;
/// Longest selective-ack bitmask read (bits for 256 packets past the ack).
pub const MAX_SACK: usize = 32;

/// What a packet is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Payload.
    Data = 0,
    /// The sender has sent everything.
    Fin = 1,
    /// An acknowledgement (no payload, no sequence number of its own).
    State = 2,
    /// The connection is aborted.
    Reset = 3,
    /// A connection request.
    Syn = 4,
}

impl Kind {
    fn from_nibble(n: u8) -> Option<Self> {
        Some(match n {
            0 => Self::Data,
            1 => Self::Fin,
            2 => Self::State,
            3 => Self::Reset,
            4 => Self::Syn,
            _ => return None,
        })
    }
}

/// A decoded packet; `payload` borrows from the datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<'a> {
    /// Its type.
    pub kind: Kind,
    /// The connection id it is for.
    pub conn_id: u16,
    /// The sender's clock when it sent it, microseconds (wrapping).
    pub timestamp: u32,
    /// The sender's last measured one-way delay from us, microseconds.
    pub timestamp_diff: u32,
    /// Bytes the sender can still receive.
    pub wnd_size: u32,
    /// Its sequence number.
    pub seq_nr: u16,
    /// The last packet the sender received in order.
    pub ack_nr: u16,
    /// Selective acks: bit `i` says packet `ack_nr + 2 + i` arrived.
    pub sack: Option<&'a [u8]>,
    /// The payload.
    pub payload: &'a [u8],
}

/// Why a datagram is not a uTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// Shorter than the header.
    #[error("shorter than a uTP header")]
    Short,
    /// Not version 1, or an unknown type.
    #[error("not a uTP version 1 packet")]
    Version,
    /// An extension runs past the end, or there are too many.
    #[error("malformed extension chain")]
    Extension,
}

impl<'a> Packet<'a> {
    /// Decodes a datagram.
    pub fn parse(b: &'a [u8]) -> Result<Self, PacketError> {
        if b.len() < HEADER {
            return Err(PacketError::Short);
        }
        if b[0] & 0x0f != 1 {
            return Err(PacketError::Version);
        }
        let kind = Kind::from_nibble(b[0] >> 4).ok_or(PacketError::Version)?;
        let u16_at = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        let u32_at = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let mut next = b[1];
        let mut at = HEADER;
        let mut sack = None;
        let mut count = 0;
        while next != 0 {
            count += 1;
            if count > MAX_EXTENSIONS || at + 2 > b.len() {
                return Err(PacketError::Extension);
            }
            let (kind, len) = (next, usize::from(b[at + 1]));
            next = b[at];
            let data = b.get(at + 2..at + 2 + len).ok_or(PacketError::Extension)?;
            if kind == 1 && sack.is_none() {
                sack = Some(&data[..len.min(MAX_SACK)]);
            }
            at += 2 + len;
        }
        Ok(Self {
            kind,
            conn_id: u16_at(2),
            timestamp: u32_at(4),
            timestamp_diff: u32_at(8),
            wnd_size: u32_at(12),
            seq_nr: u16_at(16),
            ack_nr: u16_at(18),
            sack,
            payload: &b[at..],
        })
    }

    /// Appends the encoded packet to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.push(((self.kind as u8) << 4) | 1);
        out.push(if self.sack.is_some() { 1 } else { 0 });
        out.extend_from_slice(&self.conn_id.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.timestamp_diff.to_be_bytes());
        out.extend_from_slice(&self.wnd_size.to_be_bytes());
        out.extend_from_slice(&self.seq_nr.to_be_bytes());
        out.extend_from_slice(&self.ack_nr.to_be_bytes());
        if let Some(mask) = self.sack {
            out.push(0);
            out.push(mask.len() as u8);
            out.extend_from_slice(mask);
        }
        out.extend_from_slice(self.payload);
    }
}

/// Whether a datagram could be uTP (the DHT's start with `d`): version 1 and a known type.
pub fn looks_like_utp(b: &[u8]) -> bool {
    b.len() >= HEADER && b[0] & 0x0f == 1 && b[0] >> 4 <= 4
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample<'a>(sack: Option<&'a [u8]>, payload: &'a [u8]) -> Packet<'a> {
        Packet {
            kind: Kind::Data,
            conn_id: 0x1234,
            timestamp: 0xdead_beef,
            timestamp_diff: 7,
            wnd_size: 1 << 20,
            seq_nr: 65_535,
            ack_nr: 3,
            sack,
            payload,
        }
    }

    #[test]
    fn packets_round_trip() {
        for p in [sample(None, b"hello"), sample(Some(&[0b101, 0, 0, 0x80]), b"")] {
            let mut out = Vec::new();
            p.write(&mut out);
            assert_eq!(Packet::parse(&out).unwrap(), p);
            assert!(looks_like_utp(&out));
        }
    }

    #[test]
    fn the_header_is_as_bep_29_draws_it() {
        let mut out = Vec::new();
        sample(None, b"").write(&mut out);
        assert_eq!(out[0], 0x01, "type 0 (data), version 1");
        assert_eq!(&out[2..4], &[0x12, 0x34]);
        assert_eq!(&out[16..20], &[0xff, 0xff, 0, 3]);
    }

    #[test]
    fn bad_packets_are_refused() {
        assert_eq!(Packet::parse(&[0x01; 19]), Err(PacketError::Short));
        let mut out = Vec::new();
        sample(None, b"").write(&mut out);
        out[0] = 0x02;
        assert_eq!(Packet::parse(&out), Err(PacketError::Version));
        out[0] = 0x51;
        assert_eq!(Packet::parse(&out), Err(PacketError::Version));
        out[0] = 0x01;
        out[1] = 1; // an extension that is not there
        assert_eq!(Packet::parse(&out), Err(PacketError::Extension));
        out.extend_from_slice(&[0, 200]);
        assert_eq!(Packet::parse(&out), Err(PacketError::Extension));
        assert!(!looks_like_utp(
            b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"
        ));
    }

    #[test]
    fn unknown_extensions_are_skipped() {
        let mut out = Vec::new();
        sample(None, b"").write(&mut out);
        out[1] = 2;
        out.extend_from_slice(&[1, 3, 9, 9, 9, 0, 4, 0xff, 0, 0, 0]);
        out.extend_from_slice(b"data");
        let p = Packet::parse(&out).unwrap();
        assert_eq!(p.sack, Some(&[0xff, 0, 0, 0][..]));
        assert_eq!(p.payload, b"data");
    }
}
