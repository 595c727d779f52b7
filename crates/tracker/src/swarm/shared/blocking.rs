//! A UDP worker's own connection to one Redis server, used from the worker thread itself:
//! the announces of a `recvmmsg` batch go out as one pipeline and the thread waits for the
//! replies, then answers with one `sendmmsg`. No task, no channel, no other thread wakes up
//! per announce; while the worker waits, datagrams gather in the socket's buffer and the next
//! batch is bigger, so the pipeline grows with the load by itself.

use std::time::{Duration, Instant};

use redis::{Connection, ErrorKind, RedisResult, ServerErrorKind, Value};
use tracker_proto::common::ResponsePeer;

use super::connection::stale;
use super::{ANNOUNCE_LUA, SharedError, SharedSwarms, parse_announce};
use crate::swarm::{Announce, AnnounceOutcome};

/// Shortest and longest wait between reconnection attempts.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(2));

/// One worker's connection, reconnected with backoff after a failure.
pub struct BlockingLink {
    client: redis::Client,
    conn: Option<Connection>,
    timeout: Duration,
    backoff: Duration,
    retry_at: Instant,
}

impl std::fmt::Debug for BlockingLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingLink")
            .field("connected", &self.conn.is_some())
            .finish_non_exhaustive()
    }
}

impl BlockingLink {
    pub(super) fn new(client: redis::Client, timeout: Duration) -> Self {
        Self {
            client,
            conn: None,
            timeout,
            backoff: BACKOFF.0,
            retry_at: Instant::now(),
        }
    }

    /// The connection, connecting first if there is none (and the backoff allows).
    fn connection(&mut self) -> RedisResult<&mut Connection> {
        if self.conn.is_none() {
            if Instant::now() < self.retry_at {
                return Err(redis::RedisError::from(std::io::Error::other(
                    "reconnecting to the swarm store",
                )));
            }
            match self.connect() {
                Ok(c) => {
                    self.backoff = BACKOFF.0;
                    self.conn = Some(c);
                }
                Err(e) => {
                    self.retry_at = Instant::now() + self.backoff;
                    self.backoff = (self.backoff * 2).min(BACKOFF.1);
                    return Err(e);
                }
            }
        }
        self.conn
            .as_mut()
            .ok_or_else(|| std::io::Error::other("no connection").into())
    }

    fn connect(&self) -> RedisResult<Connection> {
        let conn = self.client.get_connection_with_timeout(self.timeout)?;
        conn.set_read_timeout(Some(self.timeout))?;
        conn.set_write_timeout(Some(self.timeout))?;
        Ok(conn)
    }

    /// Drops the connection after an error that may have left it mid-reply.
    fn failed(&mut self) {
        self.conn = None;
        self.retry_at = Instant::now() + self.backoff;
    }
}

impl SharedSwarms {
    /// A connection for one UDP worker, when the store is one Redis server (a cluster's
    /// workers hand their announces to the runtime instead).
    pub fn blocking_link(&self) -> Option<BlockingLink> {
        let client = self.single_client.clone()?;
        Some(BlockingLink::new(client, self.timeout))
    }

    /// [`SharedSwarms::announce_many`] on the calling thread, through `link`.
    pub fn announce_many_blocking(
        &self,
        link: &mut BlockingLink,
        batch: &[(Announce, bool)],
        outs: &mut [Vec<ResponsePeer>],
    ) -> Result<Vec<Result<AnnounceOutcome, SharedError>>, SharedError> {
        let pipe = self.announce_pipeline(batch);
        // A connection that worked may be stale (Redis restarted since): one fresh try at
        // once, and only then the batch fails as degraded.
        let had_connection = link.conn.is_some();
        let mut replies: RedisResult<Vec<RedisResult<Value>>> = link.connection().and_then(|c| pipe.query(c));
        if replies.as_ref().is_err_and(|e| had_connection && stale(e)) {
            link.conn = None;
            replies = link.connection().and_then(|c| pipe.query(c));
        }
        let replies = match replies {
            Ok(r) => r,
            Err(e) => {
                link.failed();
                return Err(e.into());
            }
        };
        let mut results = Vec::with_capacity(batch.len());
        for ((reply, (a, named)), out) in replies.into_iter().zip(batch).zip(outs.iter_mut()) {
            results.push(match reply {
                Ok(v) => parse_announce(v, out),
                // Redis lost its scripts (a restart): EVAL caches the script again.
                Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                    let keys = self.keys(&a.info_hash);
                    let mut cmd = redis::cmd("EVAL");
                    cmd.arg(ANNOUNCE_LUA);
                    self.announce_args(&mut cmd, &keys, a, *named, self.next_seed());
                    match link.connection().and_then(|c| cmd.query::<Value>(c)) {
                        Ok(v) => parse_announce(v, out),
                        Err(e) => Err(e.into()),
                    }
                }
                Err(e) => Err(e.into()),
            });
        }
        if results.len() < batch.len() {
            return Err(SharedError::Reply("announce pipeline: replies missing"));
        }
        Ok(results)
    }
}
