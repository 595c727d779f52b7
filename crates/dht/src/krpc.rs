//! KRPC (BEP 5) messages: bencoded dictionaries over UDP, a query (`y=q`), a response (`y=r`)
//! or an error (`y=e`), matched by a transaction id. With BEP 32 (`nodes6`, `want`), BEP 42
//! (`ip`), BEP 43 (`ro`) and BEP 51 (`sample_infohashes`).
//!
//! Decoding is bounded: a packet over [`MAX_PACKET`] bytes is refused before it is parsed,
//! nesting is shallow, and every list is capped ([`MAX_NODES`], [`MAX_VALUES`],
//! [`MAX_SAMPLES`]); a bad packet is an error that still carries its transaction id when it
//! has one, so that the node can answer 203 or 204 as BEP 5 says.

use std::net::SocketAddr;

use bencode::{DecodeOptions, Value};
use ids::{InfoHash, NodeId};

/// Largest packet decoded (a full BEP 51 answer fits in a 1,500-byte frame; 4 KiB leaves room).
pub const MAX_PACKET: usize = 4096;
/// Longest transaction id kept.
pub const MAX_TID: usize = 16;
/// Most nodes read from one `nodes` or `nodes6`.
pub const MAX_NODES: usize = 32;
/// Most peers read from one `values`.
pub const MAX_VALUES: usize = 200;
/// Most info-hashes read from one `samples`.
pub const MAX_SAMPLES: usize = 200;
/// Longest token accepted.
pub const MAX_TOKEN: usize = 64;

/// BEP 5's error codes.
pub mod code {
    /// Generic error.
    pub const GENERIC: i64 = 201;
    /// Server error.
    pub const SERVER: i64 = 202;
    /// Protocol error: a malformed packet, invalid arguments or a bad token.
    pub const PROTOCOL: i64 = 203;
    /// Method unknown.
    pub const METHOD_UNKNOWN: i64 = 204;
}

/// A node as `nodes` / `nodes6` carry it: id and address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CompactNode {
    /// Its id.
    pub id: NodeId,
    /// Its UDP address.
    pub addr: SocketAddr,
}

/// What a query asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// `ping`.
    Ping,
    /// `find_node`.
    FindNode {
        /// The id looked for.
        target: NodeId,
    },
    /// `get_peers`.
    GetPeers {
        /// The torrent.
        info_hash: InfoHash,
    },
    /// `announce_peer`.
    AnnouncePeer {
        /// The torrent.
        info_hash: InfoHash,
        /// The announced port (ignored with `implied_port`).
        port: u16,
        /// Use the packet's source port instead (for peers behind NATs, uTP).
        implied_port: bool,
        /// The token a `get_peers` answer gave.
        token: Vec<u8>,
    },
    /// `sample_infohashes` (BEP 51).
    SampleInfohashes {
        /// Where in the id space to answer from (the nodes returned).
        target: NodeId,
    },
}

/// The methods' names, in the order of [`Method::index`] (for counters by method).
pub const METHOD_NAMES: [&str; 5] = [
    "ping",
    "find_node",
    "get_peers",
    "announce_peer",
    "sample_infohashes",
];

impl Method {
    /// Where the method's name is in [`METHOD_NAMES`].
    pub fn index(&self) -> usize {
        match self {
            Self::Ping => 0,
            Self::FindNode { .. } => 1,
            Self::GetPeers { .. } => 2,
            Self::AnnouncePeer { .. } => 3,
            Self::SampleInfohashes { .. } => 4,
        }
    }

    /// The method's name on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Ping => "ping",
            Self::FindNode { .. } => "find_node",
            Self::GetPeers { .. } => "get_peers",
            Self::AnnouncePeer { .. } => "announce_peer",
            Self::SampleInfohashes { .. } => "sample_infohashes",
        }
    }
}

/// Which families of nodes a query wants back (BEP 32 `want`); both false means "as the
/// query's own family".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Want {
    /// `n4`.
    pub v4: bool,
    /// `n6`.
    pub v6: bool,
}

/// A query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The sender's id.
    pub id: NodeId,
    /// What it asks.
    pub method: Method,
    /// BEP 32 `want`.
    pub want: Want,
}

