//! Any text as the daemon's request inputs — the Range header, the query string, the Host
//! header — never panics; a range that parses lies inside the file.
#![no_main]

use axum::http::{HeaderMap, HeaderValue, header};
use client_api::auth::Auth;
use client_api::params::Params;
use client_api::routes::stream::range;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let len = u64::from(data.first().copied().unwrap_or(0)) * 1000 + 1;
    if let Ok(value) = HeaderValue::from_str(text) {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, value);
        if let Ok(Some((start, end))) = range(&h, len) {
            assert!(start < end && end <= len, "{start}..{end} of {len}");
        }
    }
    if let Ok(p) = Params::parse(Some(text)) {
        let _ = p.info_hash();
        let _ = p.rate("rate");
        let _ = p.flag("delete", false);
    }
    let auth = Auth::new("token".into(), &["box.lan".into()], 1, 1);
    let _ = auth.host_allowed(Some(text));
});
