//! The node's id and known nodes, kept between runs in `DhtConfig::state_file`.

use std::io;

use dht::SavedState;

use super::Shared;

impl Shared {
    /// The id and the good and questionable nodes, nearest buckets first.
    fn saved_state(&self) -> SavedState {
        let s = self.state();
        let mut nodes: Vec<&dht::Node> = s.node.table4.nodes().chain(s.node.table6.nodes()).collect();
        nodes.sort_by_key(|n| std::cmp::Reverse(s.node.id.common_prefix(&n.id)));
        SavedState {
            id: s.node.id,
            nodes: nodes.into_iter().map(|n| n.addr).collect(),
        }
    }

    pub(super) async fn save(&self) -> io::Result<()> {
        let Some(path) = self.config.state_file.clone() else {
            return Ok(());
        };
        let bytes = self.saved_state().encode();
        tokio::task::spawn_blocking(move || crate::storage::replace_file(&path, &bytes, 0o600))
            .await
            .map_err(io::Error::other)?
    }
}

/// The saved state, if the file is there and readable (a bad one is logged and ignored: the
/// node starts afresh).
pub(super) async fn read_state(path: &std::path::Path) -> Option<SavedState> {
    let owned = path.to_path_buf();
    let read = tokio::task::spawn_blocking(move || std::fs::read(owned))
        .await
        .unwrap_or_else(|e| Err(io::Error::other(e)));
    let bytes = match read {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot read the DHT state");
            return None;
        }
    };
    match SavedState::decode(&bytes) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "ignoring the DHT state");
            None
        }
    }
}
