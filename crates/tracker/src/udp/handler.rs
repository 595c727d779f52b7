//! One datagram in, at most one datagram out: the UDP tracker's logic without the socket, so
//! that tests drive it directly.

use std::net::SocketAddr;
use std::sync::Arc;

use ids::InfoHash;
use tracker_proto::common::{AnnounceResponse, ScrapeStats};
use tracker_proto::udp::{self, AddressFamily, Request};

use super::bad_ids::BadIds;
use super::connection_id::ConnectionIds;
use super::deferred::{Deferred, Job, Queued};
use crate::engine::{AnnounceInput, Tracker};
use crate::passkey;
use crate::stats::{ProtocolCounters, ServerStats};

/// The most IPv6 peers in one reply: 20 + 74 × 18 = 1352 bytes, under the 1452 a UDP
/// payload has in a 1500-byte IPv6 packet.
const MAX_IPV6_PEERS: u32 = 74;

/// A worker's state: its own buffers and bad-id table, so workers share nothing but the
/// swarm store's shard locks.
#[derive(Debug)]
pub struct UdpHandler {
    tracker: Arc<Tracker>,
    stats: Arc<ServerStats>,
    ids: ConnectionIds,
    bad_ids: BadIds,
    response: AnnounceResponse,
    scraped: Vec<(InfoHash, ScrapeStats)>,
    scrape_stats: Vec<ScrapeStats>,
    /// Set when the swarms live in Redis: announces and scrapes are answered from tasks.
    deferred: Option<Deferred>,
    /// Announces of the current batch, for one pipeline to Redis (see
    /// [`UdpHandler::flush_deferred`]).
    queued: Vec<Queued>,
}

impl UdpHandler {
    /// A handler answering for `tracker`, issuing and checking ids with `ids`.
    pub fn new(tracker: Arc<Tracker>, stats: Arc<ServerStats>, ids: ConnectionIds) -> Self {
        Self {
            tracker,
            stats,
            ids,
            bad_ids: BadIds::default(),
            response: AnnounceResponse::default(),
            scraped: Vec::new(),
            scrape_stats: Vec::new(),
            deferred: None,
            queued: Vec::new(),
        }
    }

    /// Sends the announces queued since the last call to the store, in one pipeline when it
    /// pipelines (one Redis server) and one by one, concurrently, otherwise. The worker calls
    /// this after each batch of datagrams.
    pub fn flush_deferred(&mut self) {
        let Some(deferred) = &mut self.deferred else {
            return;
        };
        if self.queued.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.queued);
        if self.tracker.pipelines() {
            deferred.start_batch(&self.tracker, &self.stats, batch);
            return;
        }
        for q in batch {
            let job = Job::Announce {
                request: q.request,
                passkey: q.passkey,
                ip: q.ip,
                family: q.family,
            };
            if !deferred.start(&self.tracker, &self.stats, job, q.tid, q.src) {
                ProtocolCounters::bump(&self.stats.udp.dropped);
            }
        }
    }

    /// Hands announces and scrapes to `deferred` instead of answering them inline (for a
    /// tracker with a shared swarm store).
    pub fn with_deferred(mut self, deferred: Deferred) -> Self {
        self.deferred = Some(deferred);
        self
    }

    /// Hands `job` over; the datagram counts as dropped when the worker has too many
    /// waiting. Never an inline reply.
    fn defer(&self, deferred: &Deferred, job: Job, tid: u32, src: SocketAddr) -> bool {
        if !deferred.start(&self.tracker, &self.stats, job, tid, src) {
            ProtocolCounters::bump(&self.stats.udp.dropped);
        }
        false
    }

    /// Handles `packet` from `src` at `now` (seconds since tracker start); the reply, if any,
    /// is written into `out` (cleared first) and `true` returned.
    pub fn handle(&mut self, packet: &[u8], src: SocketAddr, now: u32, out: &mut Vec<u8>) -> bool {
        out.clear();
        let counters = &self.stats.udp;
        ProtocolCounters::bump(&counters.requests);
        let ip = src.ip().to_canonical();
        if self.bad_ids.ignored(&ip, now) {
            ProtocolCounters::bump(&counters.dropped);
            return false;
        }
        let request = match udp::parse_request(packet) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(peer = %src, error = %e, "UDP malformed");
                ProtocolCounters::bump(&counters.malformed);
                // Garbage counts like a bad id: an error reply to a forged source is
                // amplification, so a source that keeps sending it is ignored for a while.
                let answered = self.bad_ids.note(ip, now) && e.write_reply(out);
                if !answered {
                    ProtocolCounters::bump(&counters.dropped);
                }
                return answered;
            }
        };
        let tid = request.transaction_id();
        if let Some(id) = request.connection_id() {
            if !self.ids.check(id, ip, now) {
                tracing::debug!(peer = %src, "UDP bad connection id");
                ProtocolCounters::bump(&counters.bad_connection_id);
                if !self.bad_ids.note(ip, now) {
                    ProtocolCounters::bump(&counters.dropped);
                    return false;
                }
                udp::write_error(out, tid, "invalid or expired connection id; connect again");
                return true;
            }
        }
        match request {
            Request::Connect(_) => {
                ProtocolCounters::bump(&counters.connects);
                udp::write_connect(out, tid, self.ids.issue(ip, now));
            }
            Request::Announce(mut a) => {
                tracing::debug!(peer = %src, event = ?a.request.event, left = a.request.transfer.left, "UDP announce");
                // Keep the reply in one Ethernet frame: 200 IPv4 peers take 1220 bytes, but
                // IPv6 peers take 18 bytes each (BEP 15's reply has no room to split them).
                let family = AddressFamily::of(ip);
                if family == AddressFamily::V6 {
                    let asked = a.request.numwant.unwrap_or(u32::MAX);
                    a.request.numwant = Some(asked.min(MAX_IPV6_PEERS));
                }
                let passkey = a.url_data.as_deref().and_then(passkey::from_url_data);
                if self.deferred.is_some() {
                    self.queued.push(Queued {
                        request: a.request,
                        passkey,
                        ip,
                        family,
                        tid,
                        src,
                    });
                    return false;
                }
                let input = AnnounceInput {
                    request: &a.request,
                    passkey: passkey.as_deref(),
                    source: ip,
                    other_family: None,
                };
                match self.tracker.announce(&input, now, &mut self.response) {
                    Ok(()) => {
                        ProtocolCounters::bump(&counters.announces);
                        udp::write_announce(out, tid, &self.response, family);
                    }
                    Err(refusal) => {
                        ProtocolCounters::bump(&counters.refused);
                        udp::write_error(out, tid, refusal);
                    }
                }
            }
            Request::Scrape(s) => {
                if let Some(deferred) = &self.deferred {
                    return self.defer(deferred, Job::Scrape(s.info_hashes), tid, src);
                }
                self.scraped.clear();
                match self.tracker.scrape(&s.info_hashes, None, &mut self.scraped) {
                    Ok(()) => {
                        ProtocolCounters::bump(&counters.scrapes);
                        self.scrape_stats.clear();
                        self.scrape_stats.extend(self.scraped.iter().map(|(_, s)| *s));
                        udp::write_scrape(out, tid, &self.scrape_stats);
                    }
                    Err(refusal) => {
                        ProtocolCounters::bump(&counters.refused);
                        udp::write_error(out, tid, refusal);
                    }
                }
            }
        }
        true
    }
}
