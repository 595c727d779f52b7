use proptest::prelude::*;

use super::*;

const SKEY: InfoHash = InfoHash([0x42; 20]);

fn lookup(h: &[u8; 20]) -> Option<InfoHash> {
    (*h == req2(&SKEY)).then_some(SKEY)
}

/// Runs both sides to the end, delivering at most `chunk` bytes at a time.
fn run(
    provide: Methods,
    allowed: Methods,
    pad_a: usize,
    pad_b: usize,
    chunk: usize,
    payload: &[u8],
) -> Result<(Established, Established), MseError> {
    let (mut a, mut to_b) = Initiator::new(SKEY, [1; 20], &vec![0xaa; pad_a], provide, payload);
    let mut b = Responder::new([2; 20], &vec![0xbb; pad_b], allowed);
    let mut to_a = Vec::new();
    let (mut done_a, mut done_b) = (None, None);
    for _ in 0..10_000 {
        if done_a.is_some() && done_b.is_some() {
            break;
        }
        if done_b.is_none() && !to_b.is_empty() {
            let n = chunk.min(to_b.len());
            let p = b.receive(&to_b[..n], lookup)?;
            to_b.drain(..n);
            to_a.extend_from_slice(&p.send);
            done_b = done_b.or(p.done);
        }
        if done_a.is_none() && !to_a.is_empty() {
            let n = chunk.min(to_a.len());
            let p = a.receive(&to_a[..n])?;
            to_a.drain(..n);
            to_b.extend_from_slice(&p.send);
            done_a = done_a.or(p.done);
        }
    }
    Ok((done_a.expect("initiator done"), done_b.expect("responder done")))
}

#[test]
fn rc4_is_chosen_when_both_allow_it_and_the_payload_arrives() {
    let (a, b) = run(Methods::BOTH, Methods::BOTH, 17, 300, 1000, b"hello handshake").unwrap();
    assert_eq!((a.method, b.method), (Method::Rc4, Method::Rc4));
    assert_eq!(b.skey, SKEY);
    assert_eq!(b.received, b"hello handshake");
    let (mut ea, mut db) = (a.encrypt.unwrap(), b.decrypt.unwrap());
    let mut msg = *b"piece data";
    ea.apply(&mut msg);
    assert_ne!(&msg, b"piece data");
    db.apply(&mut msg);
    assert_eq!(&msg, b"piece data");
    let (mut eb, mut da) = (b.encrypt.unwrap(), a.decrypt.unwrap());
    let mut back = *b"reply";
    eb.apply(&mut back);
    da.apply(&mut back);
    assert_eq!(&back, b"reply");
}

#[test]
fn plaintext_is_chosen_when_only_it_is_common() {
    let (a, b) = run(Methods::BOTH, Methods::PLAINTEXT, 0, 0, 7, b"hs").unwrap();
    assert_eq!((a.method, b.method), (Method::Plaintext, Method::Plaintext));
    assert!(a.encrypt.is_none() && b.decrypt.is_none());
    assert_eq!(
        b.received, b"hs",
        "the initial payload is decrypted even for plaintext"
    );
}

#[test]
fn no_common_method_is_refused() {
    let e = run(Methods::RC4, Methods::PLAINTEXT, 0, 0, 4096, b"").unwrap_err();
    assert_eq!(
        e,
        MseError::NoCommonMethod {
            offered: 2,
            allowed: 1
        }
    );
}

#[test]
fn an_unknown_torrent_is_refused() {
    let (_, first) = Initiator::new(InfoHash([9; 20]), [1; 20], &[], Methods::BOTH, b"");
    let mut b = Responder::new([2; 20], &[], Methods::BOTH);
    let reply = b.receive(&first, lookup).unwrap();
    assert!(reply.send.len() >= 96);
    // Drive the initiator to produce step 3, then give it to B.
    let (mut a, _) = Initiator::new(InfoHash([9; 20]), [1; 20], &[], Methods::BOTH, b"");
    let step3 = a.receive(&reply.send).unwrap().send;
    assert_eq!(b.receive(&step3, lookup).unwrap_err(), MseError::UnknownTorrent);
}

