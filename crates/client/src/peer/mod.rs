//! A peer connection: handshake, then a reader task that parses frames in place and a writer
//! task that sends our messages and the blocks the peer asked for.

mod closed;
mod command;
mod conn;
mod encrypt;
mod flags;
pub(crate) mod frames;
pub(crate) mod incoming;
pub(crate) mod known;
mod queue;
mod send;
mod transfer;
pub(crate) mod transport;
mod writer;

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tracing::Instrument;
use wire::{Handshake, Parsed, Reserved};

use crate::config::{Encryption, TransportPolicy};
use crate::error::{ConnectError, EncryptionError, HandshakeError, chain};
use crate::session::Slot;
use crate::torrent::{Event, TorrentShared};
use transport::{Stream, Transport};

pub(crate) use conn::UT_METADATA_ID;
pub(crate) use flags::PeerFlags;

/// How long a handshake may take.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads a handshake from a fresh connection.
pub(crate) async fn read_handshake<R: AsyncRead + Unpin>(
    stream: &mut R,
) -> Result<Handshake, HandshakeError> {
    let mut buf = [0u8; wire::HANDSHAKE_LEN];
    let mut filled = 0;
    let work = async {
        loop {
            match Handshake::parse(&buf[..filled]).map_err(HandshakeError::Invalid)? {
                Parsed::Done { value, .. } => return Ok(value),
                Parsed::Incomplete { .. } => {}
            }
            let n = stream
                .read(&mut buf[filled..])
                .await
                .map_err(HandshakeError::Read)?;
            if n == 0 {
                return Err(HandshakeError::Closed);
            }
            filled += n;
        }
    };
    tokio::time::timeout(HANDSHAKE_TIMEOUT, work)
        .await
        .unwrap_or(Err(HandshakeError::Timeout))
}

/// Our handshake for torrent `info_hash`.
pub(crate) fn handshake_for(info_hash: ids::InfoHash, peer_id: ids::PeerId) -> Handshake {
    Handshake {
        reserved: Reserved::nexsuj(),
        info_hash,
        peer_id,
    }
}

fn our_handshake(t: &TorrentShared) -> Handshake {
    let mut hs = handshake_for(t.meta.info_hash, t.session.peer_id);
    // BEP 5: we say we run a DHT node only where we would give its port (never for private
    // torrents, BEP 27).
    if t.session.dht().is_some() && !t.meta.private {
        hs.reserved = hs.reserved.with(wire::Reserved::DHT);
    }
    hs
}

/// How outgoing connections are made: from where, over what, encrypted how.
#[derive(Clone, Debug)]
pub(crate) struct Dial {
    pub bind: Option<IpAddr>,
    pub encryption: Encryption,
    pub transport: TransportPolicy,
    pub utp: Option<Arc<crate::utp::Endpoint>>,
}

impl Dial {
    /// Whether `addr` answered uTP before, or was not tried: a peer whose uTP went
    /// unanswered is dialled over TCP at once from then on (as libtorrent remembers).
    fn try_utp(&self, addr: &SocketAddr) -> bool {
        self.utp.as_ref().is_some_and(|u| !u.unanswered(addr))
    }
}

/// Connects to `addr` and exchanges handshakes: over uTP and then TCP, or one of them, as
/// `dial.transport` says (the next is tried when one gets no connection); encrypted as
/// `dial.encryption` says (under `Enabled`, a peer that fails the encryption handshake is
/// tried once more in plaintext). Fails, saying why, unless the peer answers for the same
/// torrent.
pub(crate) async fn open(
    addr: SocketAddr,
    dial: &Dial,
    ours: &Handshake,
) -> Result<(Transport, Handshake), ConnectError> {
    let utp = dial.utp.as_ref().filter(|u| u.reaches(&addr));
    let order: &[bool] = match (dial.transport, utp.is_some()) {
        (TransportPolicy::Utp, true) => &[true],
        (TransportPolicy::Both, true) if dial.try_utp(&addr) => &[true, false],
        (TransportPolicy::Both, true) => &[false],
        (TransportPolicy::Utp, false) => {
            return Err(ConnectError::Connect(io::Error::other("no uTP socket")));
        }
        _ => &[false],
    };
    let mut last = ConnectError::Timeout;
    for &over_utp in order {
        match open_over(addr, dial, ours, over_utp).await {
            Err(e @ (ConnectError::Connect(_) | ConnectError::Timeout)) => last = e,
            other => return other,
        }
    }
    Err(last)
}

/// [`open`] over one transport.
async fn open_over(
    addr: SocketAddr,
    dial: &Dial,
    ours: &Handshake,
    over_utp: bool,
) -> Result<(Transport, Handshake), ConnectError> {
    let connect = || async {
        match (&dial.utp, over_utp) {
            (Some(u), true) => u.connect(addr).await.map(Stream::Utp).map_err(|e| {
                if e.kind() == io::ErrorKind::TimedOut {
                    u.remember_unanswered(addr);
                    ConnectError::Timeout
                } else {
                    ConnectError::Connect(e)
                }
            }),
            _ => tcp(addr, dial.bind).await.map(Stream::Tcp),
        }
    };
    if let Some(provide) = encrypt::offer(dial.encryption) {
        let mut s = connect().await?;
        match encrypt::initiate(&mut s, ours, provide).await {
            Ok(done) => {
                let mut t = Transport::encrypted(s, done);
                // Our handshake went as the initial payload; theirs comes encrypted.
                let theirs = read_handshake(&mut t.rd).await.map_err(ConnectError::Handshake)?;
                return check(t, theirs, ours);
            }
            Err(e) if dial.encryption == Encryption::Required => return Err(ConnectError::Encryption(e)),
            Err(e) => tracing::debug!(error = %chain(&e), "encryption refused; trying plaintext"),
        }
    }
    let s = connect().await?;
    let mut t = Transport::plain(s, Vec::new());
    t.wr.write_all(&ours.to_bytes())
        .await
        .map_err(ConnectError::Write)?;
    t.wr.flush().await.map_err(ConnectError::Write)?;
    let theirs = read_handshake(&mut t.rd).await.map_err(ConnectError::Handshake)?;
    check(t, theirs, ours)
}

