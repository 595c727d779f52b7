//! Many announces in one pipeline: what a UDP worker took in one `recvmmsg` goes to Redis as
//! one write and comes back as one read, instead of a request (and a wake-up) each. Each
//! announce is still its own script run, atomic on its own; the pipeline only saves the
//! per-request costs on both sides.

use redis::{ErrorKind, RedisResult, ServerErrorKind, Value};
use tracker_proto::common::ResponsePeer;

use super::connection::Backend;
use super::{ANNOUNCE, SharedError, SharedSwarms, parse_announce};
use crate::swarm::{Announce, AnnounceOutcome};

impl SharedSwarms {
    /// Whether [`SharedSwarms::announce_many`] pipelines (one Redis server); a cluster
    /// spreads swarms over nodes, so its announces go one by one, concurrently.
    pub fn pipelines(&self) -> bool {
        matches!(self.backend, Backend::Single(_))
    }

    /// One EVALSHA per announce, each command's result kept apart.
    pub(super) fn announce_pipeline(&self, batch: &[(Announce, bool)]) -> redis::Pipeline {
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for (a, named) in batch {
            let keys = self.keys(&a.info_hash);
            let mut cmd = redis::cmd("EVALSHA");
            cmd.arg(ANNOUNCE.get_hash());
            self.announce_args(&mut cmd, &keys, a, *named, self.next_seed());
            pipe.add_command(cmd);
        }
        pipe
    }

    /// [`SharedSwarms::announce`] for each of `batch` ((announce, named)), the peers of the
    /// i-th appended to `outs[i]`. `Err` only when the whole pipeline failed (Redis down);
    /// one announce's own failure is its own `Err`.
    pub async fn announce_many(
        &self,
        batch: &[(Announce, bool)],
        outs: &mut [Vec<ResponsePeer>],
    ) -> Result<Vec<Result<AnnounceOutcome, SharedError>>, SharedError> {
        let pipe = self.announce_pipeline(batch);
        let replies: Vec<RedisResult<Value>> = self.backend.query_pipeline(&pipe).await?;
        let mut results = Vec::with_capacity(batch.len());
        for ((reply, (a, named)), out) in replies.into_iter().zip(batch).zip(outs.iter_mut()) {
            results.push(match reply {
                Ok(v) => parse_announce(v, out),
                // Redis restarted (or flushed its scripts) under this batch: these did not run;
                // one by one they load it again.
                Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                    self.announce(a, *named, out).await
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
