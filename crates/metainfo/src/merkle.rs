//! BEP 52 merkle hashing: SHA-256 over 16 KiB blocks, combined pairwise into a binary tree whose
//! missing leaves are zero hashes.
//!
//! These are pure functions over bytes and hashes; the torrent builder feeds them file data.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// A SHA-256 digest: a leaf, an inner node or a root of a BEP 52 merkle tree.
pub type Hash256 = [u8; 32];

/// The size of a merkle leaf block (BEP 52): 16 KiB.
pub const BLOCK_LEN: usize = 16 * 1024;

/// `BLOCK_LEN` as a `u64`, for byte offsets.
const BLOCK_LEN_U64: u64 = BLOCK_LEN as u64;

/// Tree levels for which the all-zero subtree hash is precomputed; level 63 spans 2^63 leaves,
/// more than any `usize` width can ask for.
const LEVELS: usize = 64;

/// SHA-256 of each 16 KiB block of `data` (the last block may be shorter); none for empty data.
pub fn block_hashes(data: &[u8]) -> Vec<Hash256> {
    let mut out = Vec::with_capacity(data.len().div_ceil(BLOCK_LEN));
    append_block_hashes(data, &mut out);
    out
}

/// Like [`block_hashes`], but appends to `out` so that a caller can reuse one vector.
pub fn append_block_hashes(data: &[u8], out: &mut Vec<Hash256>) {
    out.extend(
        data.chunks(BLOCK_LEN)
            .map(|block| Hash256::from(Sha256::digest(block))),
    );
}

/// The hash of a subtree of `2^level` leaves that are all zero hashes (level 0 is the zero
/// leaf itself).
///
/// Levels of 64 and above saturate at level 63, which no real tree reaches.
pub fn zero_subtree(level: u32) -> Hash256 {
    static TABLE: OnceLock<[Hash256; LEVELS]> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut table = [[0u8; 32]; LEVELS];
        for i in 1..LEVELS {
            table[i] = hash_pair(&table[i - 1], &table[i - 1]);
        }
        table
    });
    table[(level as usize).min(LEVELS - 1)]
}

/// Root of the tree whose leaves are `leaves` followed by zero-hash leaves up to `width`.
///
/// `width` should be a power of two no smaller than `leaves.len()` and at least 1; any other
/// value is rounded up to the next power of two that holds every leaf.
pub fn merkle_root(leaves: &[Hash256], width: usize) -> Hash256 {
    let width = width.max(leaves.len()).max(1).next_power_of_two();
    root_over_padded(leaves, width, 0)
}

/// Piece-layer hash of one piece of a file larger than one piece: the block hashes of `data`
/// padded with zero leaves to `piece_length / BLOCK_LEN` leaves (the last piece of a file is
/// padded the same way).
///
/// `piece_length` should be a power of two of at least [`BLOCK_LEN`]; smaller values count as
/// one block.
pub fn piece_hash_v2(data: &[u8], piece_length: u64) -> Hash256 {
    merkle_root(&block_hashes(data), blocks_per_piece(piece_length))
}

/// `pieces root` of a file larger than one piece, from its piece layer: the layer is padded to
/// a power of two with the root of an all-zero piece subtree.
///
/// An empty layer gives the all-zero piece subtree hash.
pub fn root_from_piece_layer(layer: &[Hash256], piece_length: u64) -> Hash256 {
    let width = layer.len().max(1).next_power_of_two();
    root_over_padded(layer, width, blocks_per_piece(piece_length).trailing_zeros())
}

/// `pieces root` of a file not larger than one piece: the root over its block hashes padded to
/// the next power of two (BEP 52 pads to the number of blocks, not to the piece length).
///
/// Empty data (an empty file, which has no `pieces root`) gives the zero leaf.
pub fn small_file_root(data: &[u8]) -> Hash256 {
    let leaves = block_hashes(data);
    merkle_root(&leaves, leaves.len())
}

/// The number of 16 KiB leaves in one piece, a power of two of at least 1.
fn blocks_per_piece(piece_length: u64) -> usize {
    let blocks = (piece_length / BLOCK_LEN_U64).max(1);
    usize::try_from(blocks)
        .unwrap_or(usize::MAX / 2 + 1)
        .next_power_of_two()
}

