//! The choking algorithm of BEP 3: every 10 seconds the peers that gave us the most (or,
//! when seeding, took the most) get the regular upload slots; every 30 seconds one more
//! interested peer is unchoked at random (the optimistic unchoke), so newcomers get a chance
//! and better peers are found. Snubbed peers get no regular slot. Pure: the torrent's driver
//! calls it with the peers' numbers.

use crate::picker::PeerKey;
use crate::rng::Rng;

/// What the choker needs to know about one peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// The peer.
    pub key: PeerKey,
    /// It wants data from us.
    pub interested: bool,
    /// Its download rate to us (bytes/s).
    pub down_rate: u64,
    /// Our upload rate to it (bytes/s).
    pub up_rate: u64,
    /// It stopped sending while we waited on it.
    pub snubbed: bool,
}

/// Picks the peers to unchoke. `optimistic` is the current optimistic peer; `rotate` asks for
/// a new one. Returns the unchoked set and the (new) optimistic peer.
pub fn choose(
    peers: &[Candidate],
    slots: usize,
    seeding: bool,
    optimistic: Option<PeerKey>,
    rotate: bool,
    rng: &mut Rng,
) -> (Vec<PeerKey>, Option<PeerKey>) {
    let mut regular: Vec<&Candidate> = peers.iter().filter(|p| p.interested && !p.snubbed).collect();
    regular.sort_by_key(|p| std::cmp::Reverse(if seeding { p.up_rate } else { p.down_rate }));
    let regular_slots = slots.saturating_sub(1).max(usize::from(slots > 0));
    let mut unchoked: Vec<PeerKey> = regular.iter().take(regular_slots).map(|p| p.key).collect();
    let still_there = optimistic.filter(|o| peers.iter().any(|p| p.key == *o && p.interested));
    let optimistic = if rotate || still_there.is_none() {
        let choked: Vec<PeerKey> = peers
            .iter()
            .filter(|p| p.interested && !unchoked.contains(&p.key))
            .map(|p| p.key)
            .collect();
        (!choked.is_empty()).then(|| choked[rng.below(choked.len())])
    } else {
        still_there
    };
    if let Some(o) = optimistic
        && unchoked.len() < slots
        && !unchoked.contains(&o)
    {
        unchoked.push(o);
    }
    (unchoked, optimistic)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(key: PeerKey, down: u64, up: u64) -> Candidate {
        Candidate {
            key,
            interested: true,
            down_rate: down,
            up_rate: up,
            snubbed: false,
        }
    }

    #[test]
    fn best_uploaders_plus_one_optimistic() {
        let mut rng = Rng::seeded(3);
        let mut peers: Vec<_> = (0..8).map(|k| peer(k, k * 10, 100 - k)).collect();
        peers[7].snubbed = true;
        peers[0].interested = false;
        let (on, opt) = choose(&peers, 4, false, None, true, &mut rng);
        assert_eq!(&on[..3], &[6, 5, 4], "fastest to us, snubbed 7 left out");
        let opt = opt.unwrap();
        assert!(on.len() == 4 && on.contains(&opt) && opt != 0);
        // Seeding ranks by our upload rate instead.
        let (on, _) = choose(&peers, 4, true, Some(opt), false, &mut rng);
        assert_eq!(&on[..3], &[1, 2, 3]);
        // The optimistic peer stays until the rotation.
        let (_, again) = choose(&peers, 4, false, Some(opt), false, &mut rng);
        assert_eq!(again, Some(opt));
    }
}
