//! The tracker's announce and scrape logic, shared by the HTTP and UDP servers: ask the
//! access policy, pick the peer's address, record it in the swarm, fold its traffic into the
//! accounting, and fill the reply.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use ids::InfoHash;
use tracker_proto::common::{AnnounceRequest, AnnounceResponse, ScrapeStats};

use crate::access::{AccessPolicy, AccessRequest, Refusal, UserId};
use crate::accounting::{Accumulator, Delta, PeerReport, delta};
use crate::swarm::shared::local::LocalSwarms;
use crate::swarm::shared::{SharedConfig, SharedSwarms, SharedUrlError};
use crate::swarm::{Announce, AnnounceOutcome, SwarmConfig, Swarms, Turned};

/// Announce and scrape rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreConfig {
    /// Seconds between regular announces (`interval`).
    pub interval: u32,
    /// Seconds a client must wait at least (`min interval`).
    pub min_interval: u32,
    /// Peers returned when the client does not say `numwant`.
    pub default_numwant: usize,
    /// Most peers returned, whatever the client asks.
    pub max_numwant: usize,
    /// Whether the `ip` parameter may replace the address the request came from.
    pub honour_ip_param: bool,
    /// Whether BEP 7's `ipv4=` / `ipv6=` (the client's address in the other family) is
    /// recorded as a second entry. Either way, a named address never changes or removes a
    /// record of another peer id.
    pub honour_other_family: bool,
    /// Largest upload or download a single announce may add to a user's totals.
    pub accounting_cap: u64,
    /// Fastest transfer credited, in bytes per second: one announce credits at most this
    /// times the seconds since the peer's counters were last taken.
    pub max_credit_rate: u64,
    /// The swarm store.
    pub swarms: SwarmConfig,
    /// Swarms in Redis instead of memory (see [`Tracker::with_shared_store`], which whoever
    /// builds the tracker calls with this).
    pub shared: Option<SharedConfig>,
}

impl Default for CoreConfig {
    fn default() -> Self {
        Self {
            interval: 1800,
            min_interval: 900,
            default_numwant: 50,
            max_numwant: 200,
            honour_ip_param: false,
            honour_other_family: false,
            accounting_cap: 1 << 40,
            max_credit_rate: MAX_CREDIT_RATE,
            swarms: SwarmConfig::default(),
            shared: None,
        }
    }
}

/// 10 Gbit/s in bytes per second: far above any link a peer really has.
pub const MAX_CREDIT_RATE: u64 = 10_000_000_000 / 8;

/// Running counts, read by `/stats` and `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    /// Announces answered with peers.
    pub announces: AtomicU64,
    /// Scrapes answered.
    pub scrapes: AtomicU64,
    /// Requests refused by the access policy.
    pub refused: AtomicU64,
    /// Announces refused because the accounting queue was full.
    pub backpressure: AtomicU64,
    /// Announces whose traffic jump was capped.
    pub capped: AtomicU64,
    /// Announces refused by the store's limits (`max_torrents`, `max_peers_per_ip`) or
    /// naming another peer's address.
    pub limited: AtomicU64,
    /// Private announces sooner than `min interval`, credited nothing (the traffic is
    /// credited at the next announce that is not early).
    pub early: AtomicU64,
    /// BEP 7 other-family addresses not recorded (not allowed, or another peer's).
    pub other_family_ignored: AtomicU64,
    /// Requests refused because the shared swarm store (Redis) failed or timed out.
    pub degraded: AtomicU64,
}

/// The `failure reason` of an announce or scrape the shared store could not serve: clients
/// retry later, and never mistake an outage for an empty swarm.
pub const DEGRADED: &str = "tracker degraded: its swarm store is unreachable; retry shortly";

/// One announce as a server hands it over.
#[derive(Debug, Clone, Copy)]
pub struct AnnounceInput<'a> {
    /// What the client said.
    pub request: &'a AnnounceRequest,
    /// The passkey, from the query, the path or BEP 41 URL data.
    pub passkey: Option<&'a str>,
    /// The address the request came from (after trusted-proxy handling).
    pub source: IpAddr,
    /// BEP 7: the peer's address in the other IP family (`ipv6=` on an IPv4 announce,
    /// `ipv4=` on an IPv6 one), recorded as a second entry so that peers of both families
    /// can reach a dual-stack client.
    pub other_family: Option<IpAddr>,
}

/// The tracker: swarms, policy and accounting behind one announce/scrape interface.
pub struct Tracker {
    config: CoreConfig,
    swarms: Swarms,
    /// Set when the swarms live in Redis (several instances answering as one); `swarms`
    /// then stays empty.
    shared: Option<Shared>,
    policy: Arc<dyn AccessPolicy>,
    accounting: Option<Arc<Accumulator>>,
    counters: Counters,
    started: Instant,
}

