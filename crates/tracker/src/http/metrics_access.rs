//! Who may read `/stats` and `/metrics`: they tell the world how big the tracker is and how it
//! is doing, so by default only loopback clients (an operator's scraper on the same host, or
//! behind a trusted proxy that says the client is local) may, and others need a bearer token.

use std::net::IpAddr;

use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};

/// A secret that opens the metrics to non-loopback clients; never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MetricsToken(pub String);

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(<redacted>)")
    }
}

/// Whether a client at `client` (already resolved through trusted proxies) with `headers`
/// may read the metrics.
pub fn may_read_metrics(client: IpAddr, headers: &HeaderMap, token: Option<&MetricsToken>) -> bool {
    if client.to_canonical().is_loopback() {
        return true;
    }
    let (Some(token), Some(shown)) = (token, http_server::auth::bearer(headers)) else {
        return false;
    };
    !token.0.is_empty() && http_server::auth::ct_eq(shown, token.0.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header;

    #[test]
    fn loopback_or_the_right_token() {
        let token = MetricsToken("s3cret".into());
        let mut h = HeaderMap::new();
        let remote: IpAddr = "203.0.113.9".parse().unwrap();
        assert!(may_read_metrics("127.0.0.1".parse().unwrap(), &h, None));
        assert!(may_read_metrics("::ffff:127.0.0.1".parse().unwrap(), &h, None));
        assert!(!may_read_metrics(remote, &h, Some(&token)));
        h.insert(header::AUTHORIZATION, "Bearer s3creT".parse().unwrap());
        assert!(!may_read_metrics(remote, &h, Some(&token)));
        h.insert(header::AUTHORIZATION, "Bearer s3cret".parse().unwrap());
        assert!(may_read_metrics(remote, &h, Some(&token)));
        assert!(!may_read_metrics(remote, &h, None));
        assert_eq!(format!("{token:?}"), "MetricsToken(<redacted>)");
    }
}
