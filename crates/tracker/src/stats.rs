//! What the servers count, and the two ways it is shown: `GET /stats` (JSON) and
//! `GET /metrics` (Prometheus text format 0.0.4, written by hand: a few dozen lines beat a
//! registry crate on the hot path, where a counter is one relaxed atomic add).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use http_server::ServerCounters;
use http_server::prometheus::{Exposition, Kind};
use serde::Serialize;

use crate::engine::Tracker;

/// Requests seen by one server, by outcome.
#[derive(Debug, Default)]
pub struct ProtocolCounters {
    /// Every request or datagram received.
    pub requests: AtomicU64,
    /// Announces answered with peers.
    pub announces: AtomicU64,
    /// Scrapes answered.
    pub scrapes: AtomicU64,
    /// UDP connect requests answered.
    pub connects: AtomicU64,
    /// Requests that could not be parsed (answered with an error saying why).
    pub malformed: AtomicU64,
    /// Requests the access policy refused (answered with its reason).
    pub refused: AtomicU64,
    /// UDP requests with a connection id we did not issue or that expired.
    pub bad_connection_id: AtomicU64,
    /// UDP datagrams dropped unanswered (an address that kept sending bad connection ids,
    /// or a malformed datagram too short to hold a transaction id).
    pub dropped: AtomicU64,
}

impl ProtocolCounters {
    /// Adds one to `counter`.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Counters of both servers and a short history of request totals for rates.
#[derive(Debug)]
pub struct ServerStats {
    /// The HTTP server's counts.
    pub http: ProtocolCounters,
    /// The UDP server's counts.
    pub udp: ProtocolCounters,
    /// The HTTP server's connection counts (timeouts, per-address refusals).
    pub connections: Arc<ServerCounters>,
    /// `/stats` and `/metrics` requests refused (not loopback, no token).
    pub metrics_denied: AtomicU64,
    started: Instant,
    /// (seconds since start, http requests, udp requests), oldest first, for rates.
    samples: Mutex<VecDeque<(f64, u64, u64)>>,
}

/// How many samples are kept for rates; with one sample every [`SAMPLE_SECS`] this is a
/// one-minute window.
const SAMPLES: usize = 13;

/// Seconds between samples (the service samples on a timer; `/stats` adds one too).
pub const SAMPLE_SECS: u64 = 5;

impl Default for ServerStats {
    fn default() -> Self {
        Self {
            http: ProtocolCounters::default(),
            udp: ProtocolCounters::default(),
            connections: Arc::new(ServerCounters::default()),
            metrics_denied: AtomicU64::new(0),
            started: Instant::now(),
            samples: Mutex::new(VecDeque::with_capacity(SAMPLES + 1)),
        }
    }
}

/// The body of `GET /stats`.
#[derive(Debug, Clone, Serialize)]
pub struct StatsReport {
    /// Seconds since the tracker started.
    pub uptime_secs: u64,
    /// Torrents with at least one peer.
    pub torrents: usize,
    /// Peers with the whole torrent.
    pub seeders: usize,
    /// Peers still downloading.
    pub leechers: usize,
    /// Per-protocol counts.
    pub http: ProtocolReport,
    /// Per-protocol counts.
    pub udp: ProtocolReport,
    /// Announces refused because the accounting queue was full.
    pub backpressure: u64,
    /// Announces whose traffic jump was capped.
    pub capped_deltas: u64,
    /// Requests refused because the shared swarm store (Redis) failed.
    pub store_degraded: u64,
    /// Where the swarms live: `memory`, or `redis` (then the counts above are the swarms
    /// this instance served lately).
    pub store: &'static str,
    /// (user, torrent) sums waiting to be written by a private site; absent when public.
    pub accounting_queue: Option<usize>,
}

/// One protocol's counts and its request rate over the last minute.
#[derive(Debug, Clone, Serialize)]
pub struct ProtocolReport {
    /// Requests received.
    pub requests: u64,
    /// Requests per second over the last minute (0 until two samples exist).
    pub requests_per_sec: f64,
    /// Announces answered.
    pub announces: u64,
    /// Scrapes answered.
    pub scrapes: u64,
    /// UDP connects answered.
    pub connects: u64,
    /// Errors by kind.
    pub errors: ErrorReport,
}

/// Errors by kind.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorReport {
    /// Unparseable requests.
    pub malformed: u64,
    /// Refused by the access policy.
    pub refused: u64,
    /// Bad or expired UDP connection ids.
    pub bad_connection_id: u64,
    /// Datagrams dropped unanswered.
    pub dropped: u64,
}

fn load(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}

impl ServerStats {
    /// Records the current request totals for the rate window.
    pub fn sample(&self) {
        let t = self.started.elapsed().as_secs_f64();
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        samples.push_back((t, load(&self.http.requests), load(&self.udp.requests)));
        while samples.len() > SAMPLES {
            samples.pop_front();
        }
    }

    /// Requests per second (HTTP, UDP) between the oldest and newest samples.
    fn rates(&self) -> (f64, f64) {
        let samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        match (samples.front(), samples.back()) {
            (Some(a), Some(b)) if b.0 - a.0 > 0.5 => {
                let dt = b.0 - a.0;
                ((b.1 - a.1) as f64 / dt, (b.2 - a.2) as f64 / dt)
            }
            _ => (0.0, 0.0),
        }
    }

