//! Replies, tracker to client (BEP 15 connect, announce, scrape and error).

use std::fmt::{self, Write as _};
use std::net::{IpAddr, SocketAddr};

use super::reader::Reader;
use super::{Action, AddressFamily, MAX_ERROR_MESSAGE, MAX_PACKET, ResponseError, ResponseErrorKind};
use crate::common::{AnnounceResponse, ResponsePeer, ScrapeStats};

/// Every reply starts with 8 bytes: action and transaction id.
const HEADER_LEN: usize = 8;
/// A connect reply: header and connection id.
const CONNECT_LEN: usize = 16;
/// The fixed part of an announce reply: header, interval, leechers, seeders.
const ANNOUNCE_HEADER_LEN: usize = 20;
/// One torrent's counts in a scrape reply: seeders, completed, leechers.
const SCRAPE_ENTRY_LEN: usize = 12;

/// A reply datagram (BEP 15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// Hands out a connection id (action 0).
    Connect {
        /// Echoes the request's.
        transaction_id: u32,
        /// The id the client must send with its announces and scrapes.
        connection_id: u64,
    },
    /// Answers an announce (action 1).
    Announce {
        /// Echoes the request's.
        transaction_id: u32,
        /// The reply. UDP carries only `interval`, `complete` (seeders), `incomplete`
        /// (leechers) and the peers' addresses; the other fields are dropped when writing and
        /// `None` after parsing.
        response: AnnounceResponse,
    },
    /// Answers a scrape (action 2): one entry per requested info-hash, in request order.
    Scrape {
        /// Echoes the request's.
        transaction_id: u32,
        /// The counts.
        stats: Vec<ScrapeStats>,
    },
    /// Reports a failure (action 3).
    Error {
        /// Echoes the request's.
        transaction_id: u32,
        /// What went wrong, for the user. Written as UTF-8, cut to [`MAX_ERROR_MESSAGE`]
        /// bytes; parsed lossily.
        message: String,
    },
}

impl Response {
    /// The transaction id of the request this answers.
    pub fn transaction_id(&self) -> u32 {
        match self {
            Self::Connect { transaction_id, .. }
            | Self::Announce { transaction_id, .. }
            | Self::Scrape { transaction_id, .. }
            | Self::Error { transaction_id, .. } => *transaction_id,
        }
    }

    /// Appends the datagram to `out` for a client on `family`; see [`write_announce`] for how
    /// peers are chosen. Never writes more than [`MAX_PACKET`] bytes and allocates nothing
    /// beyond growing `out`.
    pub fn write(&self, out: &mut Vec<u8>, family: AddressFamily) {
        match self {
            Self::Connect {
                transaction_id,
                connection_id,
            } => write_connect(out, *transaction_id, *connection_id),
            Self::Announce {
                transaction_id,
                response,
            } => write_announce(out, *transaction_id, response, family),
            Self::Scrape {
                transaction_id,
                stats,
            } => write_scrape(out, *transaction_id, stats),
            Self::Error {
                transaction_id,
                message,
            } => write_error(out, *transaction_id, message),
        }
    }
}

fn write_header(out: &mut Vec<u8>, action: Action, transaction_id: u32) {
    out.extend_from_slice(&action.code().to_be_bytes());
    out.extend_from_slice(&transaction_id.to_be_bytes());
}

/// Appends a 16-byte connect reply.
pub fn write_connect(out: &mut Vec<u8>, transaction_id: u32, connection_id: u64) {
    out.reserve(CONNECT_LEN);
    write_header(out, Action::Connect, transaction_id);
    out.extend_from_slice(&connection_id.to_be_bytes());
}

/// Appends an announce reply for a client on `family`: interval, leechers (`incomplete`),
/// seeders (`complete`), then the peers of that family as 6-byte (IPv4) or 18-byte (IPv6)
/// entries.
///
/// Peers of the other family are skipped, since a BEP 15 reply cannot mix sizes; so is an
/// IPv4-mapped IPv6 address on an IPv4 reply, so the tracker should store peers under
/// [`IpAddr::to_canonical`]. At most as many peers as fit in [`MAX_PACKET`] are written (1362
/// IPv4, 454 IPv6). That is a backstop: the tracker should cap `numwant` so that replies fit one
/// Ethernet frame (a UDP payload of 1472 bytes over IPv4, 1452 over IPv6): 200 IPv4 peers take
/// 1220 bytes, 79 IPv6 peers 1442.
pub fn write_announce(
    out: &mut Vec<u8>,
    transaction_id: u32,
    response: &AnnounceResponse,
    family: AddressFamily,
) {
    let peer_len = family.peer_len();
    let max_peers = (MAX_PACKET - ANNOUNCE_HEADER_LEN) / peer_len;
    out.reserve(ANNOUNCE_HEADER_LEN + peer_len * response.peers.len().min(max_peers));
    write_header(out, Action::Announce, transaction_id);
    out.extend_from_slice(&response.interval.to_be_bytes());
    out.extend_from_slice(&response.incomplete.to_be_bytes());
    out.extend_from_slice(&response.complete.to_be_bytes());
    let peers = response.peers.iter().map(|peer| peer.addr);
    for addr in peers.filter(|addr| family.contains(&addr.ip())).take(max_peers) {
        match addr.ip() {
            IpAddr::V4(ip) => out.extend_from_slice(&ip.octets()),
            IpAddr::V6(ip) => out.extend_from_slice(&ip.octets()),
        }
        out.extend_from_slice(&addr.port().to_be_bytes());
    }
}

