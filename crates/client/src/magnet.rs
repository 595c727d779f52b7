//! Magnet links (BEP 9): the `info` dictionary fetched from peers over ut_metadata, checked
//! against the info-hash, and joined with the magnet's trackers into a [`Torrent`].
//!
//! Peers come from the magnet's `x.pe`, from the caller, and from announces to its `tr`
//! trackers; up to [`PARALLEL`] are asked at once and the first complete, verified copy wins.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use ids::{InfoHash, PeerId};
use metainfo::magnet::{Magnet, PeerAddr};
use metainfo::{Strictness, Torrent};
use sha1::{Digest, Sha1};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tracing::Instrument;
use tracker_proto::common::{AnnounceEvent, AnnounceRequest, Transfer};
use wire::extended::{ExtendedHandshake, UT_METADATA};
use wire::metadata::{METADATA_PIECE_LEN, MetadataMessage};
use wire::{Limits, Message};

use crate::error::{ClientError, FetchError, FrameError, LastError, MetadataError, chain};
use crate::peer::frames::FrameReader;
use crate::peer::{UT_METADATA_ID, handshake_for};
use crate::session::SessionShared;

/// The largest info dictionary accepted (libtorrent's default limit is 30 MiB of .torrent;
/// an info dictionary of 16 MiB describes about a million pieces).
pub const MAX_METADATA: u64 = 16 << 20;
/// Peers asked at once.
pub const PARALLEL: usize = 8;
/// How long one peer may take to hand over the whole dictionary.
const PER_PEER: Duration = Duration::from_secs(30);
/// Metadata pieces asked of one peer at a time: a peer answers only while its queue for us
/// has room (nexsuj rejects past half its `max_send_queue`), and libtorrent keeps two. A
/// rejected piece is asked for again once another arrives.
const WINDOW: u32 = 4;
/// Connections tried per peer, and the pause between them.
const ATTEMPTS: u32 = 3;
const RETRY_DELAY: Duration = Duration::from_secs(1);

/// Fetches the info dictionary of `magnet` and returns the torrent (its trackers, one per
/// tier, as libtorrent does for magnets). Fails after `timeout`, or when every peer found
/// has been asked without success and no tracker can name more.
pub(crate) async fn fetch(
    session: &SessionShared,
    magnet: &Magnet,
    extra_peers: &[SocketAddr],
    timeout: Duration,
) -> Result<Torrent, ClientError> {
    let info_hash = magnet.info_hash_v1.ok_or(ClientError::V2Only)?;
    let span = tracing::info_span!("magnet", %info_hash);
    fetch_in_span(session, magnet, info_hash, extra_peers, timeout)
        .instrument(span)
        .await
}

/// Starts asking every source of peers (the caller's, the magnet's `x.pe`, its trackers);
/// the channel closes once all have answered.
fn peer_sources(
    session: &SessionShared,
    magnet: &Magnet,
    info_hash: InfoHash,
    extra_peers: &[SocketAddr],
) -> mpsc::UnboundedReceiver<SocketAddr> {
    let (found, addrs) = mpsc::unbounded_channel::<SocketAddr>();
    for a in extra_peers {
        let _ = found.send(*a);
    }
    for p in &magnet.peers {
        match p {
            PeerAddr::Ip(a) => {
                let _ = found.send(*a);
            }
            PeerAddr::Host { host, port } => {
                let (found, host, port) = (found.clone(), host.clone(), *port);
                tokio::spawn(
                    async move {
                        if let Ok(list) = tokio::net::lookup_host((host.as_str(), port)).await {
                            for a in list {
                                let _ = found.send(a);
                            }
                        }
                    }
                    .in_current_span(),
                );
            }
        }
    }
    for url in &magnet.trackers {
        let (found, url, via) = (found.clone(), url.clone(), session.via());
        let req = AnnounceRequest {
            info_hash,
            peer_id: session.peer_id,
            port: session.listen.first().map_or(0, SocketAddr::port),
            // The size is not known yet: anything but 0, which would say "seeder".
            transfer: Transfer {
                uploaded: 0,
                downloaded: 0,
                left: magnet.exact_length.unwrap_or(1).max(1),
            },
            event: AnnounceEvent::Started,
            numwant: Some(50),
            ip: None,
            key: Some(session.announce_key()),
        };
        tokio::spawn(
            async move {
                match crate::tracker::announce(&url, &req, &via).await {
                    Ok(resp) => {
                        for p in &resp.peers {
                            let _ = found.send(p.addr);
                        }
                    }
                    Err(e) => tracing::debug!(error = %chain(&e), "magnet: announce failed"),
                }
            }
            .in_current_span(),
        );
    }
    addrs
}

