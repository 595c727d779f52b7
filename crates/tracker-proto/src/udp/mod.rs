//! The UDP tracker protocol (BEP 15) with the option format of BEP 41, as pure functions over
//! datagrams. All integers are big-endian.
//!
//! - Server side: [`parse_request`] turns a datagram into a [`Request`] (connect, announce with
//!   BEP 41 URL data, scrape) or a [`RequestError`] that carries the transaction id whenever the
//!   datagram had one, so the reply can be an [`Response::Error`] naming the problem. Replies are
//!   written with [`Response::write`] or, without building a [`Response`], with
//!   [`write_connect`], [`write_announce`], [`write_scrape`] and [`write_error`]; every writer
//!   only appends to the caller's buffer and never writes more than [`MAX_PACKET`] bytes.
//! - Client side: [`Request::write`] and [`parse_response`].
//! - Announce replies list 6-byte IPv4 or 18-byte IPv6 peers depending on the address family
//!   the datagram travelled over (BEP 15, "IPv6"), hence the [`AddressFamily`] argument.
//!
//! What this module does not do: check connection ids, clocks or rate limits. Those are the
//! tracker's; an announce whose packet is well formed parses fine whatever its connection id.
//!
//! ```
//! use tracker_proto::udp::{parse_request, AddressFamily, ConnectRequest, Request, Response};
//! use tracker_proto::udp::parse_response;
//!
//! let mut packet = Vec::new();
//! Request::Connect(ConnectRequest { transaction_id: 7 }).write(&mut packet);
//! assert_eq!(packet.len(), 16);
//! assert_eq!(parse_request(&packet).unwrap(), Request::Connect(ConnectRequest { transaction_id: 7 }));
//!
//! let mut reply = Vec::new();
//! let response = Response::Connect { transaction_id: 7, connection_id: 0xfeed };
//! response.write(&mut reply, AddressFamily::V4);
//! assert_eq!(parse_response(&reply, AddressFamily::V4).unwrap(), response);
//! ```

mod error;
mod options;
mod reader;
mod request;
mod response;

#[cfg(test)]
mod tests;

use std::net::IpAddr;

pub use error::{RequestError, RequestErrorKind, ResponseError, ResponseErrorKind};
pub use request::{ConnectRequest, Request, ScrapeRequest, UdpAnnounce, parse_request};
pub use response::{Response, parse_response, write_announce, write_connect, write_error, write_scrape};

/// The magic number a connect request starts with (BEP 15 `protocol_id`).
pub const PROTOCOL_ID: u64 = 0x0000_0417_2710_1980;

/// The largest datagram this module writes, and a receive buffer size that holds every
/// request the parser accepts and every reply the writers produce.
///
/// Announce replies are cut to the peers that fit in it: 1362 IPv4 or 454 IPv6 peers. That is
/// a backstop, not a policy: the tracker should cap `numwant` well below it (see
/// [`write_announce`]).
pub const MAX_PACKET: usize = 8192;

/// Length of the fixed part of an announce request; BEP 41 options start here.
pub const ANNOUNCE_LEN: usize = 98;

/// The most info-hashes one scrape request may carry ("up to about 74", BEP 15).
pub const MAX_SCRAPE_HASHES: usize = 74;

/// The most BEP 41 URL data bytes accepted in one announce, all chunks together.
pub const MAX_URL_DATA: usize = 1024;

/// The longest error message written; longer ones are cut at a character boundary.
pub const MAX_ERROR_MESSAGE: usize = 1024;

/// The `action` field of BEP 15 packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// 0: obtain a connection id.
    Connect,
    /// 1: announce (the same code over IPv4 and IPv6).
    Announce,
    /// 2: scrape.
    Scrape,
    /// 3: an error reply.
    Error,
}

impl Action {
    /// The action's number on the wire.
    pub const fn code(self) -> u32 {
        match self {
            Self::Connect => 0,
            Self::Announce => 1,
            Self::Scrape => 2,
            Self::Error => 3,
        }
    }

    /// The action with this number, if BEP 15 defines one.
    pub const fn from_code(code: u32) -> Option<Self> {
        match code {
            0 => Some(Self::Connect),
            1 => Some(Self::Announce),
            2 => Some(Self::Scrape),
            3 => Some(Self::Error),
            _ => None,
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Connect => "a connect",
            Self::Announce => "an announce",
            Self::Scrape => "a scrape",
            Self::Error => "an error",
        })
    }
}

/// The IP version a datagram travelled over, which decides the size of the peer entries in an
/// announce reply (BEP 15: 6 bytes over IPv4, 18 over IPv6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressFamily {
    /// IPv4: each peer is 4 address bytes and a 2-byte port.
    V4,
    /// IPv6: each peer is 16 address bytes and a 2-byte port.
    V6,
}

impl AddressFamily {
    /// The family of a datagram's source address. An IPv4-mapped IPv6 address
    /// (`::ffff:a.b.c.d`, as a dual-stack socket reports IPv4 senders) is IPv4: that client
    /// speaks IPv4 and expects 6-byte peers.
    pub fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(_) => Self::V4,
            IpAddr::V6(_) => Self::V6,
        }
    }

    /// Bytes per peer in an announce reply: 6 or 18.
    pub const fn peer_len(self) -> usize {
        match self {
            Self::V4 => 6,
            Self::V6 => 18,
        }
    }

    /// Whether `ip` belongs to this family (no mapping: `::ffff:1.2.3.4` is IPv6 here).
    pub const fn contains(self, ip: &IpAddr) -> bool {
        matches!((self, ip), (Self::V4, IpAddr::V4(_)) | (Self::V6, IpAddr::V6(_)))
    }
}