/// Appends a scrape reply: seeders (`complete`), completed (`downloaded`) and leechers
/// (`incomplete`) for each torrent, in order. Entries past what fits in [`MAX_PACKET`] (682)
/// are left out; a valid request asks for at most 74.
pub fn write_scrape(out: &mut Vec<u8>, transaction_id: u32, stats: &[ScrapeStats]) {
    let max = (MAX_PACKET - HEADER_LEN) / SCRAPE_ENTRY_LEN;
    let stats = stats.get(..max).unwrap_or(stats);
    out.reserve(HEADER_LEN + SCRAPE_ENTRY_LEN * stats.len());
    write_header(out, Action::Scrape, transaction_id);
    for s in stats {
        out.extend_from_slice(&s.complete.to_be_bytes());
        out.extend_from_slice(&s.downloaded.to_be_bytes());
        out.extend_from_slice(&s.incomplete.to_be_bytes());
    }
}

/// Appends an error reply carrying `message` as UTF-8, cut at a character boundary to at most
/// [`MAX_ERROR_MESSAGE`] bytes. Takes anything printable, so a server can pass its error value
/// without formatting it into a `String` first.
pub fn write_error(out: &mut Vec<u8>, transaction_id: u32, message: impl fmt::Display) {
    write_header(out, Action::Error, transaction_id);
    let mut capped = Capped {
        out,
        room: MAX_ERROR_MESSAGE,
    };
    // `Capped` never fails; an error could only come from `message`'s own `Display`, and then
    // what it printed so far is as good a message as any.
    let _ = write!(capped, "{message}");
}

/// Appends text to a buffer until `room` bytes are used, cutting at a character boundary.
struct Capped<'a> {
    out: &'a mut Vec<u8>,
    room: usize,
}

impl fmt::Write for Capped<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if s.len() <= self.room {
            self.out.extend_from_slice(s.as_bytes());
            self.room -= s.len();
            return Ok(());
        }
        let mut end = self.room;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.out
            .extend_from_slice(s.get(..end).unwrap_or_default().as_bytes());
        // Full: a later, shorter piece must not land after a cut one.
        self.room = 0;
        Ok(())
    }
}

/// Parses a reply datagram (client side) that arrived over `family`, which decides the size of
/// announce peer entries. Bytes after a connect reply's 16 are ignored; announce and scrape
/// replies must end on an entry boundary.
pub fn parse_response(packet: &[u8], family: AddressFamily) -> Result<Response, ResponseError> {
    let mut r = Reader::new(packet);
    let action = r.u32();
    let transaction_id = r.u32();
    if r.is_short() {
        let kind = ResponseErrorKind::TooShort { len: packet.len() };
        return Err(ResponseError::new(None, kind));
    }
    let parsed = match Action::from_code(action) {
        Some(Action::Connect) => {
            let connection_id = r.u64();
            if r.is_short() {
                Err(ResponseErrorKind::TooShortFor {
                    action: Action::Connect,
                    len: packet.len(),
                    need: CONNECT_LEN,
                })
            } else {
                Ok(Response::Connect {
                    transaction_id,
                    connection_id,
                })
            }
        }
        Some(Action::Announce) => {
            parse_announce(r, family, packet.len()).map(|response| Response::Announce {
                transaction_id,
                response,
            })
        }
        Some(Action::Scrape) => parse_scrape(r.rest()).map(|stats| Response::Scrape {
            transaction_id,
            stats,
        }),
        Some(Action::Error) => Ok(Response::Error {
            transaction_id,
            message: String::from_utf8_lossy(r.rest()).into_owned(),
        }),
        None => Err(ResponseErrorKind::UnknownAction { action }),
    };
    parsed.map_err(|kind| ResponseError::new(Some(transaction_id), kind))
}

/// The announce reply after its 8-byte header; `packet_len` is for the error message.
fn parse_announce(
    mut r: Reader<'_>,
    family: AddressFamily,
    packet_len: usize,
) -> Result<AnnounceResponse, ResponseErrorKind> {
    let interval = r.u32();
    let incomplete = r.u32();
    let complete = r.u32();
    if r.is_short() {
        return Err(ResponseErrorKind::TooShortFor {
            action: Action::Announce,
            len: packet_len,
            need: ANNOUNCE_HEADER_LEN,
        });
    }
    let peer_len = family.peer_len();
    let len = r.rest().len();
    if len % peer_len != 0 {
        return Err(ResponseErrorKind::PeerListLength { len, peer_len });
    }
    let count = len / peer_len;
    let mut peers = Vec::with_capacity(count);
    for _ in 0..count {
        let ip = match family {
            AddressFamily::V4 => IpAddr::from(r.array::<4>()),
            AddressFamily::V6 => IpAddr::from(r.array::<16>()),
        };
        let addr = SocketAddr::new(ip, r.u16());
        peers.push(ResponsePeer { addr, peer_id: None });
    }
    Ok(AnnounceResponse {
        interval,
        complete,
        incomplete,
        peers,
        ..AnnounceResponse::default()
    })
}

/// The scrape reply's entries after its 8-byte header.
fn parse_scrape(body: &[u8]) -> Result<Vec<ScrapeStats>, ResponseErrorKind> {
    if body.len() % SCRAPE_ENTRY_LEN != 0 {
        return Err(ResponseErrorKind::ScrapeLength { len: body.len() });
    }
    let mut r = Reader::new(body);
    let stats = (0..body.len() / SCRAPE_ENTRY_LEN)
        .map(|_| ScrapeStats {
            complete: r.u32(),
            downloaded: r.u32(),
            incomplete: r.u32(),
        })
        .collect();
    Ok(stats)
}