    /// The `/stats` report.
    pub fn report(&self, tracker: &Tracker) -> StatsReport {
        let totals = tracker.totals();
        let (http_rate, udp_rate) = self.rates();
        let c = tracker.counters();
        StatsReport {
            uptime_secs: self.started.elapsed().as_secs(),
            torrents: totals.torrents,
            seeders: totals.seeders,
            leechers: totals.leechers,
            http: protocol(&self.http, http_rate),
            udp: protocol(&self.udp, udp_rate),
            backpressure: load(&c.backpressure),
            capped_deltas: load(&c.capped),
            store_degraded: load(&c.degraded),
            store: if tracker.is_shared() { "redis" } else { "memory" },
            accounting_queue: tracker.accounting().map(|a| a.len()),
        }
    }

    /// The `/metrics` text (Prometheus exposition format 0.0.4).
    pub fn prometheus(&self, tracker: &Tracker) -> String {
        let r = self.report(tracker);
        let mut m = Exposition::new();
        m.gauge(
            "nexsuj_tracker_torrents",
            "Torrents with at least one peer.",
            r.torrents,
        );
        m.gauge(
            "nexsuj_tracker_seeders",
            "Peers with the whole torrent.",
            r.seeders,
        );
        m.gauge("nexsuj_tracker_leechers", "Peers still downloading.", r.leechers);
        m.gauge(
            "nexsuj_tracker_uptime_seconds",
            "Seconds since the tracker started.",
            r.uptime_secs,
        );
        if let Some(q) = r.accounting_queue {
            m.gauge(
                "nexsuj_tracker_accounting_queue",
                "User/torrent sums waiting to be written to the database.",
                q,
            );
        }
        let counters: [(&str, &str, [u64; 2]); 4] = [
            (
                "nexsuj_tracker_requests_total",
                "Requests received.",
                [r.http.requests, r.udp.requests],
            ),
            (
                "nexsuj_tracker_announces_total",
                "Announces answered.",
                [r.http.announces, r.udp.announces],
            ),
            (
                "nexsuj_tracker_scrapes_total",
                "Scrapes answered.",
                [r.http.scrapes, r.udp.scrapes],
            ),
            (
                "nexsuj_tracker_connects_total",
                "UDP connects answered.",
                [r.http.connects, r.udp.connects],
            ),
        ];
        for (name, help, [http, udp]) in counters {
            let mut family = m.family(name, help, Kind::Counter);
            family.sample(&[("protocol", "http")], http);
            family.sample(&[("protocol", "udp")], udp);
        }
        let c = tracker.counters();
        let mut errors = m.family(
            "nexsuj_tracker_errors_total",
            "Requests not answered normally, by protocol and kind.",
            Kind::Counter,
        );
        for (proto, e) in [("http", &r.http.errors), ("udp", &r.udp.errors)] {
            let kinds = [
                ("malformed", e.malformed),
                ("refused", e.refused),
                ("bad_connection_id", e.bad_connection_id),
                ("dropped", e.dropped),
            ];
            for (kind, v) in kinds {
                errors.sample(&[("protocol", proto), ("kind", kind)], v);
            }
        }
        for (kind, v) in [
            ("backpressure", r.backpressure),
            ("capped_delta", r.capped_deltas),
            ("limit", load(&c.limited)),
            ("early_no_credit", load(&c.early)),
            ("other_family_ignored", load(&c.other_family_ignored)),
            ("store_degraded", load(&c.degraded)),
        ] {
            errors.sample(&[("protocol", "any"), ("kind", kind)], v);
        }
        errors.sample(
            &[("protocol", "http"), ("kind", "metrics_denied")],
            load(&self.metrics_denied),
        );
        self.connections.write_prometheus("nexsuj_http", &mut m);
        m.finish()
    }
}

fn protocol(c: &ProtocolCounters, rate: f64) -> ProtocolReport {
    ProtocolReport {
        requests: load(&c.requests),
        requests_per_sec: (rate * 10.0).round() / 10.0,
        announces: load(&c.announces),
        scrapes: load(&c.scrapes),
        connects: load(&c.connects),
        errors: ErrorReport {
            malformed: load(&c.malformed),
            refused: load(&c.refused),
            bad_connection_id: load(&c.bad_connection_id),
            dropped: load(&c.dropped),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::access::{ListMode, PublicPolicy};
    use crate::engine::CoreConfig;

    #[test]
    fn metrics_name_every_counter_once_per_protocol() {
        let policy = Arc::new(PublicPolicy::new(ListMode::Open, None, vec![]).unwrap());
        let t = Tracker::new(CoreConfig::default(), policy, None);
        let s = ServerStats::default();
        ProtocolCounters::bump(&s.udp.connects);
        ProtocolCounters::bump(&s.http.malformed);
        let text = s.prometheus(&t);
        assert!(
            text.contains("nexsuj_tracker_connects_total{protocol=\"udp\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("nexsuj_tracker_errors_total{protocol=\"http\",kind=\"malformed\"} 1\n"));
        assert!(
            !text.contains("accounting_queue"),
            "public trackers have no queue"
        );
        // Every sample line is `name{labels} value` or `name value`.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').unwrap();
            value.parse::<f64>().unwrap();
        }
        let report = s.report(&t);
        assert_eq!((report.udp.connects, report.http.errors.malformed), (1, 1));
        assert_eq!(report.http.requests_per_sec, 0.0);
    }
}