async fn fetch_in_span(
    session: &SessionShared,
    magnet: &Magnet,
    info_hash: InfoHash,
    extra_peers: &[SocketAddr],
    timeout: Duration,
) -> Result<Torrent, ClientError> {
    let mut addrs = peer_sources(session, magnet, info_hash, extra_peers);
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut asked = HashSet::new();
    let mut fetches = JoinSet::new();
    let mut last_error = LastError::NoPeersFound;
    let mut more_coming = true;
    loop {
        if !more_coming && fetches.is_empty() {
            return Err(MetadataError::EveryPeerFailed(last_error).into());
        }
        tokio::select! {
            next = addrs.recv(), if more_coming && fetches.len() < PARALLEL => match next {
                Some(addr) if asked.insert(addr) => {
                    let (peer_id, dial) = (session.peer_id, session.dial());
                    let span = crate::peer::span(&tracing::Span::current(), addr, "out");
                    fetches.spawn(async move {
                        (addr, ask_peer(addr, info_hash, peer_id, &dial).await)
                    }.instrument(span));
                }
                Some(_) => {}
                // Every source (given peers, x.pe names, trackers) has said all it knows.
                None => more_coming = false,
            },
            Some(done) = fetches.join_next() => match done {
                Ok((addr, Ok(info))) => {
                    tracing::info!(%addr, bytes = info.len(), "metadata received");
                    return torrent_from(&info, &magnet.trackers);
                }
                Ok((addr, Err(error))) => {
                    tracing::debug!(%addr, error = %chain(&error), "magnet: no metadata from this peer");
                    last_error = LastError::Peer { addr, error };
                }
                Err(e) => last_error = LastError::TaskFailed(e),
            },
            () = &mut deadline => {
                return Err(MetadataError::TimedOut(last_error).into());
            }
        }
    }
}

/// The torrent of a verified info dictionary and the magnet's trackers.
fn torrent_from(info: &[u8], trackers: &[String]) -> Result<Torrent, ClientError> {
    let tiers = trackers.iter().map(|t| vec![t.clone()]).collect();
    Torrent::from_info_bytes(info, tiers, Strictness::Lenient)
        .map_err(|e| MetadataError::InvalidInfo(e).into())
}

