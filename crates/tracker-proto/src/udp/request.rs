//! Requests, client to tracker (BEP 15 connect, announce and scrape; BEP 41 options).

use std::net::{IpAddr, Ipv4Addr};

use super::reader::Reader;
use super::{ANNOUNCE_LEN, Action, MAX_SCRAPE_HASHES, PROTOCOL_ID, RequestError, RequestErrorKind, options};
use crate::common::{AnnounceEvent, AnnounceRequest, Transfer};
use ids::{InfoHash, PeerId};

/// Every request starts with 16 bytes: connection id (or protocol id), action, transaction id.
const HEADER_LEN: usize = 16;

/// A request datagram (BEP 15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Asks for a connection id (action 0).
    Connect(ConnectRequest),
    /// Announces a peer (action 1), with BEP 41 URL data if the client sent any.
    Announce(UdpAnnounce),
    /// Asks for the counts of some torrents (action 2).
    Scrape(ScrapeRequest),
}

/// A connect request (BEP 15): the protocol id, action 0 and a transaction id, 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectRequest {
    /// Chosen by the client, echoed in the reply.
    pub transaction_id: u32,
}

/// An announce request (BEP 15), 98 bytes plus BEP 41 options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpAnnounce {
    /// The id the tracker handed out in its connect reply. Not checked here: that is the
    /// tracker's job.
    pub connection_id: u64,
    /// Chosen by the client, echoed in the reply.
    pub transaction_id: u32,
    /// The announce. After parsing, `ip` is `None` for the wire's 0, `numwant` is `None` for a
    /// negative `num_want`, and `key` holds the 4 key bytes. When writing, `key` here is
    /// ignored in favour of [`UdpAnnounce::key`], an IPv6 `ip` is sent as 0 (the field is 32
    /// bits wide), and a `numwant` above `i32::MAX` is sent as `i32::MAX`.
    pub request: AnnounceRequest,
    /// The client's key, as the number on the wire.
    pub key: u32,
    /// BEP 41 URLData: the path and query of the tracker URL (where a private tracker's passkey
    /// travels), all chunks concatenated. `None` if the client sent no URLData option; empty if
    /// it sent an empty one. At most [`MAX_URL_DATA`](super::MAX_URL_DATA) bytes parse.
    pub url_data: Option<Vec<u8>>,
}

/// A scrape request (BEP 15): up to [`MAX_SCRAPE_HASHES`] info-hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrapeRequest {
    /// The id the tracker handed out in its connect reply (not checked here).
    pub connection_id: u64,
    /// Chosen by the client, echoed in the reply.
    pub transaction_id: u32,
    /// The torrents, at least one; the reply lists their counts in the same order.
    pub info_hashes: Vec<InfoHash>,
}

impl Request {
    /// The transaction id the reply must echo.
    pub fn transaction_id(&self) -> u32 {
        match self {
            Self::Connect(r) => r.transaction_id,
            Self::Announce(r) => r.transaction_id,
            Self::Scrape(r) => r.transaction_id,
        }
    }

    /// The connection id the tracker must check, `None` for a connect request.
    pub fn connection_id(&self) -> Option<u64> {
        match self {
            Self::Connect(_) => None,
            Self::Announce(r) => Some(r.connection_id),
            Self::Scrape(r) => Some(r.connection_id),
        }
    }

    /// Appends the datagram to `out` (client side). What it writes parses back to an equal
    /// request, within the limits documented on each field.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Self::Connect(r) => r.write(out),
            Self::Announce(r) => r.write(out),
            Self::Scrape(r) => r.write(out),
        }
    }
}

impl ConnectRequest {
    /// Appends the 16-byte datagram to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        write_header(out, PROTOCOL_ID, Action::Connect, self.transaction_id);
    }
}

impl UdpAnnounce {
    /// Appends the datagram to `out`: the 98-byte fixed part, then the URL data (if any) as
    /// BEP 41 URLData options of up to 255 bytes each. URL data longer than
    /// [`MAX_URL_DATA`](super::MAX_URL_DATA) is written whole, but nexsuj's tracker rejects it.
    pub fn write(&self, out: &mut Vec<u8>) {
        let r = &self.request;
        out.reserve(ANNOUNCE_LEN);
        write_header(out, self.connection_id, Action::Announce, self.transaction_id);
        out.extend_from_slice(&r.info_hash.0);
        out.extend_from_slice(&r.peer_id.0);
        out.extend_from_slice(&r.transfer.downloaded.to_be_bytes());
        out.extend_from_slice(&r.transfer.left.to_be_bytes());
        out.extend_from_slice(&r.transfer.uploaded.to_be_bytes());
        out.extend_from_slice(&event_code(r.event).to_be_bytes());
        let ip = match r.ip {
            Some(IpAddr::V4(ip)) => u32::from(ip),
            Some(IpAddr::V6(_)) | None => 0,
        };
        out.extend_from_slice(&ip.to_be_bytes());
        out.extend_from_slice(&self.key.to_be_bytes());
        let num_want = r.numwant.map_or(-1, |n| i32::try_from(n).unwrap_or(i32::MAX));
        out.extend_from_slice(&num_want.to_be_bytes());
        out.extend_from_slice(&r.port.to_be_bytes());
        if let Some(url) = &self.url_data {
            options::write_url_data(url, out);
        }
    }
}

