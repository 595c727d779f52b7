//! Two connections over a simulated link: loss, reordering, duplication and delay on a virtual
//! clock, before any socket is involved. Every byte must arrive once, in order, and the
//! transfer must finish.

use std::collections::BinaryHeap;

use proptest::prelude::*;
use rng::Rng;

use crate::{Config, Connection, Kind, Packet, State};

/// How the link mistreats packets.
#[derive(Debug, Clone, Copy)]
struct Link {
    /// One-way delay, microseconds.
    delay: u64,
    /// Extra random delay up to this (reorders packets), microseconds.
    jitter: u64,
    /// Chance in 1000 that a packet is lost.
    loss: usize,
    /// Chance in 1000 that a packet is delivered twice.
    dup: usize,
}

#[derive(PartialEq, Eq)]
struct InFlight {
    at: u64,
    order: u64,
    to_b: bool,
    bytes: Vec<u8>,
}

impl Ord for InFlight {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (other.at, other.order).cmp(&(self.at, self.order))
    }
}

impl PartialOrd for InFlight {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Sends `a_data` from A to B and `b_data` from B to A over `link`; returns what each side
/// read, the virtual seconds it took and the packets resent.
fn transfer(link: Link, a_data: &[u8], b_data: &[u8], seed: u64) -> (Vec<u8>, Vec<u8>, f64, u64) {
    transfer_from(link, a_data, b_data, seed, 30_000)
}

/// [`transfer`], B's first sequence number `b_seq`.
fn transfer_from(
    link: Link,
    a_data: &[u8],
    b_data: &[u8],
    seed: u64,
    b_seq: u16,
) -> (Vec<u8>, Vec<u8>, f64, u64) {
    let mut rng = Rng::seeded(seed);
    let mut now = 1_000_000u64;
    // A SYN may be lost several times in a row on these links.
    let config = Config {
        syn_retries: 8,
        ..Config::default()
    };
    let mut a = Connection::connect(config.clone(), 7000, now);
    let mut b: Option<Connection> = None;
    let mut wire = BinaryHeap::new();
    let mut order = 0;
    let (mut a_sent, mut b_sent) = (0, 0);
    let (mut a_got, mut b_got) = (Vec::new(), Vec::new());
    let mut buf = Vec::new();
    let mut read = vec![0u8; 64 * 1024];
    for _ in 0..5_000_000 {
        // Applications: write what fits, read what came, close when done.
        a_sent += a.write(&a_data[a_sent..]);
        if a_sent == a_data.len() {
            a.close();
        }
        loop {
            let n = a.read(&mut read);
            if n == 0 {
                break;
            }
            a_got.extend_from_slice(&read[..n]);
        }
        if let Some(b) = b.as_mut() {
            b_sent += b.write(&b_data[b_sent..]);
            if b_sent == b_data.len() {
                b.close();
            }
            loop {
                let n = b.read(&mut read);
                if n == 0 {
                    break;
                }
                b_got.extend_from_slice(&read[..n]);
            }
        }
        // Both send what they may.
        for (conn, to_b) in [(Some(&mut a), true), (b.as_mut(), false)] {
            let Some(conn) = conn else { continue };
            conn.check_counts();
            while conn.poll_transmit(now, &mut buf) {
                let copies = if rng.below(1000) < link.dup { 2 } else { 1 };
                for _ in 0..copies {
                    if rng.below(1000) < link.loss {
                        continue;
                    }
                    order += 1;
                    let jitter = if link.jitter > 0 {
                        rng.next_u64() % link.jitter
                    } else {
                        0
                    };
                    wire.push(InFlight {
                        at: now + link.delay + jitter,
                        order,
                        to_b,
                        bytes: buf.clone(),
                    });
                }
            }
        }
        let done = |c: &Connection| c.state() == State::Closed;
        if done(&a) && b.as_ref().is_some_and(done) {
            let resent = a.resent() + b.as_ref().map_or(0, Connection::resent);
            return (a_got, b_got, (now - 1_000_000) as f64 / 1e6, resent);
        }
        // The next event: a packet arriving or a timer.
        let timers = [a.poll_timeout(), b.as_ref().and_then(Connection::poll_timeout)];
        let next_timer = timers.into_iter().flatten().min();
        let next_packet = wire.peek().map(|p| p.at);
        now = match (next_packet, next_timer) {
            (Some(p), Some(t)) => p.min(t),
            (Some(p), None) => p,
            (None, Some(t)) => t,
            (None, None) => panic!("stuck: nothing in flight and no timer (a {:?})", a.state()),
        };
        while wire.peek().is_some_and(|p| p.at <= now) {
            let p = wire.pop().unwrap();
            let packet = Packet::parse(&p.bytes).unwrap();
            if p.to_b {
                match b.as_mut() {
                    Some(b) => b.handle(&packet, now),
                    None => b = Some(Connection::accept(config.clone(), &packet, b_seq, now)),
                }
            } else {
                a.handle(&packet, now);
            }
        }
        a.on_timeout(now);
        if let Some(b) = b.as_mut() {
            b.on_timeout(now);
        }
    }
    panic!("the transfer did not finish");
}

fn data(n: usize, seed: u64) -> Vec<u8> {
    let mut r = Rng::seeded(seed);
    let mut v = vec![0u8; n];
    r.fill(&mut v);
    v
}

#[test]
fn a_clean_link_carries_both_ways() {
    let (x, y) = (data(300_000, 1), data(100_000, 2));
    let link = Link {
        delay: 10_000,
        jitter: 0,
        loss: 0,
        dup: 0,
    };
    let (a_got, b_got, secs, resent) = transfer(link, &x, &y, 1);
    assert!(b_got == x && a_got == y);
    assert_eq!(resent, 0);
    assert!(secs < 5.0, "{secs} s");
}

#[test]
fn a_lossy_reordering_duplicating_link_still_delivers_everything_once() {
    let (x, y) = (data(500_000, 3), data(50_000, 4));
    let link = Link {
        delay: 25_000,
        jitter: 20_000,
        loss: 50,
        dup: 20,
    };
    let (a_got, b_got, _, resent) = transfer(link, &x, &y, 5);
    assert!(b_got == x, "A→B: {} of {} bytes", b_got.len(), x.len());
    assert!(a_got == y, "B→A: {} of {} bytes", a_got.len(), y.len());
    assert!(resent > 0);
}

#[test]
fn sequence_numbers_wrap_mid_transfer() {
    // B starts 40 packets below the wrap and sends ~145: its numbers pass 65,535 mid-way.
    let y = data(200_000, 6);
    let link = Link {
        delay: 1_000,
        jitter: 500,
        loss: 10,
        dup: 5,
    };
    let (a_got, _, _, _) = transfer_from(link, b"handshake", &y, 7, 65_495);
    assert!(a_got == y);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn any_link_delivers_every_byte_once_in_order(
        size in 1usize..120_000,
        back in 0usize..20_000,
        delay in 1_000u64..100_000,
        jitter in 0u64..50_000,
        loss in 0usize..150,
        dup in 0usize..100,
        seed in any::<u64>(),
    ) {
        let (x, y) = (data(size, seed), data(back, seed ^ 1));
        let (a_got, b_got, _, _) = transfer(Link { delay, jitter, loss, dup }, &x, &y, seed);
        prop_assert!(b_got == x);
        prop_assert!(a_got == y);
    }
}

#[test]
fn a_reader_that_stops_for_a_while_closes_the_window_without_killing_the_connection() {
    let config = Config {
        recv_buffer: 20_000,
        ..Config::default()
    };
    let mut now = 1_000_000u64;
    let mut a = Connection::connect(Config::default(), 1, now);
    let mut buf = Vec::new();
    assert!(a.poll_transmit(now, &mut buf));
    let mut b = Connection::accept(config, &Packet::parse(&buf).unwrap(), 100, now);
    let x = data(200_000, 11);
    let mut sent = 0;
    let mut got = Vec::new();
    let mut read = vec![0u8; 4096];
    // B reads nothing for 120 virtual seconds, then everything.
    for step in 0..200_000u64 {
        sent += a.write(&x[sent..]);
        let reading = now > 121_000_000;
        if reading {
            loop {
                let n = b.read(&mut read);
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&read[..n]);
            }
        }
        let mut to_b = Vec::new();
        while a.poll_transmit(now, &mut buf) {
            to_b.push(buf.clone());
        }
        let mut to_a = Vec::new();
        while b.poll_transmit(now, &mut buf) {
            to_a.push(buf.clone());
        }
        now += 10_000;
        for p in &to_b {
            b.handle(&Packet::parse(p).unwrap(), now);
        }
        for p in &to_a {
            a.handle(&Packet::parse(p).unwrap(), now);
        }
        a.on_timeout(now);
        b.on_timeout(now);
        assert_eq!(a.state(), State::Connected, "step {step}");
        if got.len() == x.len() {
            break;
        }
    }
    assert!(got == x, "{} of {} bytes", got.len(), x.len());
}

