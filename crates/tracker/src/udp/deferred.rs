//! Announces and scrapes of a tracker whose swarms live in Redis. Connects and errors are
//! still answered inline. With one Redis server, the announces of a `recvmmsg` batch go to
//! Redis as one pipeline on the worker's own connection, from the worker thread, and are
//! answered with one `sendmmsg`. With a Redis Cluster (and for scrapes) the worker hands each
//! parsed request to a Tokio task, which awaits the store (pipelined with every other task's
//! on one connection) and sends the reply itself. At most [`IN_FLIGHT`] requests
//! wait for the store per worker; past that a datagram is dropped (counted) and the client
//! retries, as BEP 15 has it do for any lost packet.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::Arc;

use ids::InfoHash;
use nix::sys::socket::{MultiHeaders, SockaddrStorage};
use tokio::runtime::Handle;
use tokio::sync::Semaphore;
use tracker_proto::common::{AnnounceRequest, AnnounceResponse};
use tracker_proto::udp::{self, AddressFamily};

use crate::engine::{AnnounceInput, Tracker};
use crate::stats::{ProtocolCounters, ServerStats};
use crate::swarm::shared::BlockingLink;

/// Requests one worker lets wait for the store at once.
pub const IN_FLIGHT: usize = 4096;

/// What a worker needs to answer later.
#[derive(Debug)]
pub struct Deferred {
    runtime: Handle,
    socket: Arc<UdpSocket>,
    slots: Arc<Semaphore>,
    /// The worker's own connection to a single Redis server: its batches are answered on
    /// the worker thread (see [`crate::swarm::shared::BlockingLink`]).
    link: Option<BlockingLink>,
}

/// An announce waiting for the rest of its batch.
#[derive(Debug)]
pub(super) struct Queued {
    pub(super) request: AnnounceRequest,
    pub(super) passkey: Option<String>,
    pub(super) ip: IpAddr,
    pub(super) family: AddressFamily,
    pub(super) tid: u32,
    pub(super) src: SocketAddr,
}

/// A parsed request that waits for the store.
pub(super) enum Job {
    Announce {
        request: AnnounceRequest,
        passkey: Option<String>,
        ip: IpAddr,
        family: AddressFamily,
    },
    Scrape(Vec<InfoHash>),
}

impl Deferred {
    /// Answers through `socket` (a clone of the worker's) from tasks on `runtime`.
    pub fn new(runtime: Handle, socket: UdpSocket, link: Option<BlockingLink>) -> Self {
        Self {
            runtime,
            socket: Arc::new(socket),
            slots: Arc::new(Semaphore::new(IN_FLIGHT)),
            link,
        }
    }

    /// Starts answering `job` (transaction `tid`) for `src`; `false` when the worker already
    /// has [`IN_FLIGHT`] requests waiting (the datagram is then dropped).
    pub(super) fn start(
        &self,
        tracker: &Arc<Tracker>,
        stats: &Arc<ServerStats>,
        job: Job,
        tid: u32,
        src: SocketAddr,
    ) -> bool {
        let Ok(slot) = self.slots.clone().try_acquire_owned() else {
            return false;
        };
        let (tracker, stats, socket) = (tracker.clone(), stats.clone(), self.socket.clone());
        self.runtime.spawn(async move {
            let out = answer(&tracker, &stats, job, tid).await;
            // A blocking socket, but a datagram send only waits when the kernel's send
            // buffer is full, and then only briefly.
            if let Err(e) = socket.send_to(&out, src) {
                tracing::debug!(error = %e, "UDP send");
            }
            drop(slot);
        });
        true
    }
}