/// SHA-256 of `left || right`.
fn hash_pair(left: &Hash256, right: &Hash256) -> Hash256 {
    let mut hasher = Sha256::new();
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// Root over `nodes` at tree level `level` padded with zero subtrees of that level up to
/// `width` nodes (a power of two, at least `nodes.len()`).
fn root_over_padded(nodes: &[Hash256], mut width: usize, mut level: u32) -> Hash256 {
    if nodes.is_empty() {
        return zero_subtree(level + width.trailing_zeros());
    }
    let mut layer = nodes.to_vec();
    while width > 1 {
        let pad = zero_subtree(level);
        let parents = layer.len().div_ceil(2);
        for i in 0..parents {
            let left = layer[2 * i];
            let right = layer.get(2 * i + 1).unwrap_or(&pad);
            layer[i] = hash_pair(&left, right);
        }
        layer.truncate(parents);
        width /= 2;
        level += 1;
    }
    layer[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha256(parts: &[&[u8]]) -> Hash256 {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update(part);
        }
        hasher.finalize().into()
    }

    /// Deterministic bytes from a tiny xorshift.
    fn data(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    /// Reference: the full tree over every block of the file, padded at block level.
    fn naive_root(data: &[u8], width: usize) -> Hash256 {
        let mut layer = block_hashes(data);
        layer.resize(width, [0; 32]);
        while layer.len() > 1 {
            layer = layer.chunks(2).map(|p| sha256(&[&p[0], &p[1]])).collect();
        }
        layer[0]
    }

    #[test]
    fn zero_subtrees_hash_pairs_of_zeros() {
        assert_eq!(zero_subtree(0), [0; 32]);
        assert_eq!(zero_subtree(1), sha256(&[&[0; 64]]));
        let z1 = zero_subtree(1);
        assert_eq!(zero_subtree(2), sha256(&[&z1, &z1]));
        assert_eq!(zero_subtree(500), zero_subtree(63));
    }

    #[test]
    fn block_hashes_split_at_16_kib() {
        let d = data(2 * BLOCK_LEN + 5, 1);
        let hashes = block_hashes(&d);
        assert_eq!(hashes.len(), 3);
        assert_eq!(hashes[0], sha256(&[&d[..BLOCK_LEN]]));
        assert_eq!(hashes[1], sha256(&[&d[BLOCK_LEN..2 * BLOCK_LEN]]));
        assert_eq!(hashes[2], sha256(&[&d[2 * BLOCK_LEN..]]));
        assert!(block_hashes(&[]).is_empty());
        let mut out = vec![[7; 32]];
        append_block_hashes(&d[..10], &mut out);
        assert_eq!(out, vec![[7; 32], sha256(&[&d[..10]])]);
    }

    #[test]
    fn one_block_root_is_its_hash() {
        let d = data(100, 2);
        assert_eq!(small_file_root(&d), sha256(&[&d]));
        assert_eq!(merkle_root(&[sha256(&[&d])], 1), sha256(&[&d]));
    }

    #[test]
    fn two_blocks_root_hashes_the_pair() {
        let d = data(BLOCK_LEN + 1, 3);
        let (a, b) = (sha256(&[&d[..BLOCK_LEN]]), sha256(&[&d[BLOCK_LEN..]]));
        assert_eq!(small_file_root(&d), sha256(&[&a, &b]));
    }

    #[test]
    fn three_blocks_pad_to_four() {
        let d = data(3 * BLOCK_LEN, 4);
        let h: Vec<Hash256> = d.chunks(BLOCK_LEN).map(|c| sha256(&[c])).collect();
        let left = sha256(&[&h[0], &h[1]]);
        let right = sha256(&[&h[2], &[0; 32]]);
        assert_eq!(small_file_root(&d), sha256(&[&left, &right]));
        assert_eq!(merkle_root(&h, 4), sha256(&[&left, &right]));
    }

    #[test]
    fn width_pads_with_zero_subtrees() {
        let d = data(BLOCK_LEN, 5);
        let h = sha256(&[&d]);
        // One real leaf in a tree of 4: ((h, 0), (0, 0)).
        let expected = sha256(&[&sha256(&[&h, &[0; 32]]), &zero_subtree(1)]);
        assert_eq!(merkle_root(&[h], 4), expected);
        assert_eq!(piece_hash_v2(&d, 4 * BLOCK_LEN as u64), expected);
        assert_eq!(merkle_root(&[], 8), zero_subtree(3));
        // A width that is not a power of two rounds up.
        assert_eq!(merkle_root(&[h], 3), expected);
    }

    #[test]
    fn piece_layer_root_matches_the_full_block_tree() {
        let piece_length = 4 * BLOCK_LEN as u64;
        for (len, seed) in [
            (9 * BLOCK_LEN + 77, 6),
            (8 * BLOCK_LEN, 7),
            (4 * BLOCK_LEN + 1, 8),
        ] {
            let d = data(len, seed);
            let layer: Vec<Hash256> = d
                .chunks(piece_length as usize)
                .map(|p| piece_hash_v2(p, piece_length))
                .collect();
            let pieces_pow2 = layer.len().next_power_of_two();
            let expected = naive_root(&d, pieces_pow2 * 4);
            assert_eq!(root_from_piece_layer(&layer, piece_length), expected, "len {len}");
        }
    }

    #[test]
    fn a_file_of_exactly_one_piece_has_the_same_root_either_way() {
        let piece_length = 4 * BLOCK_LEN as u64;
        let d = data(4 * BLOCK_LEN, 9);
        let piece = piece_hash_v2(&d, piece_length);
        assert_eq!(small_file_root(&d), piece);
        assert_eq!(root_from_piece_layer(&[piece], piece_length), piece);
    }

    #[test]
    fn empty_layer_is_a_zero_piece() {
        assert_eq!(root_from_piece_layer(&[], 4 * BLOCK_LEN as u64), zero_subtree(2));
        assert_eq!(small_file_root(&[]), [0; 32]);
    }
}
