//! The UDP tracker client (BEP 15): connect, then announce or scrape, with retransmission.

use std::net::SocketAddr;
use std::time::Duration;

use ids::InfoHash;
use tokio::net::UdpSocket;
use tracker_proto::common::{AnnounceRequest, AnnounceResponse, ScrapeStats};
use tracker_proto::udp::{
    AddressFamily, ConnectRequest, MAX_PACKET, Request, Response, ScrapeRequest, UdpAnnounce, parse_response,
};

use super::{TrackerUrl, Via};
use crate::error::{ReplyError, TrackerError};
use crate::rng::Rng;

struct Conn {
    socket: UdpSocket,
    family: AddressFamily,
    connection_id: u64,
    timeout: Duration,
    rng: Rng,
}

impl Conn {
    async fn open(host: &str, port: u16, via: &Via) -> Result<Self, TrackerError> {
        let net = TrackerError::Network;
        let addr: SocketAddr = tokio::net::lookup_host((host, port))
            .await
            .map_err(net)?
            .next()
            .ok_or_else(|| TrackerError::NoAddress {
                host: host.to_owned(),
            })?;
        let socket = crate::net::udp_for(addr, via.bind).await.map_err(net)?;
        let mut conn = Self {
            socket,
            family: AddressFamily::of(addr.ip()),
            connection_id: 0,
            timeout: via.udp_timeout,
            rng: Rng::from_entropy(0),
        };
        let tid = conn.rng.next_u64() as u32;
        match conn
            .exchange(&Request::Connect(ConnectRequest { transaction_id: tid }))
            .await?
        {
            Response::Connect { connection_id, .. } => conn.connection_id = connection_id,
            other => return Err(unexpected(other)),
        }
        Ok(conn)
    }

    /// Sends a request and waits for the reply with its transaction id: BEP 15 retransmits
    /// after 15·2ⁿ s; we wait `timeout`, then twice that, then give up (the announce
    /// backoff takes over).
    async fn exchange(&mut self, req: &Request) -> Result<Response, TrackerError> {
        let mut packet = Vec::with_capacity(128);
        req.write(&mut packet);
        let mut buf = vec![0u8; MAX_PACKET];
        for attempt in 0..2u32 {
            self.socket.send(&packet).await.map_err(TrackerError::Network)?;
            let wait = self.timeout * (1 << attempt);
            let deadline = tokio::time::Instant::now() + wait;
            loop {
                let Ok(received) = tokio::time::timeout_at(deadline, self.socket.recv(&mut buf)).await else {
                    break;
                };
                let n = received.map_err(TrackerError::Network)?;
                let Ok(resp) = parse_response(&buf[..n], self.family) else {
                    continue;
                };
                if resp.transaction_id() != req.transaction_id() {
                    continue;
                }
                if let Response::Error { message, .. } = resp {
                    return Err(TrackerError::Refused(message));
                }
                return Ok(resp);
            }
        }
        Err(TrackerError::Timeout)
    }
}

fn unexpected(r: Response) -> TrackerError {
    let kind = match r {
        Response::Connect { .. } => "connect",
        Response::Announce { .. } => "announce",
        Response::Scrape { .. } => "scrape",
        Response::Error { .. } => "error",
    };
    ReplyError::Unexpected(kind).into()
}

pub(super) async fn announce(
    url: &TrackerUrl,
    req: &AnnounceRequest,
    via: &Via,
) -> Result<AnnounceResponse, TrackerError> {
    let TrackerUrl::Udp { host, port, target } = url else {
        return Err(TrackerError::BadUrl("(not a udp url)".into()));
    };
    let mut conn = Conn::open(host, *port, via).await?;
    let key = req.key.as_deref().map_or(0, super::key_number);
    let ann = UdpAnnounce {
        connection_id: conn.connection_id,
        transaction_id: conn.rng.next_u64() as u32,
        request: req.clone(),
        key,
        url_data: (!target.is_empty() && target != "/").then(|| target.as_bytes().to_vec()),
    };
    match conn.exchange(&Request::Announce(ann)).await? {
        Response::Announce { response, .. } => Ok(response),
        other => Err(unexpected(other)),
    }
}

pub(super) async fn scrape(
    url: &TrackerUrl,
    info_hash: InfoHash,
    via: &Via,
) -> Result<ScrapeStats, TrackerError> {
    let TrackerUrl::Udp { host, port, .. } = url else {
        return Err(TrackerError::BadUrl("(not a udp url)".into()));
    };
    let mut conn = Conn::open(host, *port, via).await?;
    let req = ScrapeRequest {
        connection_id: conn.connection_id,
        transaction_id: conn.rng.next_u64() as u32,
        info_hashes: vec![info_hash],
    };
    match conn.exchange(&Request::Scrape(req)).await? {
        Response::Scrape { stats, .. } => stats
            .first()
            .copied()
            .ok_or(TrackerError::Invalid(ReplyError::NotInScrape)),
        other => Err(unexpected(other)),
    }
}