/// A response: every field any of the methods answers with (the matching query says which to
/// expect).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// The responder's id.
    pub id: NodeId,
    /// IPv4 nodes close to the target.
    pub nodes: Vec<CompactNode>,
    /// IPv6 nodes close to the target (BEP 32).
    pub nodes6: Vec<CompactNode>,
    /// Peers of the torrent (`get_peers`).
    pub values: Vec<SocketAddr>,
    /// The token for a later `announce_peer` (`get_peers`).
    pub token: Option<Vec<u8>>,
    /// Info-hashes the node stores (BEP 51).
    pub samples: Vec<InfoHash>,
    /// Seconds before asking the node for samples again (BEP 51).
    pub interval: Option<i64>,
    /// How many info-hashes the node stores (BEP 51).
    pub num: Option<i64>,
}

/// A message's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// `y=q`.
    Query(Query),
    /// `y=r`.
    Response(Response),
    /// `y=e`: code and message.
    Error(i64, String),
}

/// One KRPC message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Transaction id (at most [`MAX_TID`] bytes).
    pub tid: Vec<u8>,
    /// The body.
    pub body: Body,
    /// The sender's client version (`v`), at most 8 bytes kept.
    pub version: Option<Vec<u8>>,
    /// The address the sender saw us at (BEP 42 `ip`, in responses).
    pub ip: Option<SocketAddr>,
    /// The sender is read-only (BEP 43 `ro=1`): do not add it to a routing table.
    pub read_only: bool,
}

/// Why a packet is not a KRPC message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KrpcError {
    /// Over [`MAX_PACKET`].
    #[error("packet of {0} bytes is over the limit")]
    TooLarge(usize),
    /// Not bencode, or not a dictionary with a transaction id.
    #[error("not a KRPC message: {0}")]
    Malformed(&'static str),
    /// A message with a transaction id but bad contents (answer 203).
    #[error("protocol error: {what}")]
    Protocol {
        /// Its transaction id.
        tid: Vec<u8>,
        /// What is wrong.
        what: &'static str,
    },
    /// A query for a method we do not know (answer 204).
    #[error("method unknown")]
    MethodUnknown {
        /// Its transaction id.
        tid: Vec<u8>,
    },
}

impl KrpcError {
    /// The transaction id and error code to answer with, when an answer is due (never for a
    /// packet without a transaction id, or for a broken response or error).
    pub fn reply(&self) -> Option<(&[u8], i64)> {
        match self {
            Self::Protocol { tid, .. } => Some((tid, code::PROTOCOL)),
            Self::MethodUnknown { tid } => Some((tid, code::METHOD_UNKNOWN)),
            _ => None,
        }
    }
}

fn id(v: Option<&Value<'_>>) -> Option<NodeId> {
    v?.as_bytes()?.try_into().ok().map(NodeId)
}

pub use ids::compact::{decode as compact_addr, write as write_compact_addr};

fn nodes(v: Option<&Value<'_>>, addr_len: usize) -> Result<Vec<CompactNode>, &'static str> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let b = v.as_bytes().ok_or("nodes is not a string")?;
    let each = 20 + addr_len;
    if b.len() % each != 0 {
        return Err("nodes has a partial entry");
    }
    Ok(b.chunks(each)
        .take(MAX_NODES)
        .filter_map(|c| {
            let addr = compact_addr(&c[20..])?;
            Some(CompactNode {
                id: NodeId(c[..20].try_into().ok()?),
                addr,
            })
        })
        .collect())
}

