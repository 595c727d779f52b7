//! The accept loop.

use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc, watch};

use crate::connection::{self, Shared};
use crate::counters::ServerCounters;
use crate::ip_group::{IpGroup, ip_group};
use crate::limits::ServerLimits;

/// Serves `app` on `listener` within `limits` until `shutdown` completes; then stops
/// accepting, lets requests in flight finish for at most `limits.shutdown_grace`, and
/// returns once every connection is closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    counters: Arc<ServerCounters>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let per_ip = Arc::new(PerIp::new(limits.max_connections_per_ip));
    let shared = Arc::new(Shared {
        app,
        limits,
        counters: counters.clone(),
    });
    let (stop, stopped) = watch::channel(false);
    // Every connection task holds a sender; `recv` yields `None` once all are gone.
    let (live, mut all_closed) = mpsc::channel::<()>(1);
    let mut backoff = AcceptBackoff::default();
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            _ = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break, // never closed
            },
        };
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    ServerCounters::bump(&counters.accept_errors);
                    let pause = backoff.next();
                    tracing::warn!(error = %e, pause_ms = pause.as_millis() as u64, "accept failed");
                    tokio::time::sleep(pause).await;
                    continue;
                }
            },
        };
        backoff = AcceptBackoff::default();
        let capped = shared.limits.max_connections_per_ip > 0 && shared.limits.is_capped(peer.ip());
        let ip_slot = if capped {
            match PerIp::take(&per_ip, peer.ip()) {
                Some(s) => Some(s),
                None => {
                    ServerCounters::bump(&counters.refused_per_ip);
                    tracing::debug!(%peer, "refused: too many connections from this address");
                    continue;
                }
            }
        } else {
            None
        };
        let _ = stream.set_nodelay(true);
        ServerCounters::bump(&counters.accepted);
        let hold = (slot, ip_slot, live.clone());
        tokio::spawn(connection::run(
            shared.clone(),
            stream,
            peer,
            stopped.clone(),
            hold,
        ));
    }
    drop(listener);
    let _ = stop.send(true);
    drop(live);
    let _ = all_closed.recv().await;
    Ok(())
}

/// Pauses after failed accepts: 10 ms doubling to one second, so a process out of file
/// descriptors waits for some to be freed instead of spinning.
#[derive(Debug)]
struct AcceptBackoff(Duration);

impl Default for AcceptBackoff {
    fn default() -> Self {
        Self(Duration::from_millis(10))
    }
}

impl AcceptBackoff {
    fn next(&mut self) -> Duration {
        let now = self.0;
        self.0 = (self.0 * 2).min(Duration::from_secs(1));
        now
    }
}

/// Open connections per address group.
#[derive(Debug)]
struct PerIp {
    max: usize,
    open: Mutex<std::collections::HashMap<IpGroup, usize>>,
}

/// One connection's place in its group's count.
#[derive(Debug)]
struct IpSlot {
    table: Arc<PerIp>,
    group: IpGroup,
}

impl PerIp {
    fn new(max: usize) -> Self {
        Self {
            max,
            open: Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// A slot for `ip`, or `None` when its group is full.
    fn take(table: &Arc<Self>, ip: IpAddr) -> Option<IpSlot> {
        let group = ip_group(ip);
        let mut open = table.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(group).or_insert(0);
        if *n >= table.max {
            return None;
        }
        *n += 1;
        Some(IpSlot {
            table: table.clone(),
            group,
        })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut open = self.table.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.group) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.group);
            }
        }
    }
}
