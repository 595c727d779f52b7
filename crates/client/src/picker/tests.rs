use super::*;

const K: u64 = BLOCK_LEN as u64;

fn picker(pieces: usize, piece_len: u64) -> Picker {
    let total = pieces as u64 * piece_len - 100;
    Picker::new(piece_len, total, Bitfield::new(pieces), Rng::seeded(1))
}

fn finish(p: &mut Picker, reqs: &[BlockRequest], peer: PeerKey) -> Vec<u32> {
    let mut done = Vec::new();
    for r in reqs {
        assert_eq!(p.block_arrived(r, peer), Arrival::Write { cancel: None });
        if p.block_written(r, peer) {
            done.push(r.index);
        }
    }
    done
}

#[test]
fn rarest_first_and_whole_pieces() {
    let mut p = picker(4, 2 * K);
    let all = Bitfield::full(4);
    let mut some = Bitfield::new(4);
    some.set(2, true);
    p.add_availability(&all);
    p.add_availability(&all);
    p.add_availability(&some);
    p.peer_has(1);
    // Piece 0 and 3 are rarest (2 copies); 1 and 2 have 3.
    let mut out = Vec::new();
    p.pick(1, &all, 2, &mut out);
    assert_eq!(out.len(), 2);
    assert!(out[0].index == 0 || out[0].index == 3);
    assert_eq!(out[0].index, out[1].index, "one piece at a time");
    // The last piece is short: 2 blocks, the second 100 bytes short.
    assert_eq!(p.block_len(3, 1), BLOCK_LEN - 100);
}

#[test]
fn partial_pieces_come_first_and_verification_completes() {
    let mut p = picker(3, 2 * K);
    let all = Bitfield::full(3);
    let mut out = Vec::new();
    p.pick(1, &all, 1, &mut out);
    let first = out[0].index;
    let mut out2 = Vec::new();
    p.pick(2, &all, 1, &mut out2);
    assert_eq!(out2[0].index, first, "the started piece is finished first");
    assert!(finish(&mut p, &out, 1).is_empty());
    assert_eq!(finish(&mut p, &out2, 2), vec![first]);
    assert!(!p.is_interesting(&Bitfield::new(3)));
    let mut who = p.verified(first, true);
    who.sort();
    assert_eq!(who, vec![1, 2]);
    assert!(p.have().get(first as usize));
    assert_eq!(p.left(), 4 * K - 100);
}

#[test]
fn sequential_mode_goes_in_order() {
    let mut p = picker(5, K);
    p.set_sequential(true);
    let all = Bitfield::full(5);
    let mut out = Vec::new();
    p.pick(1, &all, 3, &mut out);
    assert_eq!(out.iter().map(|r| r.index).collect::<Vec<_>>(), vec![0, 1, 2]);
}

#[test]
fn a_focus_window_comes_first_in_order_then_the_rest() {
    let mut p = picker(10, K);
    p.set_focus(Some(6..9));
    let all = Bitfield::full(10);
    let mut out = Vec::new();
    p.pick(1, &all, 3, &mut out);
    assert_eq!(out.iter().map(|r| r.index).collect::<Vec<_>>(), vec![6, 7, 8]);
    // A window past the end is cut to the torrent; once it is all taken, the others follow.
    p.set_focus(Some(8..100));
    let mut more = Vec::new();
    p.pick(1, &all, 1, &mut more);
    assert!(!(6..9).contains(&more[0].index), "{more:?}");
    p.set_focus(None);
}

#[test]
fn endgame_asks_twice_and_names_the_other_peer() {
    let mut p = picker(1, 2 * K);
    let all = Bitfield::full(1);
    let mut a = Vec::new();
    p.pick(1, &all, 10, &mut a);
    assert_eq!(a.len(), 2);
    assert!(p.in_endgame());
    let mut b = Vec::new();
    p.pick(2, &all, 10, &mut b);
    assert_eq!(b, a, "endgame duplicates");
    assert_eq!(p.block_arrived(&b[0], 2), Arrival::Write { cancel: Some(1) });
    assert_eq!(p.block_arrived(&a[0], 1), Arrival::Unwanted, "already arriving");
    assert!(!p.block_written(&b[0], 2) && !p.block_written(&a[0], 1));
}

#[test]
fn release_frees_blocks_and_failures_go_to_one_peer() {
    let mut p = picker(2, 2 * K);
    let all = Bitfield::full(2);
    let mut out = Vec::new();
    p.pick(1, &all, 4, &mut out);
    p.release(1);
    let mut again = Vec::new();
    p.pick(2, &all, 4, &mut again);
    assert_eq!(again.len(), 4);
    let done = finish(&mut p, &again[..2], 2);
    assert_eq!(done.len(), 1);
    assert_eq!(p.verified(done[0], false), vec![2]);
    // The failed piece is re-downloaded from one peer only.
    let mut x = Vec::new();
    p.pick(3, &all, 1, &mut x);
    let failed = x.iter().find(|r| r.index == done[0]).copied();
    if let Some(r) = failed {
        let mut y = Vec::new();
        p.pick(4, &all, 10, &mut y);
        assert!(y.iter().all(|q| q.index != r.index), "owned by peer 3");
    }
    // A block nobody asked for, or with the wrong length, is unwanted.
    let bogus = BlockRequest {
        index: 0,
        begin: 1,
        length: 5,
    };
    assert_eq!(p.block_arrived(&bogus, 9), Arrival::Unwanted);
}
