//! Connections to HTTP(S) trackers: TLS with rustls (the Mozilla roots, plus a CA the
//! configuration names), and the connection kept open after a reply that allows it, for the
//! next request to the same tracker — a private tracker over HTTPS otherwise pays a TLS
//! handshake per announce. A kept connection the tracker has closed meanwhile is replaced
//! once, transparently.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::error::TrackerError;

/// An idle connection older than this is not reused (trackers close theirs after 15–75 s).
const IDLE: Duration = Duration::from_secs(15);
/// Idle connections kept per tracker, and in all.
const PER_HOST: usize = 2;
const TOTAL: usize = 64;

/// A connection to a tracker, plain or TLS.
#[derive(Debug)]
pub(super) enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Stream {
    pub async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Self::Plain(s) => s.write_all(bytes).await,
            Self::Tls(s) => {
                s.write_all(bytes).await?;
                s.flush().await
            }
        }
    }

    /// Reads some bytes; 0 at the end. A TLS peer that closes without `close_notify` ends
    /// the stream as well: replies are framed by their length, and a truncated body fails
    /// to decode.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(s) => s.read(buf).await,
            Self::Tls(s) => match s.read(buf).await {
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
                other => other,
            },
        }
    }
}

/// Where a connection goes: (TLS, host, port, local address).
pub(super) type Key = (bool, String, u16, Option<IpAddr>);
/// Idle connections by where they go, each with the time it was kept.
type Idle = HashMap<Key, Vec<(Stream, Instant)>>;

/// The session's tracker connections: TLS settings and the idle connections.
#[derive(Clone)]
pub struct HttpClient {
    tls: TlsConnector,
    idle: Arc<Mutex<Idle>>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient").finish_non_exhaustive()
    }
}

impl HttpClient {
    /// Trusts the Mozilla roots and the certificates in the PEM file `extra_ca`, if given.
    pub fn new(extra_ca: Option<&Path>) -> Result<Self, TrackerError> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(path) = extra_ca {
            let bad = |why: String| TrackerError::Ca {
                path: path.to_path_buf(),
                why,
            };
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| bad(e.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad(e.to_string()))?;
            if certs.is_empty() {
                return Err(bad("no certificate in it".into()));
            }
            for c in certs {
                roots.add(c).map_err(|e| bad(e.to_string()))?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TrackerError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            tls: TlsConnector::from(Arc::new(config)),
            idle: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// An idle connection to `key`, if one is fresh enough.
    pub(super) fn take(&self, key: &Key) -> Option<Stream> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let list = idle.get_mut(key)?;
        while let Some((s, since)) = list.pop() {
            if since.elapsed() < IDLE {
                return Some(s);
            }
        }
        idle.remove(key);
        None
    }

    /// Keeps `stream` for the next request to `key`.
    pub(super) fn keep(&self, key: Key, stream: Stream) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        idle.retain(|_, l| {
            l.retain(|(_, since)| since.elapsed() < IDLE);
            !l.is_empty()
        });
        if idle.values().map(Vec::len).sum::<usize>() >= TOTAL {
            return;
        }
        let list = idle.entry(key).or_default();
        if list.len() < PER_HOST {
            list.push((stream, Instant::now()));
        }
    }

    /// A new connection to `key`.
    pub(super) async fn connect(&self, key: &Key) -> Result<Stream, TrackerError> {
        let (tls, host, port, bind) = key;
        let addr = tokio::net::lookup_host((host.as_str(), *port))
            .await
            .map_err(TrackerError::Network)?
            .next()
            .ok_or_else(|| TrackerError::NoAddress { host: host.clone() })?;
        let tcp = crate::net::connect(addr, *bind)
            .await
            .map_err(TrackerError::Network)?;
        let _ = tcp.set_nodelay(true);
        if !tls {
            return Ok(Stream::Plain(tcp));
        }
        let name = ServerName::try_from(host.clone()).map_err(|e| TrackerError::Tls(e.to_string()))?;
        let s = self
            .tls
            .connect(name, tcp)
            .await
            .map_err(|e| TrackerError::Tls(crate::error::chain(&e)))?;
        Ok(Stream::Tls(Box::new(s)))
    }
}
