//! A peer connection: handshake, then a reader task that parses frames in place and a writer
//! task that sends our messages and the blocks the peer asked for.

mod command;
mod conn;
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
use wire::{Handshake, Parsed, Reserved};

use crate::session::Slot;
use crate::torrent::{Event, TorrentShared};

pub(crate) use conn::UT_METADATA_ID;

/// How long a handshake may take.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads a handshake from a fresh connection.
pub(crate) async fn read_handshake(stream: &mut TcpStream) -> Option<Handshake> {
    let mut buf = [0u8; wire::HANDSHAKE_LEN];
    let mut filled = 0;
    let work = async {
        loop {
            match Handshake::parse(&buf[..filled]) {
                Ok(Parsed::Done { value, .. }) => return Some(value),
                Ok(Parsed::Incomplete { .. }) => {}
                Err(_) => return None,
            }
            let n = stream.read(&mut buf[filled..]).await.ok()?;
            if n == 0 {
                return None;
            }
            filled += n;
        }
    };
    tokio::time::timeout(HANDSHAKE_TIMEOUT, work).await.ok().flatten()
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
    handshake_for(t.meta.info_hash, t.session.peer_id)
}

/// Connects to `addr` (from `bind`) and exchanges handshakes; fails, saying why, unless the
/// peer answers for the same torrent.
pub(crate) async fn open(
    addr: SocketAddr,
    bind: Option<IpAddr>,
    ours: &Handshake,
) -> Result<(TcpStream, Handshake), &'static str> {
    let mut s = tokio::time::timeout(HANDSHAKE_TIMEOUT, crate::net::connect(addr, bind))
        .await
        .map_err(|_| "connect timed out")?
        .map_err(|_| "connect failed")?;
    s.write_all(&ours.to_bytes()).await.map_err(|_| "write failed")?;
    let theirs = read_handshake(&mut s).await.ok_or("no handshake")?;
    if theirs.info_hash != ours.info_hash {
        return Err("another torrent");
    }
    Ok((s, theirs))
}

/// Connects to `addr` and runs the connection until it ends, holding its `slot` meanwhile.
pub(crate) async fn connect(t: Arc<TorrentShared>, addr: SocketAddr, _slot: Slot) {
    let result = open(addr, t.session.bind, &our_handshake(&t)).await.ok();
    {
        let mut s = t.lock();
        s.connecting = s.connecting.saturating_sub(1);
    }
    let key = match result {
        Some((stream, theirs)) => conn::run(t.clone(), stream, addr, theirs, true).await,
        None => {
            tracing::debug!(%addr, "connection or handshake failed");
            None
        }
    };
    let _ = key;
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
    let key = if stream.write_all(&our_handshake(&t).to_bytes()).await.is_ok() {
        conn::run(t.clone(), stream, addr, theirs, false).await
    } else {
        None
    };
    let _ = key;
    t.event(Event::PeerGone { addr });
}
