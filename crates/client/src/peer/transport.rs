//! A peer connection's byte stream: plaintext, or MSE/PE-encrypted (RC4 both ways, or only
//! the handshake obfuscated). The reader first hands out the bytes the encryption handshake
//! already read past its end (the peer's BitTorrent handshake, usually), then decrypts in
//! place what the socket gives; the writer encrypts into a buffer of its own, since RC4 must
//! never run twice over the same bytes whatever the socket accepts.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use mse::{Cipher, Established, Method};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use crate::utp::UtpStream;

/// Largest piece of a write encrypted at once.
const CHUNK: usize = 64 * 1024;

/// How a connection's bytes travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crypto {
    /// The BitTorrent protocol in the clear.
    Plaintext,
    /// MSE handshake, then plaintext (the peer or we chose it).
    Obfuscated,
    /// MSE handshake, then RC4 both ways.
    Rc4,
}

impl Crypto {
    /// `plaintext`, `obfuscated` or `rc4`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plaintext => "plaintext",
            Self::Obfuscated => "obfuscated",
            Self::Rc4 => "rc4",
        }
    }
}

/// A peer connection before it is split: TCP or uTP.
#[derive(Debug)]
pub(crate) enum Stream {
    Tcp(TcpStream),
    Utp(UtpStream),
}

impl Stream {
    /// `tcp` or `utp`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Tcp(_) => "tcp",
            Self::Utp(_) => "utp",
        }
    }

    fn split(self) -> (ReadInner, WriteInner) {
        match self {
            Self::Tcp(s) => {
                let _ = s.set_nodelay(true);
                let (r, w) = s.into_split();
                (ReadInner::Tcp(r), WriteInner::Tcp(w))
            }
            Self::Utp(s) => (ReadInner::Utp(s.clone()), WriteInner::Utp(s)),
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Self::Utp(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Self::Utp(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_flush(cx),
            Self::Utp(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Self::Utp(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

enum ReadInner {
    Tcp(OwnedReadHalf),
    Utp(UtpStream),
}

enum WriteInner {
    Tcp(OwnedWriteHalf),
    Utp(UtpStream),
}

/// The two halves of a connection, what carries it and how it is protected.
#[derive(Debug)]
pub(crate) struct Transport {
    pub rd: PeerReader,
    pub wr: PeerWriter,
    pub crypto: Crypto,
    /// `tcp` or `utp`.
    pub kind: &'static str,
}

impl Transport {
    /// A plaintext connection; `prefix` is what was already read from it.
    pub fn plain(stream: Stream, prefix: Vec<u8>) -> Self {
        let kind = stream.kind();
        let (rd, wr) = stream.split();
        Self {
            rd: PeerReader::new(rd, prefix, None),
            wr: PeerWriter::new(wr, None),
            crypto: Crypto::Plaintext,
            kind,
        }
    }

    /// A connection whose encryption handshake finished as `done`.
    pub fn encrypted(stream: Stream, done: Established) -> Self {
        let kind = stream.kind();
        let (rd, wr) = stream.split();
        Self {
            rd: PeerReader::new(rd, done.received, done.decrypt),
            wr: PeerWriter::new(wr, done.encrypt),
            crypto: match done.method {
                Method::Rc4 => Crypto::Rc4,
                Method::Plaintext => Crypto::Obfuscated,
            },
            kind,
        }
    }
}

/// The reading half: the bytes read ahead first, then the socket's, decrypted.
pub(crate) struct PeerReader {
    inner: ReadInner,
    prefix: Vec<u8>,
    at: usize,
    cipher: Option<Cipher>,
}

impl std::fmt::Debug for PeerReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerReader")
            .field("encrypted", &self.cipher.is_some())
            .finish_non_exhaustive()
    }
}

impl PeerReader {
    fn new(inner: ReadInner, prefix: Vec<u8>, cipher: Option<Cipher>) -> Self {
        Self {
            inner,
            prefix,
            at: 0,
            cipher,
        }
    }
}

impl AsyncRead for PeerReader {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        if me.at < me.prefix.len() {
            let n = buf.remaining().min(me.prefix.len() - me.at);
            buf.put_slice(&me.prefix[me.at..me.at + n]);
            me.at += n;
            if me.at == me.prefix.len() {
                me.prefix = Vec::new();
                me.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        match &mut me.inner {
            ReadInner::Tcp(r) => ready!(Pin::new(r).poll_read(cx, buf))?,
            ReadInner::Utp(r) => ready!(Pin::new(r).poll_read(cx, buf))?,
        }
        if let Some(c) = me.cipher.as_mut() {
            c.apply(&mut buf.filled_mut()[before..]);
        }
        Poll::Ready(Ok(()))
    }
}

/// The writing half: plaintext straight through, or encrypted into `out` and written from
/// there.
pub(crate) struct PeerWriter {
    inner: WriteInner,
    cipher: Option<Cipher>,
    out: Vec<u8>,
    sent: usize,
}

impl std::fmt::Debug for PeerWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerWriter")
            .field("encrypted", &self.cipher.is_some())
            .finish_non_exhaustive()
    }
}

impl PeerWriter {
    fn new(inner: WriteInner, cipher: Option<Cipher>) -> Self {
        Self {
            inner,
            cipher,
            out: Vec::new(),
            sent: 0,
        }
    }

    /// Writes what is encrypted and not yet sent.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.out.len() {
            let n = ready!(self.inner.poll_write(cx, &self.out[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.out.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for PeerWriter {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        if me.cipher.is_none() {
            return me.inner.poll_write(cx, buf);
        }
        ready!(me.drain(cx))?;
        let n = buf.len().min(CHUNK);
        me.out.extend_from_slice(&buf[..n]);
        if let Some(c) = me.cipher.as_mut() {
            c.apply(&mut me.out);
        }
        // The bytes are ours now (encrypted, the stream advanced): report them taken and
        // send what the socket accepts; the rest goes out on the next write or flush.
        if let Poll::Ready(Err(e)) = me.drain(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        ready!(me.drain(cx))?;
        match &mut me.inner {
            WriteInner::Tcp(w) => Pin::new(w).poll_flush(cx),
            WriteInner::Utp(w) => Pin::new(w).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        ready!(me.drain(cx))?;
        match &mut me.inner {
            WriteInner::Tcp(w) => Pin::new(w).poll_shutdown(cx),
            WriteInner::Utp(w) => Pin::new(w).poll_shutdown(cx),
        }
    }
}

impl WriteInner {
    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self {
            Self::Tcp(w) => Pin::new(w).poll_write(cx, buf),
            Self::Utp(w) => Pin::new(w).poll_write(cx, buf),
        }
    }
}
