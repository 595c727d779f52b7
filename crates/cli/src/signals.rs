//! How the long-running commands stop: SIGINT or SIGTERM ends them (gracefully, by their
//! own shutdown), SIGHUP asks them to re-read what they cache.

use std::future::Future;

use tokio::signal::unix::{SignalKind, signal};

/// Waits for SIGINT or SIGTERM, running `on_hangup` for every SIGHUP meanwhile.
pub async fn wait_for_stop<F, Fut>(mut on_hangup: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    loop {
        tokio::select! {
            _ = term.recv() => return Ok(()),
            _ = int.recv() => return Ok(()),
            _ = hup.recv() => on_hangup().await,
        }
    }
}
