//! One connection: hyper's HTTP/1.1 state machine over a [`GuardedStream`], requests handed
//! to the router with the client address and a body deadline, and the graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tower::Service as _;
use tracing::Instrument as _;

use crate::body::DeadlineBody;
use crate::counters::ServerCounters;
use crate::limits::ServerLimits;
use crate::stream::{Activity, GuardedStream, Timeouts};

/// What every connection of one server shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) app: Router,
    pub(crate) limits: ServerLimits,
    pub(crate) counters: Arc<ServerCounters>,
}

/// Serves one connection until it closes, or until `stop` turns true and then at most the
/// grace period. `hold` (connection slots, the server's count of live connections) is
/// released when this returns.
pub(crate) async fn run<H: Send>(
    shared: Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
    mut stop: watch::Receiver<bool>,
    hold: H,
) {
    let counters = shared.counters.clone();
    counters.open.fetch_add(1, Ordering::Relaxed);
    let span = tracing::debug_span!("http_connection", %peer);
    async {
        let activity = Arc::new(Activity::default());
        let timeouts = Timeouts {
            header: shared.limits.header_read_timeout,
            idle: shared.limits.idle_timeout,
        };
        let io = TokioIo::new(GuardedStream::new(
            stream,
            activity.clone(),
            timeouts,
            counters.clone(),
        ));
        let service = hyper::service::service_fn({
            let shared = shared.clone();
            move |req: hyper::Request<Incoming>| {
                let in_flight = activity.begin();
                let deadline = tokio::time::Instant::now() + shared.limits.body_read_timeout;
                let counters = shared.counters.clone();
                let mut req = req.map(|b| DeadlineBody::new(b, deadline, counters));
                req.extensions_mut().insert(ConnectInfo(peer));
                req.extensions_mut()
                    .insert(crate::stream::Upgraded(activity.clone()));
                let answer = shared.app.clone().call(req);
                async move {
                    let response = answer.await;
                    drop(in_flight);
                    response
                }
            }
        });
        let conn = http1::Builder::new()
            .keep_alive(true)
            .header_read_timeout(None)
            .serve_connection(io, service)
            .with_upgrades();
        tokio::pin!(conn);
        tokio::select! {
            done = conn.as_mut() => log_end(done),
            _ = async { stop.wait_for(|s| *s).await.map(|_| ()) } => {
                conn.as_mut().graceful_shutdown();
                match tokio::time::timeout(shared.limits.shutdown_grace, conn).await {
                    Ok(done) => log_end(done),
                    Err(_) => {
                        ServerCounters::bump(&counters.cut_at_shutdown);
                        tracing::debug!("cut at shutdown: the grace period ran out");
                    }
                }
            }
        }
    }
    .instrument(span)
    .await;
    counters.open.fetch_sub(1, Ordering::Relaxed);
    drop(hold);
}

fn log_end(done: Result<(), hyper::Error>) {
    if let Err(e) = done {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}
