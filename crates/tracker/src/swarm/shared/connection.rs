//! The connection to Redis: one server or a Redis Cluster, chosen by the URL's scheme.
//!
//! Both are one multiplexed connection shared by every task: concurrent announces are
//! pipelined on it, which is what makes one round trip per announce cheap. Both connect
//! lazily and reconnect on their own (one server: exponential backoff from 100 ms to 2 s;
//! the cluster: it refreshes its slot map and reconnects the node that failed), so an
//! outage costs the requests made during it — each gets an error at once or after the
//! response timeout — and nothing after.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClientBuilder, ClusterConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, ErrorKind, FromRedisValue, RedisResult, Script, ServerErrorKind, Value};

/// A Redis URL the store cannot use.
#[derive(Debug, thiserror::Error)]
pub enum SharedUrlError {
    /// Neither `redis://` nor `redis+cluster://`.
    #[error(
        "swarm store URL {0:?}: expected redis://HOST:PORT[/DB] or redis+cluster://HOST:PORT[,HOST:PORT…]"
    )]
    Scheme(String),
    /// The redis crate refused it.
    #[error("swarm store URL {url:?}: {error}")]
    Invalid {
        /// The URL, its password (if any) replaced by `***`.
        url: String,
        /// Why.
        error: redis::RedisError,
    },
}

/// `url` with the password of its user information (`redis://user:secret@host`) replaced by
/// `***`: error messages reach logs, passwords must not.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let hosts = rest.split(',').map(|part| match part.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{name}:***@{host}"),
            None => format!("***@{host}"),
        },
        None => part.to_string(),
    });
    format!("{scheme}://{}", hosts.collect::<Vec<_>>().join(","))
}

/// The connection behind a [`super::SharedSwarms`].
#[derive(Clone)]
pub enum Backend {
    /// One Redis server.
    Single(ConnectionManager),
    /// A Redis Cluster.
    Cluster(ClusterConnection),
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Single(_) => "Backend::Single",
            Self::Cluster(_) => "Backend::Cluster",
        })
    }
}

impl Backend {
    /// A lazily connecting backend for `url`; requests wait at most `timeout_ms` for Redis.
    /// Needs a Tokio runtime (the connection's driver runs on it).
    pub fn open(url: &str, timeout_ms: u64) -> Result<Self, SharedUrlError> {
        let timeout = Duration::from_millis(timeout_ms.max(1));
        let invalid = |error| SharedUrlError::Invalid {
            url: redacted(url),
            error,
        };
        if let Some(nodes) = url.strip_prefix("redis+cluster://") {
            let nodes: Vec<String> = nodes
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(|n| format!("redis://{n}"))
                .collect();
            if nodes.is_empty() {
                return Err(SharedUrlError::Scheme(redacted(url)));
            }
            let client = ClusterClientBuilder::new(nodes)
                .connection_timeout(timeout)
                .response_timeout(timeout)
                .retries(2)
                .min_retry_wait(20)
                .max_retry_wait(500)
                .build()
                .map_err(invalid)?;
            let config = ClusterConfig::new()
                .set_connection_timeout(timeout)
                .set_response_timeout(timeout);
            return Ok(Self::Cluster(
                client.get_pending_async_connection_with_config(config),
            ));
        }
        if !url.starts_with("redis://") {
            return Err(SharedUrlError::Scheme(redacted(url)));
        }
        let client = redis::Client::open(url).map_err(invalid)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_min_delay(Duration::from_millis(100))
            .set_max_delay(Duration::from_secs(2))
            .set_number_of_retries(3);
        ConnectionManager::new_lazy_with_config(client, config)
            .map(Self::Single)
            .map_err(invalid)
    }

    /// Runs `script` (whose source is `code`) by its hash; `fill` appends the key count,
    /// keys and arguments. A node that lacks the script (a restarted Redis, a new cluster
    /// node) gets this call as EVAL, which also caches it: after a restart every announce in
    /// flight would otherwise send SCRIPT LOAD and then retry.
    pub async fn invoke(&self, script: &Script, code: &str, fill: impl Fn(&mut Cmd)) -> RedisResult<Value> {
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(script.get_hash());
        fill(&mut cmd);
        match self.query(&cmd).await {
            Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                let mut cmd = redis::cmd("EVAL");
                cmd.arg(code);
                fill(&mut cmd);
                self.query(&cmd).await
            }
            other => other,
        }
    }

    /// Runs a pipeline (one write, one read); with `ignore_errors` set, each command's
    /// result apart.
    pub async fn query_pipeline<T: FromRedisValue>(&self, pipe: &redis::Pipeline) -> RedisResult<T> {
        match self {
            Self::Single(c) => match pipe.query_async(&mut c.clone()).await {
                Err(e) if stale(&e) => pipe.query_async(&mut c.clone()).await,
                done => done,
            },
            Self::Cluster(c) => pipe.query_async(&mut c.clone()).await,
        }
    }

    /// Runs one command. On one server, a connection error gets one more try: the manager
    /// reconnects after a failure, and the first request after a Redis restart would
    /// otherwise fail on the connection it had.
    pub async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> RedisResult<T> {
        match self {
            Self::Single(c) => match cmd.query_async(&mut c.clone()).await {
                Err(e) if stale(&e) => cmd.query_async(&mut c.clone()).await,
                done => done,
            },
            Self::Cluster(c) => cmd.query_async(&mut c.clone()).await,
        }
    }
}

/// An error of the connection rather than of the command: worth one reconnection.
pub(super) fn stale(e: &redis::RedisError) -> bool {
    (e.is_io_error() || e.is_connection_dropped() || e.is_unrecoverable_error()) && !e.is_timeout()
}
