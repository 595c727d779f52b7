//! What a server counts about its connections, for `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::prometheus::Exposition;

/// Connection counts of one server (or of several sharing a set: they only add).
#[derive(Debug, Default)]
pub struct ServerCounters {
    /// Connections accepted and served.
    pub accepted: AtomicU64,
    /// Connections open now.
    pub open: AtomicU64,
    /// Connections closed at once because their address already had its share open.
    pub refused_per_ip: AtomicU64,
    /// Connections closed because a request head took longer than the header timeout.
    pub header_timeouts: AtomicU64,
    /// Requests whose body took longer than the body timeout.
    pub body_timeouts: AtomicU64,
    /// Connections closed after the idle timeout (nothing sent, or our reply not read).
    pub idle_timeouts: AtomicU64,
    /// `accept` calls that failed (out of descriptors and the like); each is followed by a
    /// pause before the next.
    pub accept_errors: AtomicU64,
    /// Connections cut at shutdown because the grace period ran out.
    pub cut_at_shutdown: AtomicU64,
}

impl ServerCounters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Appends the counters to a metrics page, each name starting with `prefix` (e.g.
    /// `nexsuj_http`).
    pub fn write_prometheus(&self, prefix: &str, out: &mut Exposition) {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        out.gauge(
            &format!("{prefix}_connections_open"),
            "HTTP connections open now.",
            load(&self.open),
        );
        let counters = [
            (
                "connections_accepted_total",
                "HTTP connections accepted.",
                &self.accepted,
            ),
            (
                "connections_refused_per_ip_total",
                "HTTP connections closed because their address (IPv6: /64) had max_connections_per_ip open.",
                &self.refused_per_ip,
            ),
            (
                "header_timeouts_total",
                "HTTP connections closed because a request head outlasted header_read_timeout.",
                &self.header_timeouts,
            ),
            (
                "body_timeouts_total",
                "HTTP request bodies that outlasted body_read_timeout.",
                &self.body_timeouts,
            ),
            (
                "idle_timeouts_total",
                "HTTP connections closed after idle_timeout with nothing moving.",
                &self.idle_timeouts,
            ),
            (
                "accept_errors_total",
                "Failed accept calls (each followed by a pause).",
                &self.accept_errors,
            ),
            (
                "connections_cut_at_shutdown_total",
                "HTTP connections cut because shutdown_grace ran out.",
                &self.cut_at_shutdown,
            ),
        ];
        for (name, help, c) in counters {
            out.counter(&format!("{prefix}_{name}"), help, load(c));
        }
    }
}
