//! The running tracker: HTTP and UDP servers, the expiry sweep and the stats sampler, started
//! together and stopped together. [`run`] is `nexsuj tracker`; a private site starts a
//! [`Service`] with its own routes merged into the HTTP server, so pages and tracker share a
//! port. The expiry sweep runs here and only here.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::access::AccessPolicy;
use crate::config::TrackerConfig;
use crate::engine::Tracker;
use crate::error::{ConfigError, Error};
use crate::http;
use crate::stats::{SAMPLE_SECS, ServerStats};
use crate::udp::UdpServer;

/// A started tracker. Drop it or call [`Service::shutdown`] to stop.
#[derive(Debug)]
pub struct Service {
    http: Vec<SocketAddr>,
    udp: Option<UdpServer>,
    stats: Arc<ServerStats>,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Service {
    /// Binds the addresses of `config` (port 0 picks a free port) and starts serving
    /// `tracker`; `routes` (a site's pages, or `Router::new()`) are served beside the
    /// tracker's on the HTTP port.
    pub async fn start(config: &TrackerConfig, tracker: Arc<Tracker>, routes: Router) -> Result<Self, Error> {
        let options = config.http_options().map_err(ConfigError::from)?;
        let limits = config.server_limits().map_err(ConfigError::from)?;
        let stats = Arc::new(ServerStats::default());
        let app =
            http_server::trace_requests(routes.merge(http::router(tracker.clone(), stats.clone(), options)));
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let mut bound = Vec::new();
        for address in config.http_addresses() {
            let bind_error = |error| Error::Bind {
                protocol: "HTTP",
                address,
                error,
            };
            let listener = listen(address).map_err(bind_error)?;
            let local = listener.local_addr().map_err(bind_error)?;
            tracing::info!(address = %local, "HTTP tracker listening");
            bound.push(local);
            let (app, limits, stopped) = (app.clone(), limits.clone(), stopped.clone());
            let counters = stats.connections.clone();
            tasks.spawn(async move {
                if let Err(e) = http_server::serve(listener, app, limits, counters, wait(stopped)).await {
                    tracing::error!(error = %e, "HTTP server failed");
                }
            });
        }
        let udp_addrs = config.udp_addresses();
        let udp = UdpServer::start(tracker.clone(), stats.clone(), &udp_addrs, config.udp.udp_workers)?;
        let cleaning = Duration::from_secs(u64::from(config.swarm.cleaning_interval.max(1)));
        tasks.spawn(every(cleaning, stopped.clone(), {
            let tracker = tracker.clone();
            move || {
                let _span = tracing::debug_span!("expiry sweep").entered();
                let dropped = tracker.expire(tracker.now());
                let totals = tracker.totals();
                tracing::debug!(
                    dropped,
                    torrents = totals.torrents,
                    peers = totals.seeders + totals.leechers,
                    "expired peers"
                );
            }
        }));
        if tracker.is_shared() {
            tasks.spawn(sweep_shared(
                tracker.clone(),
                cleaning,
                config.store.sweep_batch,
                stopped.clone(),
            ));
        }
        tasks.spawn(every(Duration::from_secs(SAMPLE_SECS), stopped, {
            let stats = stats.clone();
            move || stats.sample()
        }));
        Ok(Self {
            http: bound,
            udp: Some(udp),
            stats,
            stop,
            tasks,
        })
    }

    /// The HTTP addresses bound.
    pub fn http_addrs(&self) -> &[SocketAddr] {
        &self.http
    }

    /// The UDP addresses bound.
    pub fn udp_addrs(&self) -> &[SocketAddr] {
        self.udp.as_ref().map_or(&[], |u| u.local_addrs())
    }

    /// The servers' counters.
    pub fn stats(&self) -> &Arc<ServerStats> {
        &self.stats
    }

    /// Stops accepting, lets HTTP requests in flight finish, stops the UDP workers and the
    /// background tasks, and waits for all of them.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(udp) = self.udp.take() {
            let _ = tokio::task::spawn_blocking(move || udp.shutdown()).await;
        }
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Runs a tracker with `policy` (a public one: [`crate::access::PublicPolicy::from_config`])
/// on the addresses of `config`, `extra_routes` served beside the tracker's on the HTTP
/// port, until `shutdown` completes; then stops gracefully (requests in flight get
/// `shutdown_grace`). What `nexsuj tracker` runs.
pub async fn run(
    config: TrackerConfig,
    policy: Arc<dyn AccessPolicy>,
    extra_routes: Router,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    let mut tracker = Tracker::new(config.core(), policy, None);
    if let Some(shared) = &config.core().shared {
        tracker = tracker
            .with_shared_store(shared)
            .map_err(|e| ConfigError::StoreUrl(e.to_string()))?;
    }
    let service = Service::start(&config, Arc::new(tracker), extra_routes).await?;
    tracing::info!(
        mode = ?config.access.mode,
        store = if config.shared_store().is_some() { "redis" } else { "memory" },
        http = ?service.http_addrs(),
        udp = ?service.udp_addrs(),
        "tracker ready"
    );
    shutdown.await;
    tracing::info!("shutting down");
    service.shutdown().await;
    Ok(())
}

/// A listening TCP socket with `SO_REUSEADDR` (a restarted tracker must not wait out the
/// TIME_WAIT of its predecessor's connections) and, for IPv6, `IPV6_V6ONLY` (so an IPv4
/// listener on the same port can sit beside it).
fn listen(addr: SocketAddr) -> io::Result<tokio::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    tokio::net::TcpListener::from_std(socket.into())
}

