//! Any bytes: the strict and lenient decoders return a value or an error, never panic; what
//! strict accepts re-encodes to exactly the input, and lenient agrees with it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let strict = bencode::decode(data);
    let lenient = bencode::DecodeOptions::lenient().decode(data);
    if let Ok(v) = &strict {
        assert_eq!(v.to_bytes(), data);
        assert_eq!(lenient.as_ref().ok(), Some(v));
    }
    if let Ok(v) = &lenient {
        // Canonical re-encoding is always strictly valid.
        let canonical = v.to_bytes();
        assert!(bencode::decode(&canonical).is_ok());
    }
    if let Ok((v, rest)) = bencode::DecodeOptions::strict().decode_prefix(data) {
        assert_eq!(v.raw().len() + rest.len(), data.len());
    }
});
