//! Announces and scrapes answered off the worker thread, for a tracker whose swarms live in
//! Redis: the worker hands the parsed request to a Tokio task, which awaits the store (one
//! round trip, pipelined with every other task's on one connection) and sends the reply
//! itself. Connects and errors are still answered inline. At most [`IN_FLIGHT`] requests
//! wait for the store per worker; past that a datagram is dropped (counted) and the client
//! retries, as BEP 15 has it do for any lost packet.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::Arc;

use ids::InfoHash;
use tokio::runtime::Handle;
use tokio::sync::Semaphore;
use tracker_proto::common::{AnnounceRequest, AnnounceResponse};
use tracker_proto::udp::{self, AddressFamily};

use crate::engine::{AnnounceInput, Tracker};
use crate::stats::{ProtocolCounters, ServerStats};

/// Requests one worker lets wait for the store at once.
pub const IN_FLIGHT: usize = 4096;

/// What a worker needs to answer later.
#[derive(Debug, Clone)]
pub struct Deferred {
    runtime: Handle,
    socket: Arc<UdpSocket>,
    slots: Arc<Semaphore>,
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
    pub fn new(runtime: Handle, socket: UdpSocket) -> Self {
        Self {
            runtime,
            socket: Arc::new(socket),
            slots: Arc::new(Semaphore::new(IN_FLIGHT)),
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
