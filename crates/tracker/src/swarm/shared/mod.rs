//! The shared swarm store: swarms in Redis (one server or a Redis Cluster), so that several
//! tracker instances behind a load balancer answer as one.
//!
//! What chihaya's Redis store got wrong, and what this one does instead:
//! - **One round trip, atomic.** An announce is one server-side script (EVALSHA): the peer
//!   upserted by address, moved between the seeder and leecher sets, `completed` counted and
//!   the reply sampled, all in one step no other instance can interleave with. Counts are
//!   the sets' sizes, never counters kept beside them, so nothing can drift below zero.
//! - **Cost independent of swarm size.** `ZRANDMEMBER` samples O(numwant) peers; counts are
//!   `ZCOUNT` over a score range (O(log n)); nothing lists a swarm.
//! - **Redis's clock.** Last-seen scores and the accounting baseline's age come from `TIME`
//!   inside the script: instances whose clocks disagree still age peers alike.
//! - **No keyspace scans.** Each announce trims a few expired peers of its swarm; a bounded
//!   sweep revisits the swarms this instance has served ([`local`]); every key of a swarm
//!   expires on its own a little after its last announce.
//! - **One slot per swarm.** Keys are `PREFIX:{HEX}:s|l|p|c` (seeders, leechers, records,
//!   completed): the hash tag puts a swarm on one Redis Cluster shard, so its script may run
//!   there. The completed count has a TTL of its own (refreshed by every announce), so it
//!   survives a swarm emptying.
//!
//! Records are keyed by the peer's address (6 bytes for IPv4, 18 for IPv6: IP then port);
//! the value holds its peer id, its completed/seeder flags and the accounting baseline
//! (time, uploaded, downloaded) the private tracker turns into deltas.

mod batch;
mod blocking;
mod connection;
pub mod local;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU32, Ordering};

use ids::InfoHash;
use redis::{Script, Value};
use tracker_proto::common::{AnnounceEvent, ResponsePeer, ScrapeStats};

pub use blocking::BlockingLink;
pub use connection::{Backend, SharedUrlError};

use super::{Announce, AnnounceOutcome, Traffic, Turned};

const ANNOUNCE_LUA: &str = include_str!("announce.lua");
const SCRAPE_LUA: &str = include_str!("scrape.lua");
const SWEEP_LUA: &str = include_str!("sweep.lua");
static ANNOUNCE: LazyLock<Script> = LazyLock::new(|| Script::new(ANNOUNCE_LUA));
static SCRAPE: LazyLock<Script> = LazyLock::new(|| Script::new(SCRAPE_LUA));
static SWEEP: LazyLock<Script> = LazyLock::new(|| Script::new(SWEEP_LUA));

/// Expired peers each announce trims from each list of its swarm.
const TRIM_PER_ANNOUNCE: u32 = 8;

/// Expired peers a sweep drops from each list of one swarm (Lua's `unpack` takes a few
/// thousand at most).
pub const SWEEP_PER_SWARM: u32 = 1000;

/// How the shared store is reached and what it keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedConfig {
    /// `redis://HOST:PORT[/DB]` for one server, `redis+cluster://HOST:PORT,HOST:PORT` for a
    /// Redis Cluster (any of its masters; the rest are discovered).
    pub url: String,
    /// Prefix of every key, so that several trackers (or tests) can share one Redis.
    pub prefix: String,
    /// Longest wait for Redis on one request before the announce fails as degraded.
    pub timeout_ms: u64,
    /// Seconds a torrent's `completed` count outlives its last announce.
    pub completed_ttl_secs: u32,
}

impl Default for SharedConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            prefix: "nexsuj".into(),
            timeout_ms: 1000,
            completed_ttl_secs: 90 * 86_400,
        }
    }
}

