//! Several instances, one site: their passkey and torrent caches kept in step through
//! PostgreSQL `LISTEN/NOTIFY`.
//!
//! Each change an instance makes to its cache (a sign-up, a passkey reset, an account
//! disabled, a torrent uploaded, flagged or deleted) is queued ([`Change`], a bounded
//! queue) and sent as `NOTIFY nexsuj_cache, 'u:ID' | 't:HEX'` after the database has it.
//! Every instance listens on one connection of its own and re-reads that one user or
//! torrent when told, so a reset passkey stops working everywhere within a round trip.
//! The listening connection reconnects by itself; whatever was said while it was down is
//! caught by a full reload right after it is back (and by the periodic reload anyway).

use std::time::Duration;

use ids::InfoHash;
use sqlx::Row;
use sqlx::postgres::PgListener;
use tokio::sync::{mpsc, watch};

use crate::Site;
use crate::policy::{TorrentEntry, parse_info_hash};

/// The channel every instance listens on.
pub const CHANNEL: &str = "nexsuj_cache";

/// Changes waiting to be sent; past this the others catch up at their next reload.
pub const OUTBOX: usize = 4096;

/// One cache change, as sent to the other instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A user's passkey or state changed (or the user was created).
    User(i64),
    /// A torrent was registered, changed or removed.
    Torrent(InfoHash),
}

impl Change {
    /// The NOTIFY payload.
    pub fn payload(&self) -> String {
        match self {
            Self::User(id) => format!("u:{id}"),
            Self::Torrent(h) => format!("t:{h}"),
        }
    }

    /// A payload back into a change; `None` for anything else.
    pub fn parse(payload: &str) -> Option<Self> {
        match payload.split_once(':')? {
            ("u", id) => id.parse().ok().map(Self::User),
            ("t", hex) => parse_info_hash(hex).map(Self::Torrent),
            _ => None,
        }
    }
}

impl Site {
    /// Sends this instance's changes and applies the others' until `shutdown` (PostgreSQL
    /// only: with SQLite there is one instance and this returns at once).
    pub(crate) async fn sync_caches(&self, outbox: mpsc::Receiver<Change>, shutdown: watch::Receiver<bool>) {
        let Some(url) = self.state.db.listen_url().map(str::to_owned) else {
            return;
        };
        let mut stop = shutdown.clone();
        let send = self.send_changes(outbox);
        let listen = async {
            tokio::select! {
                () = self.listen_for_changes(&url) => {}
                _ = stop.wait_for(|s| *s) => {}
            }
        };
        let mut stop = shutdown;
        tokio::select! {
            _ = async { tokio::join!(send, listen) } => {}
            _ = stop.wait_for(|s| *s) => {}
        }
    }

    async fn send_changes(&self, mut outbox: mpsc::Receiver<Change>) {
        while let Some(change) = outbox.recv().await {
            let sent = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(change.payload())
                .execute(self.state.db.pool())
                .await;
            if let Err(e) = sent {
                tracing::warn!(error = %e, ?change, "cache change not sent to the other instances");
            }
        }
    }

    async fn listen_for_changes(&self, url: &str) {
        let mut backoff = Duration::from_millis(100);
        loop {
            let mut listener = match connect(url).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "cache sync: cannot listen; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            };
            backoff = Duration::from_millis(100);
            // Whatever was said while nobody listened.
            if let Err(e) = self.reload().await {
                tracing::warn!(error = %e, "cache sync: reload failed");
            }
            loop {
                match listener.try_recv().await {
                    Ok(Some(n)) => match Change::parse(n.payload()) {
                        Some(change) => self.apply(change).await,
                        None => tracing::debug!(payload = n.payload(), "cache sync: unknown change"),
                    },
                    // The connection was lost; the next call reconnects, then reload.
                    Ok(None) => {
                        if let Err(e) = self.reload().await {
                            tracing::warn!(error = %e, "cache sync: reload failed");
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cache sync: listening failed; reconnecting");
                        break;
                    }
                }
            }
        }
    }

    /// Re-reads what `change` names and puts it in this instance's cache.
    async fn apply(&self, change: Change) {
        let db = self.state.db.pool();
        let policy = &self.state.policy;
        let done = match change {
            Change::User(id) => sqlx::query("SELECT passkey, disabled FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(db)
                .await
                .and_then(|row| {
                    let now = row
                        .map(|r| {
                            Ok::<_, sqlx::Error>((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)? != 0))
                        })
                        .transpose()?;
                    policy.apply_user(id, now.as_ref().map(|(p, d)| (p.as_str(), *d)));
                    Ok(())
                }),
            Change::Torrent(h) => {
                sqlx::query("SELECT id, freeleech, double_upload FROM torrents WHERE info_hash = $1")
                    .bind(h.to_string())
                    .fetch_optional(db)
                    .await
                    .and_then(|row| {
                        let entry = row
                            .map(|r| {
                                Ok::<_, sqlx::Error>(TorrentEntry {
                                    id: r.try_get(0)?,
                                    freeleech: r.try_get::<i64, _>(1)? != 0,
                                    double_upload: r.try_get::<i64, _>(2)? != 0,
                                })
                            })
                            .transpose()?;
                        policy.apply_torrent(h, entry);
                        Ok(())
                    })
            }
        };
        if let Err(e) = done {
            tracing::warn!(error = %e, ?change, "cache sync: change not applied (the next reload will)");
        }
    }
}

async fn connect(url: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn payloads_round_trip() {
        for c in [Change::User(42), Change::Torrent(InfoHash([0xab; 20]))] {
            assert_eq!(Change::parse(&c.payload()), Some(c));
        }
        for bad in ["", "u:", "u:x", "t:12", "x:1", "u"] {
            assert_eq!(Change::parse(bad), None, "{bad}");
        }
    }
}