/// The shared store and what this instance remembers of it.
struct Shared {
    store: Arc<SharedSwarms>,
    local: LocalSwarms,
    /// When the last store failure was logged (seconds since start), so an outage logs once
    /// a second, not once a request.
    logged: AtomicU64,
}

/// What every announce needs before the store is asked.
struct Prepared {
    user: Option<UserId>,
    announce: Announce,
    named: bool,
}

impl std::fmt::Debug for Tracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracker")
            .field("config", &self.config)
            .field("counters", &self.counters)
            .finish()
    }
}

impl Tracker {
    /// A tracker; `accounting` is set for private trackers whose site drains the sums.
    pub fn new(
        config: CoreConfig,
        policy: Arc<dyn AccessPolicy>,
        accounting: Option<Arc<Accumulator>>,
    ) -> Self {
        let swarms = Swarms::new(SwarmConfig {
            min_credit_interval: if accounting.is_some() {
                config.min_interval
            } else {
                0
            },
            ..config.swarms
        });
        Self {
            config,
            swarms,
            shared: None,
            policy,
            accounting,
            counters: Counters::default(),
            started: Instant::now(),
        }
    }

    /// Keeps the swarms in `store` (Redis) instead of memory. Announces and scrapes must
    /// then come through [`Tracker::announce_async`] and [`Tracker::scrape_async`].
    pub fn with_shared_store(mut self, config: &SharedConfig) -> Result<Self, SharedUrlError> {
        let min_credit_interval = match self.accounting {
            Some(_) => self.config.min_interval,
            None => 0,
        };
        let store = SharedSwarms::new(config, self.config.swarms.peer_timeout_secs, min_credit_interval)?;
        self.shared = Some(Shared {
            store: Arc::new(store),
            local: LocalSwarms::new(self.config.swarms.max_torrents),
            logged: AtomicU64::new(0),
        });
        Ok(self)
    }

    /// Whether announces to the store can be pipelined (a single Redis server).
    pub fn pipelines(&self) -> bool {
        self.shared.as_ref().is_some_and(|s| s.store.pipelines())
    }

    /// Whether the swarms live in a shared store.
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// Seconds since the tracker started: the one clock both servers and the expiry sweep use.
    pub fn now(&self) -> u32 {
        u32::try_from(self.started.elapsed().as_secs()).unwrap_or(u32::MAX)
    }

    /// Handles an announce at time `now` (seconds since start); on success `resp` holds the
    /// reply (its peer list is cleared first, so servers can reuse one response value).
    pub fn announce(
        &self,
        input: &AnnounceInput<'_>,
        now: u32,
        resp: &mut AnnounceResponse,
    ) -> Result<(), Refusal> {
        let p = self.prepare(input)?;
        resp.peers.clear();
        let outcome = match p.named {
            true => self.swarms.announce_named(&p.announce, now, &mut resp.peers),
            false => self.swarms.announce(&p.announce, now, &mut resp.peers),
        };
        self.refuse_turned(&outcome)?;
        if let Some(other) = self.other_family(input, &p.announce) {
            let dual = Announce {
                addr: SocketAddr::new(other, p.announce.addr.port()),
                numwant: 0,
                ..p.announce
            };
            if self
                .swarms
                .announce_named(&dual, now, &mut resp.peers)
                .turned
                .is_some()
            {
                self.bump(&self.counters.other_family_ignored);
            }
        }
        self.complete(&p, input, &outcome, resp);
        Ok(())
    }

    /// The policy check, the backpressure check and the store's view of the announce.
    fn prepare(&self, input: &AnnounceInput<'_>) -> Result<Prepared, Refusal> {
        let req = input.request;
        let access = AccessRequest {
            info_hash: &req.info_hash,
            peer_id: &req.peer_id,
            passkey: input.passkey,
        };
        let user = self
            .policy
            .check_announce(&access)
            .inspect_err(|_| self.bump(&self.counters.refused))?;
        if let (Some(user), Some(acc)) = (user, &self.accounting) {
            if !acc.has_room(user, req.info_hash) {
                self.bump(&self.counters.backpressure);
                return Err(Refusal::Other("tracker busy, please retry later".into()));
            }
        }
        // An address the client names is believed only where the operator allows it, and
        // even then it may not touch another peer's record.
        let named = match (self.config.honour_ip_param, req.ip) {
            (true, Some(ip)) => Some(ip),
            _ => None,
        };
        let numwant = req
            .numwant
            .map_or(self.config.default_numwant, |n| n as usize)
            .min(self.config.max_numwant);
        let announce = Announce {
            info_hash: req.info_hash,
            peer_id: req.peer_id,
            addr: SocketAddr::new(named.unwrap_or(input.source).to_canonical(), req.port),
            transfer: req.transfer,
            event: req.event,
            numwant,
        };
        Ok(Prepared {
            user,
            announce,
            named: named.is_some(),
        })
    }