/// Asks one peer, trying again a few times when it could not be reached or did not answer
/// the handshake (a peer that has just added the torrent, say).
async fn ask_peer(
    addr: SocketAddr,
    info_hash: InfoHash,
    peer_id: PeerId,
    dial: &crate::peer::Dial,
) -> Result<Vec<u8>, FetchError> {
    let mut attempt = 1;
    loop {
        let got = tokio::time::timeout(PER_PEER, from_peer(addr, info_hash, peer_id, dial))
            .await
            .unwrap_or(Err(FetchError::Timeout));
        match got {
            Err(FetchError::Connect(e)) if e.is_transient() && attempt < ATTEMPTS => {
                tracing::debug!(error = %chain(&e), attempt, "magnet: trying the peer again");
                tokio::time::sleep(RETRY_DELAY).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Asks one peer for the whole info dictionary; returns it once its SHA-1 is `info_hash`.
async fn from_peer(
    addr: SocketAddr,
    info_hash: InfoHash,
    peer_id: PeerId,
    dial: &crate::peer::Dial,
) -> Result<Vec<u8>, FetchError> {
    let (mut s, theirs) = crate::peer::open(addr, dial, &handshake_for(info_hash, peer_id)).await?;
    if !theirs.reserved.extension_protocol() {
        return Err(FetchError::NoExtensionProtocol);
    }
    let mut frame = Vec::new();
    let hs = ExtendedHandshake {
        extensions: vec![(UT_METADATA.to_owned(), UT_METADATA_ID)],
        ..ExtendedHandshake::default()
    };
    let mut payload = Vec::new();
    hs.write(&mut payload);
    Message::Extended {
        id: 0,
        payload: &payload,
    }
    .write(&mut frame);
    let write_failed = |e| FetchError::Frames(FrameError::Write(e));
    s.wr.write_all(&frame).await.map_err(write_failed)?;
    s.wr.flush().await.map_err(write_failed)?;

    let mut fetch: Option<Fetch> = None;
    let mut frames = FrameReader::new(64 * 1024, Limits::default());
    loop {
        let mut out = Vec::new();
        while let Some(m) = frames.next_frame()? {
            if let Some(info) = on_message(m, &mut fetch, info_hash, &mut out)? {
                return Ok(info);
            }
        }
        if !out.is_empty() {
            s.wr.write_all(&out).await.map_err(write_failed)?;
            s.wr.flush().await.map_err(write_failed)?;
        }
        frames.read_from(&mut s.rd, usize::MAX).await?;
    }
}

/// Handles one message of a metadata fetch, writing our answers to `out`; returns the
/// dictionary once it is complete and verified.
fn on_message(
    m: Message<'_>,
    fetch: &mut Option<Fetch>,
    info_hash: InfoHash,
    out: &mut Vec<u8>,
) -> Result<Option<Vec<u8>>, FetchError> {
    match m {
        Message::Extended { id: 0, payload } if fetch.is_none() => {
            let hs = ExtendedHandshake::parse(payload).map_err(FetchError::BadExtensionHandshake)?;
            let their_id = hs.id_of(UT_METADATA).ok_or(FetchError::NoUtMetadata)?;
            let size = hs.metadata_size.ok_or(FetchError::NoMetadataSize)?;
            if size == 0 || size > MAX_METADATA {
                return Err(FetchError::SizeOutOfRange(size));
            }
            let mut f = Fetch::new(size as usize, their_id);
            for _ in 0..WINDOW {
                f.request_next(out);
            }
            *fetch = Some(f);
        }
        Message::Extended {
            id: UT_METADATA_ID,
            payload,
        } => {
            let f = fetch.as_mut().ok_or(FetchError::MetadataBeforeHandshake)?;
            match MetadataMessage::parse(payload).map_err(FetchError::BadMessage)? {
                MetadataMessage::Data {
                    piece,
                    total_size,
                    data,
                } => {
                    if total_size != f.data.len() as u64 {
                        return Err(FetchError::TotalSizeChanged {
                            expected: f.data.len() as u64,
                            got: total_size,
                        });
                    }
                    if f.put(piece, data)? {
                        let info = std::mem::take(&mut f.data);
                        return if Sha1::digest(&info).as_slice() == info_hash.0 {
                            Ok(Some(info))
                        } else {
                            Err(FetchError::HashMismatch)
                        };
                    }
                    f.request_next(out);
                }
                MetadataMessage::Reject { piece } => f.rejected(piece)?,
                MetadataMessage::Request { .. } => {}
            }
        }
        _ => {}
    }
    Ok(None)
}

/// An info dictionary being assembled.
struct Fetch {
    data: Vec<u8>,
    received: Vec<bool>,
    /// The peer's id for ut_metadata messages.
    their_id: u8,
    /// The next piece to ask for, pieces to ask for again, and requests unanswered.
    next: u32,
    again: Vec<u32>,
    in_flight: u32,
}

impl Fetch {
    fn new(size: usize, their_id: u8) -> Self {
        Self {
            data: vec![0; size],
            received: vec![false; size.div_ceil(METADATA_PIECE_LEN)],
            their_id,
            next: 0,
            again: Vec::new(),
            in_flight: 0,
        }
    }

    fn pieces(&self) -> u32 {
        self.received.len() as u32
    }

    /// Writes the request for the next piece to ask for, if any, to `out`.
    fn request_next(&mut self, out: &mut Vec<u8>) {
        let piece = match self.again.pop() {
            Some(p) => p,
            None if self.next < self.pieces() => {
                self.next += 1;
                self.next - 1
            }
            None => return,
        };
        let mut p = Vec::new();
        MetadataMessage::Request { piece }.write(&mut p);
        Message::Extended {
            id: self.their_id,
            payload: &p,
        }
        .write(out);
        self.in_flight += 1;
    }

    /// The peer would not send `piece` now: it is asked for again after the next piece that
    /// comes. A peer that rejects everything asked of it has nothing to give.
    fn rejected(&mut self, piece: u32) -> Result<(), FetchError> {
        if piece >= self.pieces() || self.received[piece as usize] {
            return Ok(());
        }
        self.in_flight = self.in_flight.saturating_sub(1);
        self.again.push(piece);
        if self.in_flight == 0 {
            return Err(FetchError::Rejected);
        }
        Ok(())
    }

    /// Stores a piece; true once every piece is in.
    fn put(&mut self, piece: u32, data: &[u8]) -> Result<bool, FetchError> {
        let start = piece as usize * METADATA_PIECE_LEN;
        let end = (start + METADATA_PIECE_LEN).min(self.data.len());
        if start >= self.data.len() || data.len() != end - start {
            return Err(FetchError::WrongPieceSize { piece });
        }
        self.data[start..end].copy_from_slice(data);
        self.received[piece as usize] = true;
        self.in_flight = self.in_flight.saturating_sub(1);
        Ok(self.received.iter().all(|&r| r))
    }
}

#[cfg(test)]
mod tests {
    use wire::Parsed;

    use super::*;

    #[test]
    fn pieces_assemble_and_sizes_are_checked() {
        let mut f = Fetch::new(METADATA_PIECE_LEN + 10, 3);
        assert_eq!(f.pieces(), 2);
        assert!(matches!(
            f.put(1, &[7; 9]),
            Err(FetchError::WrongPieceSize { piece: 1 })
        ));
        assert!(matches!(
            f.put(2, &[7; 10]),
            Err(FetchError::WrongPieceSize { piece: 2 })
        ));
        assert!(matches!(f.put(1, &[7; 10]), Ok(false)));
        assert!(matches!(f.put(0, &[1; METADATA_PIECE_LEN]), Ok(true)));
        assert_eq!(f.data[METADATA_PIECE_LEN], 7);
    }

    #[test]
    fn pieces_are_asked_a_window_at_a_time_and_rejected_ones_again() {
        let mut f = Fetch::new(3 * METADATA_PIECE_LEN, 3);
        let mut out = Vec::new();
        f.request_next(&mut out);
        f.request_next(&mut out);
        assert_eq!((f.next, f.in_flight), (2, 2));
        // Piece 1 rejected while piece 0 is still coming: asked again after it.
        assert!(f.rejected(1).is_ok());
        assert!(matches!(f.put(0, &[0; METADATA_PIECE_LEN]), Ok(false)));
        out.clear();
        f.request_next(&mut out);
        let Ok(Parsed::Done { value, .. }) = wire::decode(&out, &Limits::default()) else {
            panic!("one request");
        };
        let Message::Extended { id: 3, payload } = value else {
            panic!("{value:?}");
        };
        assert_eq!(
            MetadataMessage::parse(payload),
            Ok(MetadataMessage::Request { piece: 1 })
        );
        // Everything asked for rejected: the peer has nothing for us.
        assert!(matches!(f.rejected(1), Err(FetchError::Rejected)));
    }

    #[test]
    fn the_torrent_keeps_the_info_hash_and_the_trackers() {
        let info = b"d6:lengthi5e4:name1:a12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaae";
        let t = torrent_from(
            info,
            &["udp://t.test:1/announce".into(), "http://u.test/announce".into()],
        )
        .unwrap();
        assert_eq!(
            t.info_hash_v1().unwrap().0.as_slice(),
            Sha1::digest(info).as_slice()
        );
        assert_eq!(t.trackers().len(), 2);
        assert!(torrent_from(b"d4:name1:ae", &[]).is_err());
    }
}