/// The packet a full window of out-of-order packets waits on goes again as soon as the
/// selective acks say it is lost, though the window is full: waiting for room would wait for
/// the timer (half a second at least), since nothing else can be acknowledged — the packets
/// past the selective ack's reach stay counted in flight.
#[test]
fn a_lost_packet_ahead_of_a_full_window_goes_again_before_the_timer() {
    let config = Config {
        recv_buffer: 500_000,
        ..Config::default()
    };
    let now = 1_000_000u64;
    let mut a = Connection::connect(Config::default(), 1, now);
    let mut buf = Vec::new();
    assert!(a.poll_transmit(now, &mut buf));
    let mut b = Connection::accept(config, &Packet::parse(&buf).unwrap(), 100, now);
    assert!(b.poll_transmit(now, &mut buf));
    // (The answer to the SYN; b sends nothing else until it hears from a again.)
    a.handle(&Packet::parse(&buf).unwrap(), now);
    assert_eq!(a.state(), State::Connected);
    // A lossless start opens the congestion window past the peer's.
    let mut read = vec![0u8; 1 << 20];
    let warm = data(2_000_000, 4);
    let (mut sent, mut got, mut now) = (0, 0, now);
    while got < warm.len() {
        sent += a.write(&warm[sent..]);
        let mut to_b = Vec::new();
        while a.poll_transmit(now, &mut buf) {
            to_b.push(buf.clone());
        }
        now += 1_000;
        to_b.iter()
            .for_each(|p| b.handle(&Packet::parse(p).unwrap(), now));
        got += b.read(&mut read);
        while b.poll_transmit(now, &mut buf) {
            a.handle(&Packet::parse(&buf).unwrap(), now);
        }
    }
    assert!(a.window() > 500_000, "{}", a.window());
    let x = data(1_000_000, 5);
    let written = a.write(&x);
    let mut to_b = Vec::new();
    while a.poll_transmit(now, &mut buf) {
        to_b.push(buf.clone());
    }
    assert!(
        to_b.len() > 300,
        "a window's worth, past a selective ack's reach: {}",
        to_b.len()
    );
    // The first is lost; the peer holds all the others out of order.
    for p in &to_b[1..] {
        b.handle(&Packet::parse(p).unwrap(), now);
    }
    assert!(
        b.recv_window() < 10_000,
        "the peer's window is all but full: {}",
        b.recv_window()
    );
    let mut to_a = Vec::new();
    while b.poll_transmit(now, &mut buf) {
        to_a.push(buf.clone());
    }
    for p in &to_a {
        a.handle(&Packet::parse(p).unwrap(), now);
    }
    // Without the timer: the lost packet goes again.
    assert!(a.poll_transmit(now, &mut buf), "the lost packet goes now");
    assert_eq!(a.resent(), 1);
    b.handle(&Packet::parse(&buf).unwrap(), now);
    let n = b.read(&mut read);
    assert_eq!(
        n,
        to_b.len() * (1400 - 20),
        "everything in order, {written} written"
    );
    assert_eq!(&read[..n], &x[..n]);
}