impl Deferred {
    /// Starts answering the announces one `recvmmsg` took, as one pipeline to Redis; the
    /// datagrams are dropped (and counted) when the worker has too many waiting.
    pub(super) fn start_batch(
        &mut self,
        tracker: &Arc<Tracker>,
        stats: &Arc<ServerStats>,
        batch: Vec<Queued>,
    ) {
        if let Some(link) = &mut self.link {
            let inputs: Vec<_> = batch.iter().map(Queued::input).collect();
            let mut resps = vec![AnnounceResponse::default(); batch.len()];
            if let Some(results) = tracker.announce_batch_blocking(link, &inputs, &mut resps) {
                reply_all(&self.socket, stats, &batch, results, &resps);
                return;
            }
        }
        let n = u32::try_from(batch.len()).unwrap_or(u32::MAX);
        let Ok(slots) = self.slots.clone().try_acquire_many_owned(n) else {
            for _ in 0..n {
                ProtocolCounters::bump(&stats.udp.dropped);
            }
            return;
        };
        let (tracker, stats, socket) = (tracker.clone(), stats.clone(), self.socket.clone());
        self.runtime.spawn(async move {
            let inputs: Vec<_> = batch.iter().map(Queued::input).collect();
            let mut resps = vec![AnnounceResponse::default(); batch.len()];
            let results = tracker.announce_batch(&inputs, &mut resps).await;
            reply_all(&socket, &stats, &batch, results, &resps);
            drop(slots);
        });
    }
}

impl Queued {
    fn input(&self) -> AnnounceInput<'_> {
        AnnounceInput {
            request: &self.request,
            passkey: self.passkey.as_deref(),
            source: self.ip,
            other_family: None,
        }
    }
}

/// Writes each announce's reply (or refusal) and sends them all with one sendmmsg, as the
/// worker sends its inline replies.
fn reply_all(
    socket: &UdpSocket,
    stats: &ServerStats,
    batch: &[Queued],
    results: Vec<Result<(), crate::access::Refusal>>,
    resps: &[AnnounceResponse],
) {
    let mut replies = Vec::with_capacity(batch.len());
    for ((q, result), resp) in batch.iter().zip(results).zip(resps) {
        let mut out = Vec::with_capacity(20 + 6 * resp.peers.len());
        match result {
            Ok(()) => {
                ProtocolCounters::bump(&stats.udp.announces);
                udp::write_announce(&mut out, q.tid, resp, q.family);
            }
            Err(refusal) => {
                ProtocolCounters::bump(&stats.udp.refused);
                udp::write_error(&mut out, q.tid, refusal);
            }
        }
        replies.push(out);
    }
    let to: Vec<_> = batch.iter().map(|q| Some(SockaddrStorage::from(q.src))).collect();
    let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(replies.len(), None);
    super::batch::send_all(socket.as_raw_fd(), &mut headers, &replies, &to);
}

async fn answer(tracker: &Tracker, stats: &ServerStats, job: Job, tid: u32) -> Vec<u8> {
    let counters = &stats.udp;
    let mut out = Vec::with_capacity(512);
    match job {
        Job::Announce {
            request,
            passkey,
            ip,
            family,
        } => {
            let input = AnnounceInput {
                request: &request,
                passkey: passkey.as_deref(),
                source: ip,
                other_family: None,
            };
            let mut response = AnnounceResponse::default();
            match tracker.announce_async(&input, &mut response).await {
                Ok(()) => {
                    ProtocolCounters::bump(&counters.announces);
                    udp::write_announce(&mut out, tid, &response, family);
                }
                Err(refusal) => {
                    ProtocolCounters::bump(&counters.refused);
                    udp::write_error(&mut out, tid, refusal);
                }
            }
        }
        Job::Scrape(hashes) => {
            let mut scraped = Vec::with_capacity(hashes.len());
            match tracker.scrape_async(&hashes, None, &mut scraped).await {
                Ok(()) => {
                    ProtocolCounters::bump(&counters.scrapes);
                    let stats: Vec<_> = scraped.iter().map(|(_, s)| *s).collect();
                    udp::write_scrape(&mut out, tid, &stats);
                }
                Err(refusal) => {
                    ProtocolCounters::bump(&counters.refused);
                    udp::write_error(&mut out, tid, refusal);
                }
            }
        }
    }
    out
}
