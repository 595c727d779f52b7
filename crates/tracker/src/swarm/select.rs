//! Choosing the peers of an announce reply.
//!
//! When a swarm has more candidates than the announcer wants, the reply is a window of
//! `numwant` consecutive records starting at a random offset (wrapping at the end). That costs
//! O(numwant) whatever the swarm's size. Every candidate has the same chance of being in the
//! reply (each lies in exactly `numwant` of the possible windows; when the announcer's own
//! record is skipped, the one just after it gains one window), but neighbours tend to be
//! returned together. That correlation is harmless: peers re-announce every few minutes,
//! `swap_remove` keeps reshuffling the order, and a client only needs *some* live peers.

use std::ops::Range;

use tracker_proto::common::ResponsePeer;

use super::peer::PeerRecord;

pub(crate) use rng::Rng;

/// Appends up to `numwant` records of `parts` (read as one list, `parts[0]` then `parts[1]`)
/// to `out`, never the one at combined index `skip` (the announcer).
///
/// All candidates if they are no more than `numwant`; otherwise a random window (see the
/// module doc), which never repeats a record because it stops before wrapping onto itself.
pub(crate) fn sample(
    parts: [&[PeerRecord]; 2],
    skip: Option<usize>,
    numwant: usize,
    rng: &mut Rng,
    out: &mut Vec<ResponsePeer>,
) {
    let len = parts[0].len() + parts[1].len();
    let candidates = len - usize::from(skip.is_some_and(|s| s < len));
    if numwant == 0 || candidates == 0 {
        return;
    }
    if candidates <= numwant {
        out.reserve(candidates);
        push_range(parts, 0..len, skip, candidates, out);
        return;
    }
    out.reserve(numwant);
    // The window runs from `start` to the end of the combined list, then wraps to its start.
    let start = rng.below(len);
    let pushed = push_range(parts, start..len, skip, numwant, out);
    push_range(parts, 0..start, skip, numwant - pushed, out);
}

/// Appends the records at combined indices `range` of `parts`, except `skip`, stopping after
/// `max` of them; returns how many it appended.
fn push_range(
    parts: [&[PeerRecord]; 2],
    range: Range<usize>,
    skip: Option<usize>,
    max: usize,
    out: &mut Vec<ResponsePeer>,
) -> usize {
    let mut pushed = 0;
    let mut base = 0;
    for part in parts {
        let from = range.start.clamp(base, base + part.len());
        let to = range.end.clamp(base, base + part.len());
        let window = part.get(from - base..to - base).unwrap_or_default();
        for (i, rec) in (from..).zip(window) {
            if pushed == max {
                return pushed;
            }
            if Some(i) != skip {
                out.push(rec.response());
                pushed += 1;
            }
        }
        base += part.len();
    }
    pushed
}
