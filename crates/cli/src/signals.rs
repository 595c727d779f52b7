//! How the long-running commands stop: SIGINT or SIGTERM ends them (gracefully, by their
//! own shutdown), SIGHUP asks them to re-read what they cache.

use std::future::Future;

use tokio::signal::unix::{Signal, SignalKind, signal};

/// The signals a server listens to, registered up front (so a failure to register is an
/// error at start-up, and the stop future itself cannot fail).
pub struct Signals {
    term: Signal,
    int: Signal,
    hup: Signal,
}

impl Signals {
    /// Registers SIGTERM, SIGINT and SIGHUP; call inside the runtime.
    pub fn new() -> anyhow::Result<Self> {
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// Completes at SIGINT or SIGTERM, running `on_hangup` for every SIGHUP meanwhile: the
    /// `shutdown` future a server library's `run` takes.
    pub async fn wait_for_stop<F, Fut>(mut self, mut on_hangup: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = ()>,
    {
        loop {
            tokio::select! {
                _ = self.term.recv() => return,
                _ = self.int.recv() => return,
                _ = self.hup.recv() => on_hangup().await,
            }
        }
    }
}
