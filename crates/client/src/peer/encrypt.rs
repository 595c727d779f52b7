//! The MSE/PE handshake over a socket: the pure state machines of the `mse` crate fed with
//! what the socket gives, under the handshake timeout. Keys and padding come from the
//! operating system's randomness.

use mse::{Established, Initiator, Methods, Responder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wire::Handshake;

use super::HANDSHAKE_TIMEOUT;
use super::transport::Stream;
use crate::config::Encryption;
use crate::error::EncryptionError;

/// A private key and padding of random length (0 to 512 bytes) and content.
fn secrets() -> ([u8; 20], Vec<u8>) {
    let mut seed = [0u8; 22];
    if rng::fill_os(&mut seed).is_err() {
        // No OS randomness: the workspace generator, seeded from the clock and the process.
        rng::Rng::from_entropy(0x6d7365).fill(&mut seed);
    }
    let len = usize::from(u16::from_be_bytes([seed[20], seed[21]])) % (mse::MAX_PAD + 1);
    let mut pad = vec![0u8; len];
    if rng::fill_os(&mut pad).is_err() {
        rng::Rng::from_entropy(len as u64).fill(&mut pad);
    }
    let mut private = [0u8; 20];
    private.copy_from_slice(&seed[..20]);
    (private, pad)
}

/// What an outgoing connection offers under `policy` (`None`: no encryption at all).
pub(crate) fn offer(policy: Encryption) -> Option<Methods> {
    match policy {
        Encryption::Disabled => None,
        Encryption::Enabled => Some(Methods::BOTH),
        Encryption::Required => Some(Methods::RC4),
    }
}

/// What an incoming encrypted connection may choose under `policy`.
pub(crate) fn allowed(policy: Encryption) -> Option<Methods> {
    offer(policy)
}

/// Runs the initiator's side on a fresh connection; our BitTorrent handshake travels as the
/// initial payload.
pub(crate) async fn initiate(
    stream: &mut Stream,
    ours: &Handshake,
    provide: Methods,
) -> Result<Established, EncryptionError> {
    let (private, pad) = secrets();
    let (mut side, first) = Initiator::new(ours.info_hash, private, &pad, provide, &ours.to_bytes());
    let work = async {
        stream.write_all(&first).await.map_err(EncryptionError::Write)?;
        let mut buf = vec![0u8; 4096];
        let mut first = Vec::new();
        loop {
            let n = stream.read(&mut buf).await.map_err(EncryptionError::Read)?;
            if n == 0 {
                return Err(EncryptionError::Closed);
            }
            // A plaintext-only peer may answer with its own handshake at once: no need to
            // wait for a marker that will never come.
            if first.len() < 20 {
                first.extend_from_slice(&buf[..n.min(20 - first.len())]);
                if mse::looks_plaintext(&first) == Some(true) {
                    return Err(EncryptionError::PlaintextPeer);
                }
            }
            let p = side.receive(&buf[..n])?;
            if !p.send.is_empty() {
                stream.write_all(&p.send).await.map_err(EncryptionError::Write)?;
            }
            if let Some(done) = p.done {
                return Ok(done);
            }
        }
    };
    tokio::time::timeout(HANDSHAKE_TIMEOUT, work)
        .await
        .unwrap_or(Err(EncryptionError::Timeout))
}

/// Runs the responder's side on an accepted connection whose `first` bytes were read;
/// `lookup` finds the torrent by its `req2` hash.
pub(crate) async fn respond(
    stream: &mut Stream,
    first: &[u8],
    allowed: Methods,
    lookup: impl Fn(&[u8; 20]) -> Option<ids::InfoHash>,
) -> Result<Established, EncryptionError> {
    let (private, pad) = secrets();
    let mut side = Responder::new(private, &pad, allowed);
    let work = async {
        let mut buf = vec![0u8; 4096];
        let mut input = first.len();
        buf[..input].copy_from_slice(first);
        loop {
            let p = side.receive(&buf[..input], &lookup)?;
            if !p.send.is_empty() {
                stream.write_all(&p.send).await.map_err(EncryptionError::Write)?;
            }
            if let Some(done) = p.done {
                return Ok(done);
            }
            input = stream.read(&mut buf).await.map_err(EncryptionError::Read)?;
            if input == 0 {
                return Err(EncryptionError::Closed);
            }
        }
    };
    tokio::time::timeout(HANDSHAKE_TIMEOUT, work)
        .await
        .unwrap_or(Err(EncryptionError::Timeout))
}

/// Reads an accepted connection's first bytes until they tell a plaintext handshake from an
/// encrypted one (at most 20 bytes); true for plaintext.
pub(crate) async fn sniff(stream: &mut Stream) -> Result<(bool, Vec<u8>), EncryptionError> {
    let mut first = Vec::with_capacity(20);
    let work = async {
        loop {
            let mut buf = [0u8; 20];
            let n = stream
                .read(&mut buf[..20 - first.len()])
                .await
                .map_err(EncryptionError::Read)?;
            if n == 0 {
                return Err(EncryptionError::Closed);
            }
            first.extend_from_slice(&buf[..n]);
            if let Some(plain) = mse::looks_plaintext(&first) {
                return Ok(plain);
            }
        }
    };
    let plain = tokio::time::timeout(HANDSHAKE_TIMEOUT, work)
        .await
        .unwrap_or(Err(EncryptionError::Timeout))?;
    Ok((plain, first))
}
