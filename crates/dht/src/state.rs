//! What a node keeps between runs: its id and the addresses of the nodes in its tables, so
//! that a restart rejoins through nodes it knew rather than through the bootstrap routers
//! alone. Bencoded like libtorrent's DHT state: `node-id`, `nodes` (6-byte IPv4 entries) and
//! `nodes6` (18-byte IPv6 entries).

use std::net::SocketAddr;

use ids::NodeId;

/// Most node addresses saved or read back.
pub const MAX_SAVED: usize = 1000;

/// A node's saved state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedState {
    /// Its id.
    pub id: NodeId,
    /// Nodes it knew, the best first.
    pub nodes: Vec<SocketAddr>,
}

/// Why a saved state was not read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StateError {
    /// Not bencode, or not a dictionary.
    #[error("not a bencoded dictionary")]
    NotADict,
    /// `node-id` missing or not 20 bytes.
    #[error("node-id missing or not 20 bytes")]
    NodeId,
}

impl SavedState {
    /// The bencoded state (at most [`MAX_SAVED`] nodes).
    pub fn encode(&self) -> Vec<u8> {
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for a in self.nodes.iter().take(MAX_SAVED) {
            ids::compact::write(if a.is_ipv4() { &mut v4 } else { &mut v6 }, a);
        }
        let mut out = b"d".to_vec();
        for (key, value) in [("node-id", &self.id.0[..]), ("nodes", &v4), ("nodes6", &v6)] {
            bencode::write_bytes(&mut out, key.as_bytes());
            bencode::write_bytes(&mut out, value);
        }
        out.push(b'e');
        out
    }

    /// Reads a saved state; malformed node entries are skipped, at most [`MAX_SAVED`] kept.
    pub fn decode(bytes: &[u8]) -> Result<Self, StateError> {
        let v = bencode::decode(bytes).map_err(|_| StateError::NotADict)?;
        if v.as_dict().is_none() {
            return Err(StateError::NotADict);
        }
        let id = v
            .get(b"node-id")
            .and_then(|i| i.as_bytes())
            .and_then(|b| <[u8; 20]>::try_from(b).ok())
            .ok_or(StateError::NodeId)?;
        let mut nodes = Vec::new();
        for (key, len) in [(&b"nodes"[..], 6), (&b"nodes6"[..], 18)] {
            let Some(b) = v.get(key).and_then(|x| x.as_bytes()) else {
                continue;
            };
            nodes.extend(
                b.chunks_exact(len)
                    .filter_map(ids::compact::decode)
                    .filter(|a| a.port() != 0),
            );
        }
        nodes.truncate(MAX_SAVED);
        Ok(Self {
            id: NodeId(id),
            nodes,
        })
    }
}
