//! The nexsuj DHT (BEP 5, with BEP 32, 42, 43 and 51) as a pure core: no sockets and no
//! clock; every function that needs the time or randomness takes it.
//!
//! - [`krpc`]: KRPC messages, decoded with caps on size and counts and encoded by hand.
//! - [`table`]: the routing table of k-buckets with splitting, replacement caches, node
//!   status, one node per IP per bucket, refresh targets.
//! - [`token`]: `announce_peer` tokens from rotating secrets bound to the asker's IP.
//! - [`store`]: announced peers, capped per torrent, in torrents and in total; BEP 51 samples.
//! - [`lookup`]: iterative lookups with `alpha` queries outstanding.
//! - [`limit`]: packets per source address, counted before decoding.
//! - [`node`]: a node's answers to queries, never much larger than the query for unverified
//!   sources.
//!
//! - [`bep42`]: node ids bound to IP addresses, and the vote on our external address.
//! - [`state`]: the id and nodes saved between runs.
//!
//! The tokio driver is `client::dht`.

pub mod bep42;
pub mod encode;
pub mod krpc;
pub mod limit;
pub mod lookup;
pub mod node;
pub mod state;
pub mod store;
pub mod table;
pub mod token;

pub use krpc::{Body, CompactNode, KrpcError, Message, Method, Query, Response, Want};
pub use lookup::Lookup;
pub use node::{Incoming, Node as DhtNode};
pub use state::SavedState;
pub use store::{PeerStore, StoreLimits};
pub use table::{Heard, Inserted, Node, Status, Table};
pub use token::Tokens;
