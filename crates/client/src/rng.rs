//! Peer ids (BEP 20) from the workspace's one generator, [`rng::Rng`]: nothing in the peer
//! protocol needs unpredictability beyond "not the same every run".

pub use rng::Rng;

/// A BEP 20 peer id: `-NX0001-` then 12 random alphanumerics.
pub fn peer_id(rng: &mut Rng) -> ids::PeerId {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut id = [0u8; 20];
    id[..8].copy_from_slice(b"-NX0001-");
    for b in &mut id[8..] {
        *b = ALPHABET[rng.below(ALPHABET.len())];
    }
    ids::PeerId(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_ids_follow_bep_20() {
        let mut rng = Rng::seeded(7);
        let a = peer_id(&mut rng);
        let b = peer_id(&mut rng);
        assert!(a.0.starts_with(b"-NX0001-") && a != b);
        assert!(a.0.iter().all(u8::is_ascii_alphanumeric_or_dash));
        assert!(rng.below(0) == 0 && rng.below(5) < 5);
    }

    trait Dash {
        fn is_ascii_alphanumeric_or_dash(&self) -> bool;
    }
    impl Dash for u8 {
        fn is_ascii_alphanumeric_or_dash(&self) -> bool {
            self.is_ascii_alphanumeric() || *self == b'-'
        }
    }
}
