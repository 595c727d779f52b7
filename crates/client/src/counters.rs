//! Refusals, drops and errors of the session's networking: what an operator watches to see a
//! limit at work (the daemon's API shows them from [`SessionSnapshot`](crate::SessionSnapshot)).

use std::sync::atomic::{AtomicU64, Ordering};

/// The counters as the session's tasks bump them.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub incoming_refused: AtomicU64,
    pub outgoing_deferred: AtomicU64,
    pub accept_errors: AtomicU64,
    pub metadata_rejected: AtomicU64,
    pub send_queue_overflows: AtomicU64,
    pub known_peers_dropped: AtomicU64,
    pub peers_plaintext: AtomicU64,
    pub peers_obfuscated: AtomicU64,
    pub peers_rc4: AtomicU64,
    pub encryption_failures: AtomicU64,
    pub peers_tcp: AtomicU64,
    pub peers_utp: AtomicU64,
}

impl Counters {
    /// Adds one to `counter`.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The values now; `connections` is the gauge the session keeps beside them.
    pub fn snapshot(&self, connections: usize) -> SessionCounters {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        SessionCounters {
            connections,
            incoming_refused: get(&self.incoming_refused),
            outgoing_deferred: get(&self.outgoing_deferred),
            accept_errors: get(&self.accept_errors),
            metadata_rejected: get(&self.metadata_rejected),
            send_queue_overflows: get(&self.send_queue_overflows),
            known_peers_dropped: get(&self.known_peers_dropped),
            peers_plaintext: get(&self.peers_plaintext),
            peers_obfuscated: get(&self.peers_obfuscated),
            peers_rc4: get(&self.peers_rc4),
            encryption_failures: get(&self.encryption_failures),
            peers_tcp: get(&self.peers_tcp),
            peers_utp: get(&self.peers_utp),
        }
    }
}

/// The session's networking limits at work, counted since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionCounters {
    /// Peer connections open now, half-open ones (connecting, handshaking) included: what
    /// `max_connections` caps.
    pub connections: usize,
    /// Incoming connections closed at once because `max_connections` was reached.
    pub incoming_refused: u64,
    /// Times a torrent wanted to connect to a peer but `max_connections` was reached.
    pub outgoing_deferred: u64,
    /// Failed `accept` calls (running out of file descriptors, say); each is followed by a
    /// pause that grows up to `Timing::accept_backoff_max`.
    pub accept_errors: u64,
    /// ut_metadata requests rejected (BEP 9 `reject`) because the peer's send queue was full.
    pub metadata_rejected: u64,
    /// Peers disconnected because what we had to send them would have gone past
    /// `max_send_queue`.
    pub send_queue_overflows: u64,
    /// Addresses dropped from known-peer lists at `max_known_peers`.
    pub known_peers_dropped: u64,
    /// Peer connections established in plaintext.
    pub peers_plaintext: u64,
    /// Peer connections established with an MSE handshake and a plaintext stream.
    pub peers_obfuscated: u64,
    /// Peer connections established with RC4 both ways.
    pub peers_rc4: u64,
    /// Connections dropped for their encryption: a failed MSE handshake, or a peer the
    /// policy refuses (plaintext under `required`, encrypted under `disabled`).
    pub encryption_failures: u64,
    /// Peer connections established over TCP.
    pub peers_tcp: u64,
    /// Peer connections established over uTP.
    pub peers_utp: u64,
}