/// Completes when `stopped` turns true (or its sender is gone).
async fn wait(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|s| *s).await;
}

/// The shared store's sweep: every `period`, up to `batch` of the swarms this instance served
/// lately lose their expired peers (Redis's key expiry frees the rest).
async fn sweep_shared(tracker: Arc<Tracker>, period: Duration, batch: usize, stopped: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    let stop = wait(stopped);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = ticks.tick() => {
                let dropped = tracker.sweep_shared(batch).await;
                tracing::debug!(dropped, "shared store swept");
            }
        }
    }
}

/// Runs `job` every `period` until `stopped`.
async fn every(period: Duration, stopped: watch::Receiver<bool>, mut job: impl FnMut() + Send + 'static) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    let stop = wait(stopped);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = ticks.tick() => job(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{ListMode, PublicPolicy};

    fn loopback() -> TrackerConfig {
        let mut config = TrackerConfig::default();
        config.http.http_address = "127.0.0.1:0".parse().unwrap();
        config.udp.udp_address = "127.0.0.1:0".parse().unwrap();
        config
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn run_serves_until_shutdown_and_refuses_a_bad_configuration() {
        let policy = Arc::new(PublicPolicy::new(ListMode::Open, None, vec![]).unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn(run(loopback(), policy.clone(), Router::new(), async {
            let _ = stopped.await;
        }));
        let _ = stop.send(());
        running.await.unwrap().unwrap();
        let mut bad = loopback();
        bad.http.trusted_proxies = vec!["10.0.0.0/99".into()];
        let err = run(bad, policy, Router::new(), std::future::pending())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Config(ConfigError::BadCidr(_))), "{err}");
        assert!(err.to_string().contains("10.0.0.0/99"), "{err}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn starts_on_port_zero_serves_both_protocols_and_stops() {
        let mut config = loopback();
        config.http.http_address_v6 = Some("[::1]:0".parse().unwrap());
        config.udp.udp_address_v6 = Some("[::1]:0".parse().unwrap());
        config.udp.udp_workers = 2;
        let policy = Arc::new(PublicPolicy::new(ListMode::Open, None, vec![]).unwrap());
        let tracker = Arc::new(Tracker::new(config.core(), policy, None));
        let extra = Router::new().route("/hello", axum::routing::get(|| async { "hi" }));
        let service = Service::start(&config, tracker, extra).await.unwrap();
        assert_eq!((service.http_addrs().len(), service.udp_addrs().len()), (2, 2));
        for addr in service.http_addrs().to_vec() {
            let body = tokio::task::spawn_blocking(move || {
                use std::io::{Read, Write};
                let mut s = std::net::TcpStream::connect(addr).unwrap();
                s.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .unwrap();
                let mut out = String::new();
                s.read_to_string(&mut out).unwrap();
                out
            })
            .await
            .unwrap();
            assert!(body.ends_with("hi"), "{body}");
        }
        service.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_restart_binds_the_same_port_at_once() {
        let mut config = loopback();
        let policy = Arc::new(PublicPolicy::new(ListMode::Open, None, vec![]).unwrap());
        let tracker = Arc::new(Tracker::new(config.core(), policy, None));
        let first = Service::start(&config, tracker.clone(), Router::new())
            .await
            .unwrap();
        let addr = first.http_addrs()[0];
        // A keep-alive connection the server closes when it stops: its side of the connection
        // then sits in TIME_WAIT on the listening port.
        let client = tokio::task::spawn_blocking(move || {
            use std::io::{Read, Write};
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.write_all(b"GET /stats HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            let mut buf = [0u8; 1024];
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0);
            s
        })
        .await
        .unwrap();
        first.shutdown().await;
        drop(client);
        config.http.http_address = addr;
        let second = Service::start(&config, tracker, Router::new()).await.unwrap();
        assert_eq!(second.http_addrs(), [addr]);
        second.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_configured_limits_reach_the_http_server() {
        let mut config = loopback();
        config.http.idle_timeout = 1;
        config.http.max_connections_per_ip = 1;
        let policy = Arc::new(PublicPolicy::new(ListMode::Open, None, vec![]).unwrap());
        let tracker = Arc::new(Tracker::new(config.core(), policy, None));
        let service = Service::start(&config, tracker, Router::new()).await.unwrap();
        let addr = service.http_addrs()[0];
        let counters = service.stats().connections.clone();
        let (first, second) = tokio::task::spawn_blocking(move || {
            use std::io::Read;
            let mut silent = std::net::TcpStream::connect(addr).unwrap();
            let mut extra = std::net::TcpStream::connect(addr).unwrap();
            silent.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            extra.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            let mut buf = [0u8; 16];
            // The second from the same address is closed at once; the first after 1 s idle.
            let second = extra.read(&mut buf).map(|n| n == 0).unwrap_or(true);
            let first = silent.read(&mut buf).map(|n| n == 0).unwrap_or(true);
            (first, second)
        })
        .await
        .unwrap();
        assert!(
            first && second,
            "idle: {first}, over the per-address cap: {second}"
        );
        use std::sync::atomic::Ordering::Relaxed;
        assert_eq!(counters.refused_per_ip.load(Relaxed), 1);
        assert_eq!(counters.idle_timeouts.load(Relaxed), 1);
        service.shutdown().await;
    }
}