impl ScrapeRequest {
    /// Appends the datagram to `out`. More than [`MAX_SCRAPE_HASHES`] info-hashes are written
    /// whole, but nexsuj's tracker rejects them.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.reserve(HEADER_LEN + 20 * self.info_hashes.len());
        write_header(out, self.connection_id, Action::Scrape, self.transaction_id);
        for hash in &self.info_hashes {
            out.extend_from_slice(&hash.0);
        }
    }
}

fn write_header(out: &mut Vec<u8>, id: u64, action: Action, transaction_id: u32) {
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&action.code().to_be_bytes());
    out.extend_from_slice(&transaction_id.to_be_bytes());
}

/// Parses a request datagram (server side).
///
/// A connect request is action 0 with the protocol id in its first 8 bytes; bytes after its 16
/// are ignored (BEP 15: "do not expect packets to be exactly of a certain size"). For other
/// actions the first 8 bytes are the connection id, returned unchecked. On error the
/// [`RequestError`] carries the transaction id whenever the datagram was at least 16 bytes.
pub fn parse_request(packet: &[u8]) -> Result<Request, RequestError> {
    let mut r = Reader::new(packet);
    let id = r.u64();
    let action = r.u32();
    let transaction_id = r.u32();
    if r.is_short() {
        let kind = RequestErrorKind::TooShort { len: packet.len() };
        return Err(RequestError::new(None, kind));
    }
    let parsed = match Action::from_code(action) {
        Some(Action::Connect) if id == PROTOCOL_ID => Ok(Request::Connect(ConnectRequest { transaction_id })),
        Some(Action::Connect) => Err(RequestErrorKind::ProtocolId { got: id }),
        Some(Action::Announce) => parse_announce(packet, id, transaction_id).map(Request::Announce),
        Some(Action::Scrape) => parse_scrape(r, id, transaction_id).map(Request::Scrape),
        Some(Action::Error) | None => Err(RequestErrorKind::UnknownAction { action }),
    };
    parsed.map_err(|kind| RequestError::new(Some(transaction_id), kind))
}

fn parse_announce(
    packet: &[u8],
    connection_id: u64,
    transaction_id: u32,
) -> Result<UdpAnnounce, RequestErrorKind> {
    let Some((fixed, options)) = packet.split_first_chunk::<ANNOUNCE_LEN>() else {
        return Err(RequestErrorKind::TooShortFor {
            action: Action::Announce,
            len: packet.len(),
            need: ANNOUNCE_LEN,
        });
    };
    let mut r = Reader::new(fixed);
    let _header: [u8; HEADER_LEN] = r.array();
    let info_hash = InfoHash(r.array());
    let peer_id = PeerId(r.array());
    let transfer = Transfer {
        downloaded: r.u64(),
        left: r.u64(),
        uploaded: r.u64(),
    };
    let event = r.u32();
    let event = event_from_code(event).ok_or(RequestErrorKind::InvalidEvent { event })?;
    let ip = r.u32();
    let key = r.u32();
    let num_want = r.i32();
    let port = r.u16();
    let request = AnnounceRequest {
        info_hash,
        peer_id,
        port,
        transfer,
        event,
        numwant: u32::try_from(num_want).ok(),
        ip: (ip != 0).then(|| IpAddr::V4(Ipv4Addr::from(ip))),
        key: Some(key.to_be_bytes().to_vec()),
    };
    Ok(UdpAnnounce {
        connection_id,
        transaction_id,
        request,
        key,
        url_data: options::parse(options)?,
    })
}

fn parse_scrape(
    r: Reader<'_>,
    connection_id: u64,
    transaction_id: u32,
) -> Result<ScrapeRequest, RequestErrorKind> {
    let body = r.rest();
    if body.is_empty() {
        return Err(RequestErrorKind::NoInfoHashes);
    }
    if body.len() % 20 != 0 {
        return Err(RequestErrorKind::ScrapeLength { len: body.len() });
    }
    let count = body.len() / 20;
    if count > MAX_SCRAPE_HASHES {
        return Err(RequestErrorKind::too_many_hashes(count));
    }
    let mut r = Reader::new(body);
    let info_hashes = (0..count).map(|_| InfoHash(r.array())).collect();
    Ok(ScrapeRequest {
        connection_id,
        transaction_id,
        info_hashes,
    })
}

/// The event's number in BEP 15.
const fn event_code(event: AnnounceEvent) -> u32 {
    match event {
        AnnounceEvent::None => 0,
        AnnounceEvent::Completed => 1,
        AnnounceEvent::Started => 2,
        AnnounceEvent::Stopped => 3,
    }
}

const fn event_from_code(code: u32) -> Option<AnnounceEvent> {
    match code {
        0 => Some(AnnounceEvent::None),
        1 => Some(AnnounceEvent::Completed),
        2 => Some(AnnounceEvent::Started),
        3 => Some(AnnounceEvent::Stopped),
        _ => None,
    }
}