fn response(r: &Value<'_>) -> Result<Response, &'static str> {
    let id = id(r.get(b"id")).ok_or("response without a 20-byte id")?;
    let values = match r.get(b"values") {
        None => Vec::new(),
        Some(v) => v
            .as_list()
            .ok_or("values is not a list")?
            .iter()
            .take(MAX_VALUES)
            .filter_map(|p| compact_addr(p.as_bytes()?))
            .collect(),
    };
    let samples = match r.get(b"samples").map(|s| s.as_bytes()) {
        None => Vec::new(),
        Some(Some(b)) if b.len() % 20 == 0 => b
            .chunks(20)
            .take(MAX_SAMPLES)
            .filter_map(|c| c.try_into().ok().map(InfoHash))
            .collect(),
        Some(_) => return Err("samples is not a multiple of 20 bytes"),
    };
    let token = match r.get(b"token") {
        None => None,
        Some(t) => Some(
            t.as_bytes()
                .filter(|t| t.len() <= MAX_TOKEN)
                .ok_or("bad token")?
                .to_vec(),
        ),
    };
    Ok(Response {
        id,
        nodes: nodes(r.get(b"nodes"), 6)?,
        nodes6: nodes(r.get(b"nodes6"), 18)?,
        values,
        token,
        samples,
        interval: r.get(b"interval").and_then(Value::as_int),
        num: r.get(b"num").and_then(Value::as_int),
    })
}

fn query(name: &[u8], a: &Value<'_>, tid: &[u8]) -> Result<Query, KrpcError> {
    let bad = |what| KrpcError::Protocol {
        tid: tid.to_vec(),
        what,
    };
    let sender = id(a.get(b"id")).ok_or_else(|| bad("query without a 20-byte id"))?;
    let target = |key: &[u8]| id(a.get(key)).ok_or_else(|| bad("missing or bad target or info_hash"));
    let method = match name {
        b"ping" => Method::Ping,
        b"find_node" => Method::FindNode {
            target: target(b"target")?,
        },
        b"get_peers" => Method::GetPeers {
            info_hash: target(b"info_hash")?.into(),
        },
        b"sample_infohashes" => Method::SampleInfohashes {
            target: target(b"target")?,
        },
        b"announce_peer" => {
            let implied_port = a.get(b"implied_port").and_then(Value::as_int).unwrap_or(0) != 0;
            let port = a
                .get(b"port")
                .and_then(Value::as_int)
                .and_then(|p| u16::try_from(p).ok());
            let port = match (port, implied_port) {
                (Some(p), _) => p,
                (None, true) => 0,
                (None, false) => return Err(bad("announce_peer without a port")),
            };
            let token = a
                .get(b"token")
                .and_then(Value::as_bytes)
                .filter(|t| t.len() <= MAX_TOKEN)
                .ok_or_else(|| bad("announce_peer without a token"))?;
            Method::AnnouncePeer {
                info_hash: target(b"info_hash")?.into(),
                port,
                implied_port,
                token: token.to_vec(),
            }
        }
        _ => return Err(KrpcError::MethodUnknown { tid: tid.to_vec() }),
    };
    let mut want = Want::default();
    for w in a
        .get(b"want")
        .and_then(Value::as_list)
        .unwrap_or(&[])
        .iter()
        .take(4)
    {
        match w.as_bytes() {
            Some(b"n4") => want.v4 = true,
            Some(b"n6") => want.v6 = true,
            _ => {}
        }
    }
    Ok(Query {
        id: sender,
        method,
        want,
    })
}

impl Message {
    /// Decodes one packet.
    pub fn decode(packet: &[u8]) -> Result<Self, KrpcError> {
        if packet.len() > MAX_PACKET {
            return Err(KrpcError::TooLarge(packet.len()));
        }
        let opts = DecodeOptions::lenient().max_depth(4).max_input_len(MAX_PACKET);
        let root = opts
            .decode(packet)
            .map_err(|_| KrpcError::Malformed("not bencode"))?;
        let tid = root
            .get(b"t")
            .and_then(Value::as_bytes)
            .filter(|t| t.len() <= MAX_TID)
            .ok_or(KrpcError::Malformed("no transaction id"))?
            .to_vec();
        let bad = |what| KrpcError::Protocol {
            tid: tid.clone(),
            what,
        };
        let body = match root.get(b"y").and_then(Value::as_bytes) {
            Some(b"q") => {
                let name = root
                    .get(b"q")
                    .and_then(Value::as_bytes)
                    .ok_or_else(|| bad("query without q"))?;
                let a = root
                    .get(b"a")
                    .filter(|a| a.as_dict().is_some())
                    .ok_or_else(|| bad("query without a"))?;
                Body::Query(query(name, a, &tid)?)
            }
            Some(b"r") => {
                let r = root.get(b"r").ok_or_else(|| bad("response without r"))?;
                Body::Response(response(r).map_err(bad)?)
            }
            Some(b"e") => {
                let e = root
                    .get(b"e")
                    .and_then(Value::as_list)
                    .ok_or_else(|| bad("error without e"))?;
                let code = e.first().and_then(Value::as_int).unwrap_or(code::GENERIC);
                let msg = e.get(1).and_then(Value::as_bytes).unwrap_or_default();
                let msg = String::from_utf8_lossy(&msg[..msg.len().min(256)]).into_owned();
                Body::Error(code, msg)
            }
            _ => return Err(bad("y is not q, r or e")),
        };
        Ok(Self {
            tid,
            body,
            version: root
                .get(b"v")
                .and_then(Value::as_bytes)
                .map(|v| v[..v.len().min(8)].to_vec()),
            ip: root.get(b"ip").and_then(Value::as_bytes).and_then(compact_addr),
            read_only: root.get(b"ro").and_then(Value::as_int) == Some(1),
        })
    }
}
