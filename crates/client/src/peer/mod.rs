//! A peer connection: handshake, then a reader task that parses frames in place and a writer
//! task that sends our messages and the blocks the peer asked for.

mod closed;
mod command;
mod conn;
mod flags;
pub(crate) mod frames;
pub(crate) mod incoming;
pub(crate) mod known;
mod queue;
mod send;
mod transfer;
mod writer;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::Instrument;
use wire::{Handshake, Parsed, Reserved};

use crate::error::{ConnectError, HandshakeError, chain};
use crate::session::Slot;
use crate::torrent::{Event, TorrentShared};

pub(crate) use conn::UT_METADATA_ID;
pub(crate) use flags::PeerFlags;

/// How long a handshake may take.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads a handshake from a fresh connection.
pub(crate) async fn read_handshake(stream: &mut TcpStream) -> Result<Handshake, HandshakeError> {
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

/// Connects to `addr` (from `bind`) and exchanges handshakes; fails, saying why, unless the
/// peer answers for the same torrent.
pub(crate) async fn open(
    addr: SocketAddr,
    bind: Option<IpAddr>,
    ours: &Handshake,
) -> Result<(TcpStream, Handshake), ConnectError> {
    let mut s = tokio::time::timeout(HANDSHAKE_TIMEOUT, crate::net::connect(addr, bind))
        .await
        .map_err(|_| ConnectError::Timeout)?
        .map_err(ConnectError::Connect)?;
    s.write_all(&ours.to_bytes()).await.map_err(ConnectError::Write)?;
    let theirs = read_handshake(&mut s).await.map_err(ConnectError::Handshake)?;
    if theirs.info_hash != ours.info_hash {
        return Err(ConnectError::OtherTorrent);
    }
    Ok((s, theirs))
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
    let result = open(addr, t.session.bind, &our_handshake(&t)).await;
    {
        let mut s = t.lock();
        s.connecting = s.connecting.saturating_sub(1);
    }
    match result {
        Ok((stream, theirs)) => conn::run(t.clone(), stream, addr, theirs, true).await,
        Err(e) => tracing::debug!(error = %chain(&e), "connection or handshake failed"),
    }
    t.event(Event::PeerGone { addr });
}

/// Runs an accepted connection whose handshake was read (and matched this torrent), holding
/// its `slot` until it ends.
pub(crate) async fn accept(
    t: Arc<TorrentShared>,
    mut stream: TcpStream,
    addr: SocketAddr,
    theirs: Handshake,
    _slot: Slot,
) {
    match stream.write_all(&our_handshake(&t).to_bytes()).await {
        Ok(()) => conn::run(t.clone(), stream, addr, theirs, false).await,
        Err(e) => tracing::debug!(error = %e, "sending our handshake failed"),
    }
    t.event(Event::PeerGone { addr });
}