/// Acks that repeat the cumulative ack are duplicates (a sign of loss) only when they repeat
/// the window too: one with a new window says the reader made room (RFC 5681's definition).
#[test]
fn window_updates_are_not_duplicate_acks() {
    let now = 1_000_000u64;
    let mut a = Connection::connect(Config::default(), 1, now);
    let mut buf = Vec::new();
    assert!(a.poll_transmit(now, &mut buf));
    let mut b = Connection::accept(Config::default(), &Packet::parse(&buf).unwrap(), 100, now);
    assert!(b.poll_transmit(now, &mut buf));
    a.handle(&Packet::parse(&buf).unwrap(), now);
    a.write(&data(2_000, 1));
    while a.poll_transmit(now, &mut buf) {}
    let ack = |wnd_size| Packet {
        kind: Kind::State,
        conn_id: 1,
        timestamp: 0,
        timestamp_diff: 0,
        wnd_size,
        seq_nr: 100,
        ack_nr: 1,
        sack: None,
        payload: &[],
    };
    for wnd in [10_000, 20_000, 30_000, 40_000] {
        a.handle(&ack(wnd), now);
    }
    assert!(!a.poll_transmit(now, &mut buf), "nothing goes again");
    for _ in 0..3 {
        a.handle(&ack(40_000), now);
    }
    assert!(
        a.poll_transmit(now, &mut buf),
        "three duplicates: the first packet goes again"
    );
    assert_eq!(a.resent(), 1);
}
