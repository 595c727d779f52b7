//! Any bytes, in any fragmentation, as what a peer sends during the MSE/PE handshake: neither
//! side panics, and the responder gives up or finishes within the bytes the protocol allows
//! (a key, 512 bytes of padding and the marker, the fields, 512 more of padding, a 64 KiB
//! initial payload) — a hostile peer cannot make it buffer or wait for more.
#![no_main]

use ids::InfoHash;
use libfuzzer_sys::fuzz_target;
use mse::{Initiator, Methods, Responder, req2};

const SKEY: InfoHash = InfoHash([0x5a; 20]);
const MOST: usize = 96 + 532 + 20 + 14 + 512 + 2 + 65_535;

fuzz_target!(|data: &[u8]| {
    let [policy, chunk, rest @ ..] = data else { return };
    let chunk = usize::from(*chunk).max(1);
    let lookup = |h: &[u8; 20]| (*h == req2(&SKEY)).then_some(SKEY);

    let mut responder = Responder::new([5; 20], &[1; 7], Methods(u32::from(policy % 4)));
    let mut fed = 0;
    for part in rest.chunks(chunk) {
        match responder.receive(part, lookup) {
            Ok(p) if p.done.is_some() => break,
            Ok(_) => fed += part.len(),
            Err(_) => break,
        }
        assert!(fed <= MOST, "still waiting after {fed} bytes");
    }

    let (mut initiator, _) = Initiator::new(SKEY, [6; 20], &[2; 3], Methods::BOTH, b"handshake");
    for part in rest.chunks(chunk) {
        match initiator.receive(part) {
            Ok(p) if p.done.is_some() => break,
            Ok(_) => {}
            Err(_) => break,
        }
    }
});