    fn refuse_turned(&self, outcome: &AnnounceOutcome) -> Result<(), Refusal> {
        let Some(turned) = outcome.turned else {
            return Ok(());
        };
        self.bump(&self.counters.limited);
        Err(match turned {
            Turned::TooManyTorrents => Refusal::TooManyTorrents,
            Turned::TooManyPeersFromAddress => Refusal::TooManyPeersFromAddress,
            Turned::AddressTaken => Refusal::AddressTaken,
        })
    }

    /// BEP 7: the dual-stack client's address in the other family, when it may be recorded
    /// (counted as ignored when it may not).
    fn other_family(&self, input: &AnnounceInput<'_>, announce: &Announce) -> Option<IpAddr> {
        let other = input.other_family?.to_canonical();
        if other.is_ipv4() == announce.addr.is_ipv4() || other.is_unspecified() {
            return None;
        }
        if !self.config.honour_other_family {
            self.bump(&self.counters.other_family_ignored);
            return None;
        }
        Some(other)
    }

    /// Accounting and the reply's fields, once the store took the announce.
    fn complete(
        &self,
        p: &Prepared,
        input: &AnnounceInput<'_>,
        outcome: &AnnounceOutcome,
        resp: &mut AnnounceResponse,
    ) {
        if let Some(user) = p.user {
            self.account(user, input.request, outcome);
        }
        resp.interval = self.config.interval;
        resp.min_interval = Some(self.config.min_interval);
        resp.complete = outcome.complete;
        resp.incomplete = outcome.incomplete;
        resp.external_ip = Some(input.source.to_canonical());
        self.bump(&self.counters.announces);
    }

    fn account(&self, user: UserId, req: &AnnounceRequest, outcome: &AnnounceOutcome) {
        let Some(acc) = &self.accounting else { return };
        let report = PeerReport {
            event: req.event,
            left: req.transfer.left,
        };
        if outcome.early {
            // Nothing is lost: the swarm kept the older counters as the baseline.
            self.bump(&self.counters.early);
            if acc.add(user, req.info_hash, Delta::default(), report).is_err() {
                self.bump(&self.counters.backpressure);
            }
            return;
        }
        // No peer moves data faster than `max_credit_rate`; a counter that jumps further
        // than the time since the last announce allows is a cheat or a bug.
        let seconds = u64::from(outcome.elapsed.max(1));
        let cap = (self.config.max_credit_rate.saturating_mul(seconds)).min(self.config.accounting_cap);
        let d = delta(outcome.previous, req.transfer, req.event, cap);
        if d.capped {
            self.bump(&self.counters.capped);
            // The user id, never the passkey: passkeys stay out of logs.
            tracing::warn!(
                user = user.0,
                info_hash = %req.info_hash,
                uploaded = req.transfer.uploaded,
                downloaded = req.transfer.downloaded,
                cap,
                "traffic jump capped"
            );
        }
        // Room was checked before the swarm changed; a race with another announce can only
        // lose this one delta, never block.
        if acc.add(user, req.info_hash, d, report).is_err() {
            self.bump(&self.counters.backpressure);
        }
    }

    /// Scrape counts for each info-hash, appended to `out`.
    pub fn scrape(
        &self,
        hashes: &[InfoHash],
        passkey: Option<&str>,
        out: &mut Vec<(InfoHash, ScrapeStats)>,
    ) -> Result<(), Refusal> {
        for h in hashes {
            self.policy
                .check_scrape(h, passkey)
                .inspect_err(|_| self.bump(&self.counters.refused))?;
            out.push((*h, self.swarms.scrape(h)));
        }
        self.bump(&self.counters.scrapes);
        Ok(())
    }

    /// Drops peers not seen within the timeout; returns how many.
    pub fn expire(&self, now: u32) -> usize {
        self.swarms.expire(now)
    }

    /// The swarm store (for totals).
    pub fn swarms(&self) -> &Swarms {
        &self.swarms
    }

    /// The running counts.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The private site's accounting sums, if this tracker has them.
    pub fn accounting(&self) -> Option<&Arc<Accumulator>> {
        self.accounting.as_ref()
    }

    /// The rules in force.
    pub fn config(&self) -> &CoreConfig {
        &self.config
    }

    fn bump(&self, c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod abuse_tests;
mod shared;
#[cfg(test)]
mod tests;