async fn tcp(addr: SocketAddr, bind: Option<IpAddr>) -> Result<tokio::net::TcpStream, ConnectError> {
    tokio::time::timeout(HANDSHAKE_TIMEOUT, crate::net::connect(addr, bind))
        .await
        .map_err(|_| ConnectError::Timeout)?
        .map_err(ConnectError::Connect)
}

fn check(t: Transport, theirs: Handshake, ours: &Handshake) -> Result<(Transport, Handshake), ConnectError> {
    if theirs.info_hash != ours.info_hash {
        return Err(ConnectError::OtherTorrent);
    }
    Ok((t, theirs))
}

/// Tells an accepted connection's plaintext handshake from an encrypted one, runs the
/// encryption handshake if `policy` allows it (finding the torrent with `lookup`), and
/// reads the peer's BitTorrent handshake.
pub(crate) async fn accept_handshake(
    mut stream: Stream,
    policy: Encryption,
    lookup: impl Fn(&[u8; 20]) -> Option<ids::InfoHash>,
    counters: &crate::counters::Counters,
) -> Result<(Transport, Handshake), EncryptionErrorOr> {
    let got = accept_in(&mut stream, policy, lookup).await;
    if let Err(EncryptionErrorOr::Encryption(_)) = &got {
        // Counted before the socket closes, so whoever sees it closed sees the count.
        crate::counters::Counters::bump(&counters.encryption_failures);
    }
    let mut t = match got? {
        Ok(done) => {
            let skey = done.skey;
            let mut t = Transport::encrypted(stream, done);
            let hs = read_handshake(&mut t.rd).await?;
            if hs.info_hash != skey {
                return Err(EncryptionError::WrongTorrent.into());
            }
            return Ok((t, hs));
        }
        Err(first) => Transport::plain(stream, first),
    };
    let hs = read_handshake(&mut t.rd).await?;
    Ok((t, hs))
}

/// The encryption part of [`accept_handshake`]: the finished MSE handshake, or the
/// plaintext connection's first bytes.
async fn accept_in(
    stream: &mut Stream,
    policy: Encryption,
    lookup: impl Fn(&[u8; 20]) -> Option<ids::InfoHash>,
) -> Result<Result<mse::Established, Vec<u8>>, EncryptionErrorOr> {
    let (plain, first) = encrypt::sniff(stream).await?;
    if plain {
        if policy == Encryption::Required {
            return Err(EncryptionError::PlaintextRefused.into());
        }
        return Ok(Err(first));
    }
    let allowed = encrypt::allowed(policy).ok_or(EncryptionError::EncryptedRefused)?;
    let done = encrypt::respond(stream, &first, allowed, lookup).await?;
    Ok(Ok(done))
}

/// Why an accepted connection was dropped before its handshake.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EncryptionErrorOr {
    /// The encryption handshake, or the policy.
    #[error("encryption")]
    Encryption(#[from] EncryptionError),
    /// The BitTorrent handshake.
    #[error("handshake")]
    Handshake(#[from] HandshakeError),
}

/// The span of one peer connection (`direction` "in" or "out").
pub(crate) fn span(parent: &tracing::Span, addr: SocketAddr, direction: &'static str) -> tracing::Span {
    tracing::debug_span!(parent: parent, "peer", %addr, direction = %direction)
}

/// Connects to `addr` and runs the connection until it ends, holding its `slot` meanwhile.
pub(crate) async fn connect(t: Arc<TorrentShared>, addr: SocketAddr, slot: Slot) {
    let span = span(&t.span, addr, "out");
    connect_in_span(t, addr, slot).instrument(span).await;
}

async fn connect_in_span(t: Arc<TorrentShared>, addr: SocketAddr, _slot: Slot) {
    let result = open(addr, &t.session.dial(), &our_handshake(&t)).await;
    {
        let mut s = t.lock();
        s.connecting = s.connecting.saturating_sub(1);
    }
    match result {
        Ok((stream, theirs)) => conn::run(t.clone(), stream, addr, theirs, true).await,
        Err(e) => {
            if matches!(e, ConnectError::Encryption(_)) {
                crate::counters::Counters::bump(&t.session.counters.encryption_failures);
            }
            tracing::debug!(error = %chain(&e), "connection or handshake failed");
        }
    }
    t.event(Event::PeerGone { addr });
}

/// Runs an accepted connection whose handshake was read (and matched this torrent), holding
/// its `slot` until it ends.
pub(crate) async fn accept(
    t: Arc<TorrentShared>,
    mut stream: Transport,
    addr: SocketAddr,
    theirs: Handshake,
    _slot: Slot,
) {
    let sent = async {
        stream.wr.write_all(&our_handshake(&t).to_bytes()).await?;
        stream.wr.flush().await
    };
    match sent.await {
        Ok(()) => conn::run(t.clone(), stream, addr, theirs, false).await,
        Err(e) => tracing::debug!(error = %e, "sending our handshake failed"),
    }
    t.event(Event::PeerGone { addr });
}