#[test]
fn a_missing_marker_fails_within_the_padding_limit() {
    let (_, first) = Initiator::new(SKEY, [1; 20], &[], Methods::BOTH, b"");
    let mut b = Responder::new([2; 20], &[], Methods::BOTH);
    b.receive(&first, lookup).unwrap();
    // 531 bytes of noise could still be padding plus part of the marker; 532 cannot.
    assert!(b.receive(&[0x55; 531], lookup).is_ok());
    assert_eq!(b.receive(&[0x55], lookup).unwrap_err(), MseError::NoSync);
    assert_eq!(b.receive(&[0x55], lookup).unwrap_err(), MseError::Over);
}

#[test]
fn a_trivial_public_key_is_refused() {
    let mut b = Responder::new([2; 20], &[], Methods::BOTH);
    let mut key = [0u8; 96];
    key[95] = 1;
    assert_eq!(b.receive(&key, lookup).unwrap_err(), MseError::BadKey);
}

#[test]
fn a_selection_we_did_not_offer_is_refused() {
    // B allows only plaintext and A offered only RC4: B refuses; force B's answer instead by
    // offering plaintext only from A while B would pick RC4 — B cannot, so check A's side
    // with a forged step 4.
    let (mut a, first) = Initiator::new(SKEY, [1; 20], &[], Methods::RC4, b"");
    let mut b = Responder::new([2; 20], &[], Methods::BOTH);
    let yb = b.receive(&first, lookup).unwrap().send;
    let step3 = a.receive(&yb).unwrap().send;
    // B's real step 4 says RC4; replay with the select field flipped to plaintext.
    let step4 = b.receive(&step3, lookup).unwrap().send;
    let mut forged = step4.clone();
    forged[8 + 3] ^= 0x03; // 2 → 1, still encrypted consistently (XOR of the plaintexts)
    assert_eq!(a.receive(&forged).unwrap_err(), MseError::BadSelect(1));
}

#[test]
fn plaintext_detection_needs_twenty_matching_bytes() {
    let hs = b"\x13BitTorrent protocol\0\0\0\0\0\0\0\0";
    assert_eq!(looks_plaintext(&hs[..1]), None);
    assert_eq!(looks_plaintext(&hs[..19]), None);
    assert_eq!(looks_plaintext(&hs[..20]), Some(true));
    assert_eq!(looks_plaintext(&hs[..]), Some(true));
    assert_eq!(looks_plaintext(b"\x13Bit"), None);
    assert_eq!(looks_plaintext(b"\x13Bx"), Some(false));
    assert_eq!(looks_plaintext(&[0x42; 96]), Some(false));
}

proptest! {
    #[test]
    fn any_padding_and_fragmentation_establishes(
        pad_a in 0usize..=512,
        pad_b in 0usize..=512,
        chunk in 1usize..700,
        payload in proptest::collection::vec(any::<u8>(), 0..200),
        provide in 1u32..=3,
        allowed in 1u32..=3,
    ) {
        let common = provide & allowed;
        match run(Methods(provide), Methods(allowed), pad_a, pad_b, chunk, &payload) {
            Ok((a, b)) => {
                prop_assert!(common != 0);
                let want = if common & 2 != 0 { Method::Rc4 } else { Method::Plaintext };
                prop_assert_eq!(a.method, want);
                prop_assert_eq!(b.method, want);
                prop_assert_eq!(&b.received, &payload);
            }
            Err(e) => {
                prop_assert_eq!(common, 0);
                prop_assert_eq!(e, MseError::NoCommonMethod { offered: provide, allowed });
            }
        }
    }

    #[test]
    fn noise_never_panics_and_fails_in_bounded_bytes(noise in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let mut b = Responder::new([2; 20], &[], Methods::BOTH);
        let mut failed_at = None;
        for (i, byte) in noise.iter().enumerate() {
            if b.receive(&[*byte], lookup).is_err() {
                failed_at = Some(i);
                break;
            }
        }
        if let Some(i) = failed_at {
            prop_assert!(i <= 96 + 532);
        } else {
            prop_assert!(noise.len() < 96 + 532);
        }
        let (mut a, _) = Initiator::new(SKEY, [1; 20], &[], Methods::BOTH, b"");
        let _ = a.receive(&noise);
    }
}
