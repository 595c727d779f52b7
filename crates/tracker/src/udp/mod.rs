//! The UDP tracker (BEP 15, with BEP 41 URL data for passkeys): worker threads, each with its
//! own `SO_REUSEPORT` socket on the same address, answering every datagram inline — no task
//! per datagram, no queue between receiving and answering; datagrams are taken and answered
//! in batches (`recvmmsg`/`sendmmsg`). The kernel spreads clients over the sockets by
//! address hash.
//!
//! - [`UdpHandler`]: one datagram in, at most one out (tests drive it without sockets).
//! - [`ConnectionIds`]: stateless, unguessable connection ids valid two minutes.
//! - [`UdpServer`]: binds the sockets and runs the workers until [`UdpServer::shutdown`].

mod bad_ids;
mod batch;
mod connection_id;
mod deferred;
mod handler;
#[cfg(test)]
mod tests;

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

pub use bad_ids::BadIds;
pub use connection_id::{ConnectionIds, VALID_SECS};
pub use deferred::{Deferred, IN_FLIGHT};
pub use handler::UdpHandler;

use crate::engine::Tracker;
use crate::error::Error;
use crate::stats::ServerStats;

/// How often an idle worker looks at the stop flag.
const STOP_POLL: Duration = Duration::from_millis(100);

/// Kernel receive buffer asked for per socket, to ride out bursts (the kernel caps it at
/// `net.core.rmem_max`).
const RECV_BUFFER: usize = 8 << 20;

/// Running UDP workers.
#[derive(Debug)]
pub struct UdpServer {
    local: Vec<SocketAddr>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl UdpServer {
    /// Binds `workers` sockets on each address (port 0 picks one port, shared by the
    /// workers) and starts a thread per socket.
    pub fn start(
        tracker: Arc<Tracker>,
        stats: Arc<ServerStats>,
        addresses: &[SocketAddr],
        workers: usize,
    ) -> Result<Self, Error> {
        let ids = ConnectionIds::random().map_err(Error::io("drawing the connection-id key"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let mut server = Self {
            local: Vec::new(),
            stop: stop.clone(),
            threads: Vec::new(),
        };
        for addr in addresses {
            let mut bound = *addr;
            for n in 0..workers.max(1) {
                let bind_error = |error| Error::Bind {
                    protocol: "UDP",
                    address: *addr,
                    error,
                };
                let socket = bind(bound).map_err(bind_error)?;
                bound = socket.local_addr().map_err(bind_error)?;
                let mut handler = UdpHandler::new(tracker.clone(), stats.clone(), ids.clone());
                if tracker.is_shared() {
                    // Announces wait for Redis on the runtime that started the server.
                    let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
                        Error::io("starting a UDP worker")(io::Error::other("no Tokio runtime"))
                    })?;
                    let clone = socket.try_clone().map_err(Error::io("cloning a UDP socket"))?;
                    handler = handler.with_deferred(Deferred::new(runtime, clone, tracker.blocking_link()));
                }
                let (stop, tracker) = (stop.clone(), tracker.clone());
                let thread = std::thread::Builder::new()
                    .name(format!("nexsuj-udp-{n}"))
                    .spawn(move || batch::work(&socket, handler, &tracker, &stop))
                    .map_err(Error::io("starting a UDP worker"))?;
                server.threads.push(thread);
            }
            tracing::info!(address = %bound, workers, "UDP tracker listening");
            server.local.push(bound);
        }
        Ok(server)
    }

    /// The addresses bound (with the ports picked for port 0).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local
    }

    /// Stops the workers and waits for them (at most one poll interval).
    pub fn shutdown(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for UdpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A socket with `SO_REUSEPORT` (several workers on one address) and, for IPv6, `IPV6_V6ONLY`
/// (so an IPv4 socket on the same port can sit beside it).
fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_port(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    // Best effort: an unprivileged process may get less.
    let _ = socket.set_recv_buffer_size(RECV_BUFFER);
    socket.bind(&addr.into())?;
    let socket: UdpSocket = socket.into();
    socket.set_read_timeout(Some(STOP_POLL))?;
    Ok(socket)
}
