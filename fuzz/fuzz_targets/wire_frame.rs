//! Any bytes as a peer's stream (BEP 3, 6, 10): never panic; every frame that parses writes
//! back to exactly its bytes; the extension parsers never panic on any payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wire::{Handshake, Limits, Message, Parsed, decode};

fuzz_target!(|data: &[u8]| {
    let _ = Handshake::parse(data);
    let limits = Limits::default();
    let mut rest = data;
    while let Ok(Parsed::Done { value, len }) = decode(rest, &limits) {
        let mut out = Vec::new();
        value.write(&mut out);
        assert_eq!(out, rest[..len]);
        if let Message::Extended { payload, .. } = value {
            let _ = wire::extended::ExtendedHandshake::parse(payload);
            let _ = wire::metadata::MetadataMessage::parse(payload);
            let _ = wire::pex::Pex::parse(payload);
        }
        rest = &rest[len..];
    }
});