/// Why the shared store could not answer.
#[derive(Debug, thiserror::Error)]
pub enum SharedError {
    /// Redis refused, timed out or could not be reached.
    #[error("the swarm store (Redis) failed: {0}")]
    Redis(#[from] redis::RedisError),
    /// Redis answered something the scripts never return (another program's keys under our
    /// prefix, or a different script under the same hash).
    #[error("the swarm store (Redis) answered unexpectedly: {0}")]
    Reply(&'static str),
}

/// Swarms in Redis. Cheap to share (`Arc` it); every call is one round trip, pipelined with
/// the calls of other tasks on the same connection.
#[derive(Debug)]
pub struct SharedSwarms {
    backend: Backend,
    prefix: String,
    peer_timeout_secs: u32,
    min_credit_interval: u32,
    completed_ttl_secs: u32,
    /// Sampling offsets: a Weyl sequence from a random start (only spread matters).
    seed: AtomicU32,
    /// For UDP workers' own connections (one Redis server only).
    single_client: Option<redis::Client>,
    /// Longest wait for Redis.
    timeout: std::time::Duration,
}

impl SharedSwarms {
    /// A store on `config.url`; connects lazily (and reconnects with backoff), so a tracker
    /// starts while Redis is down and serves once it is up. Fails only for a bad URL.
    pub fn new(
        config: &SharedConfig,
        peer_timeout_secs: u32,
        min_credit_interval: u32,
    ) -> Result<Self, SharedUrlError> {
        Ok(Self {
            backend: Backend::open(&config.url, config.timeout_ms)?,
            prefix: config.prefix.clone(),
            peer_timeout_secs: peer_timeout_secs.max(1),
            min_credit_interval,
            completed_ttl_secs: config.completed_ttl_secs.max(1),
            seed: AtomicU32::new(u32::from_le_bytes(rng::os_bytes().unwrap_or([7; 4]))),
            single_client: redis::Client::open(config.url.as_str())
                .ok()
                .filter(|_| config.url.starts_with("redis://")),
            timeout: std::time::Duration::from_millis(config.timeout_ms.max(1)),
        })
    }

    /// The keys of one swarm, in the scripts' order: seeders, leechers, records, completed.
    fn keys(&self, h: &InfoHash) -> [String; 4] {
        let tag = format!("{}:{{{}}}:", self.prefix, h);
        ["s", "l", "p", "c"].map(|k| format!("{tag}{k}"))
    }

    /// Records `a` and appends up to `a.numwant` other live peers to `out`, like
    /// [`super::Swarms::announce`]; `named` as in [`super::Swarms::announce_named`].
    pub async fn announce(
        &self,
        a: &Announce,
        named: bool,
        out: &mut Vec<ResponsePeer>,
    ) -> Result<AnnounceOutcome, SharedError> {
        let keys = self.keys(&a.info_hash);
        let seed = self.next_seed();
        let fill = |cmd: &mut redis::Cmd| self.announce_args(cmd, &keys, a, named, seed);
        let reply = self.backend.invoke(&ANNOUNCE, ANNOUNCE_LUA, fill).await?;
        parse_announce(reply, out)
    }

    fn next_seed(&self) -> u32 {
        self.seed.fetch_add(0x9e37_79b9, Ordering::Relaxed) >> 1
    }

    /// The announce script's key count, keys and arguments.
    fn announce_args(&self, cmd: &mut redis::Cmd, keys: &[String; 4], a: &Announce, named: bool, seed: u32) {
        let event = match a.event {
            AnnounceEvent::None => "n",
            AnnounceEvent::Completed => "c",
            AnnounceEvent::Started => "s",
            AnnounceEvent::Stopped => "x",
        };
        cmd.arg(4).arg(&keys[..]);
        cmd.arg(encode_addr(a.addr))
            .arg(&a.peer_id.0[..])
            .arg(event)
            .arg(u8::from(a.transfer.left == 0))
            .arg(a.transfer.uploaded)
            .arg(a.transfer.downloaded)
            .arg(a.numwant)
            .arg(u8::from(named))
            .arg(self.peer_timeout_secs)
            .arg(self.min_credit_interval)
            .arg(self.completed_ttl_secs)
            .arg(TRIM_PER_ANNOUNCE)
            .arg(seed);
    }

    /// The live counts of one torrent (BEP 48).
    pub async fn scrape(&self, h: &InfoHash) -> Result<ScrapeStats, SharedError> {
        let [s, l, _, c] = self.keys(h);
        let fill = |cmd: &mut redis::Cmd| {
            cmd.arg(3).arg(&s).arg(&l).arg(&c).arg(self.peer_timeout_secs);
        };
        let reply = self.backend.invoke(&SCRAPE, SCRAPE_LUA, fill).await?;
        let [complete, incomplete, downloaded] = triple(reply, "scrape")?;
        Ok(ScrapeStats {
            complete: saturate(complete),
            downloaded: saturate(downloaded),
            incomplete: saturate(incomplete),
        })
    }

    /// Drops up to [`SWEEP_PER_SWARM`] expired peers from each list of one swarm; returns
    /// how many, and its seeders and leechers after.
    pub async fn sweep(&self, h: &InfoHash) -> Result<[u64; 3], SharedError> {
        let [s, l, p, _] = self.keys(h);
        let fill = |cmd: &mut redis::Cmd| {
            cmd.arg(3)
                .arg(&s)
                .arg(&l)
                .arg(&p)
                .arg(self.peer_timeout_secs)
                .arg(SWEEP_PER_SWARM);
        };
        let reply = self.backend.invoke(&SWEEP, SWEEP_LUA, fill).await?;
        triple(reply, "sweep")
    }

    /// Deletes every key of one swarm, its completed count included (tests and operators
    /// removing a torrent).
    pub async fn forget(&self, h: &InfoHash) -> Result<(), SharedError> {
        let keys = self.keys(h);
        let mut cmd = redis::cmd("DEL");
        cmd.arg(&keys[..]);
        let _: i64 = self.backend.query(&cmd).await?;
        Ok(())
    }
}

/// The announce script's reply (`"8 numbers,…:"` then length-prefixed peer addresses): the
/// outcome, and the peers appended to `out`.
fn parse_announce(reply: Value, out: &mut Vec<ResponsePeer>) -> Result<AnnounceOutcome, SharedError> {
    let bad = || SharedError::Reply("announce: not a reply of the announce script");
    let Value::BulkString(bytes) = reply else {
        return Err(bad());
    };
    let colon = bytes.iter().position(|b| *b == b':').ok_or_else(bad)?;
    let head = std::str::from_utf8(&bytes[..colon]).map_err(|_| bad())?;
    let mut fields = [0u64; 8];
    let mut numbers = head.split(',');
    for f in &mut fields {
        *f = numbers.next().and_then(|n| n.parse().ok()).ok_or_else(bad)?;
    }
    let [
        complete,
        incomplete,
        has_previous,
        uploaded,
        downloaded,
        elapsed,
        early,
        taken,
    ] = fields;
    let outcome = AnnounceOutcome {
        complete: saturate(complete),
        incomplete: saturate(incomplete),
        previous: (has_previous == 1).then_some(Traffic { uploaded, downloaded }),
        elapsed: saturate(elapsed),
        early: early == 1,
        turned: (taken == 1).then_some(Turned::AddressTaken),
    };
    let mut rest = &bytes[colon + 1..];
    while let Some((&len, tail)) = rest.split_first() {
        let addr = tail
            .get(..usize::from(len))
            .and_then(decode_addr)
            .ok_or_else(bad)?;
        out.push(ResponsePeer { addr, peer_id: None });
        rest = &tail[usize::from(len)..];
    }
    Ok(outcome)
}

fn triple(reply: Value, what: &'static str) -> Result<[u64; 3], SharedError> {
    match reply {
        Value::Array(v) if v.len() == 3 => {
            let n = |i: usize| as_u64(&v[i]).ok_or(SharedError::Reply(what));
            Ok([n(0)?, n(1)?, n(2)?])
        }
        _ => Err(SharedError::Reply(what)),
    }
}

/// The peer's address as the record key: IPv4 (4 bytes) or IPv6 (16), then the port.
fn encode_addr(addr: SocketAddr) -> Vec<u8> {
    let mut out = match addr.ip() {
        IpAddr::V4(ip) => ip.octets().to_vec(),
        IpAddr::V6(ip) => ip.octets().to_vec(),
    };
    out.extend_from_slice(&addr.port().to_be_bytes());
    out
}

fn decode_addr(b: &[u8]) -> Option<SocketAddr> {
    let port = |p: &[u8]| u16::from_be_bytes([p[0], p[1]]);
    match b.len() {
        6 => {
            let ip: [u8; 4] = b[..4].try_into().ok()?;
            Some(SocketAddr::new(Ipv4Addr::from(ip).into(), port(&b[4..])))
        }
        18 => {
            let ip: [u8; 16] = b[..16].try_into().ok()?;
            Some(SocketAddr::new(Ipv6Addr::from(ip).into(), port(&b[16..])))
        }
        _ => None,
    }
}

/// An integer reply, or a decimal bulk string (the scripts return byte counters as strings:
/// Lua numbers are doubles).
fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Int(n) => u64::try_from(*n).ok(),
        Value::BulkString(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        _ => None,
    }
}

fn saturate(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod servers_tests;
#[cfg(test)]
pub(crate) mod tests;
