//! Accepting peers: each connection takes one of the session's `max_connections` slots from
//! its first byte, so half-open ones (still handshaking) count too, and one that finds no
//! slot is closed at once; a failing `accept` (no file descriptor left, say) is retried after
//! a pause that doubles, instead of at once in a loop that would take a whole core.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

use super::transport::Stream;
use crate::counters::Counters;
use crate::session::{SessionShared, Slot};

/// Where connections come from: a listener, or in tests a script of errors.
pub(crate) trait Incoming {
    /// The connection.
    type Stream;
    /// The next connection, or why there is none.
    fn next(&mut self) -> impl Future<Output = io::Result<(Self::Stream, SocketAddr)>> + Send;
}

impl Incoming for TcpListener {
    type Stream = TcpStream;

    fn next(&mut self) -> impl Future<Output = io::Result<(TcpStream, SocketAddr)>> + Send {
        self.accept()
    }
}

/// The pause after a failed `accept`: from `min`, doubling up to `max`, back to nothing after
/// a success.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    pub min: Duration,
    pub max: Duration,
}

/// Accepts connections and hands each to `on_conn`; reports each failure to `on_error`
/// and waits before the next attempt. Runs until its task is aborted.
pub(crate) async fn accept_loop<L: Incoming>(
    mut listener: L,
    backoff: Backoff,
    mut on_error: impl FnMut(&io::Error),
    mut on_conn: impl FnMut(L::Stream, SocketAddr),
) {
    let mut pause = Duration::ZERO;
    loop {
        match listener.next().await {
            Ok((stream, addr)) => {
                pause = Duration::ZERO;
                on_conn(stream, addr);
            }
            Err(e) => {
                on_error(&e);
                pause = (pause * 2).clamp(backoff.min, backoff.max.max(backoff.min));
                tokio::time::sleep(pause).await;
            }
        }
    }
}

/// The session's accept loop on `listener`.
pub(crate) async fn listen(listener: TcpListener, shared: Arc<SessionShared>) {
    let timing = &shared.config.timing;
    let backoff = Backoff {
        min: timing.accept_backoff_min,
        max: timing.accept_backoff_max,
    };
    let on_error = |e: &io::Error| {
        Counters::bump(&shared.counters.accept_errors);
        tracing::warn!(error = %e, "accepting a peer connection failed; pausing");
    };
    let on_conn = |stream: TcpStream, addr: SocketAddr| admit(&shared, Stream::Tcp(stream), addr);
    accept_loop(listener, backoff, on_error, on_conn).await;
}

/// The session's accept loop for uTP connections (the uTP driver hands them over).
pub(crate) async fn listen_utp(
    mut accepted: tokio::sync::mpsc::Receiver<(crate::utp::UtpStream, SocketAddr)>,
    shared: Arc<SessionShared>,
) {
    while let Some((stream, addr)) = accepted.recv().await {
        admit(&shared, Stream::Utp(stream), addr);
    }
}

/// Runs an accepted connection if it gets one of the session's slots; closes it at once if
/// not. Its torrent is known once the handshake is read: the span records it then.
fn admit(shared: &Arc<SessionShared>, stream: Stream, addr: SocketAddr) {
    let Some(slot) = shared.slot() else {
        Counters::bump(&shared.counters.incoming_refused);
        tracing::debug!(%addr, transport = stream.kind(), "incoming connection refused: max_connections reached");
        return;
    };
    let span = tracing::debug_span!(
        parent: None,
        "peer",
        %addr,
        direction = %"in",
        transport = %stream.kind(),
        info_hash = tracing::field::Empty
    );
    tokio::spawn(tracing::Instrument::instrument(
        incoming(shared.clone(), stream, addr, slot),
        span,
    ));
}

/// Reads the handshake of an accepted connection (encrypted or not, as the session's policy
/// allows) and runs it for its torrent.
async fn incoming(shared: Arc<SessionShared>, stream: Stream, addr: SocketAddr, slot: Slot) {
    let lookup = |h: &[u8; 20]| shared.torrents().keys().find(|ih| mse::req2(ih) == *h).copied();
    let policy = shared.config.encryption;
    let (transport, hs) = match super::accept_handshake(stream, policy, lookup, &shared.counters).await {
        Ok(x) => x,
        Err(e) => {
            tracing::debug!(error = %crate::error::chain(&e), "incoming connection without a valid handshake");
            return;
        }
    };
    tracing::Span::current().record("info_hash", tracing::field::display(hs.info_hash));
    let torrent = shared.torrents().get(&hs.info_hash).cloned();
    match torrent {
        Some(t) => super::accept(t, transport, addr, hs, slot).await,
        None => tracing::debug!("incoming connection for an unknown torrent"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A listener whose every accept fails as when file descriptors run out.
    struct OutOfFiles(Arc<AtomicUsize>);

    impl Incoming for OutOfFiles {
        type Stream = ();

        async fn next(&mut self) -> io::Result<((), SocketAddr)> {
            let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
            // Without a pause the paused clock never moves: fail instead of spinning forever.
            assert!(n < 10_000, "accept retried {n} times without pausing");
            tokio::task::yield_now().await;
            Err(io::Error::from_raw_os_error(24)) // EMFILE
        }
    }

    #[tokio::test(start_paused = true)]
    async fn failing_accepts_are_retried_after_a_pause_that_doubles() {
        let attempts = Arc::new(AtomicUsize::new(0));
        let errors = AtomicUsize::new(0);
        let backoff = Backoff {
            min: Duration::from_millis(10),
            max: Duration::from_secs(1),
        };
        let run = accept_loop(
            OutOfFiles(attempts.clone()),
            backoff,
            |_| {
                errors.fetch_add(1, Ordering::Relaxed);
            },
            |(), _| {},
        );
        // A minute of the test clock: pauses of 10, 20, … 640 ms, then one a second.
        let _ = tokio::time::timeout(Duration::from_secs(60), run).await;
        let n = attempts.load(Ordering::Relaxed);
        assert!((60..=68).contains(&n), "{n} attempts in a minute");
        assert_eq!(errors.load(Ordering::Relaxed), n, "every failure is reported");
    }
}
