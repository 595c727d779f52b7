//! CSRF tokens for the HTML forms: a random nonce lives in an HttpOnly `SameSite=Lax`
//! cookie, and each form carries HMAC-SHA256(site secret, nonce). An attacker who can plant
//! a cookie still cannot compute the matching token without the site's secret.
//!
//! Requests from browsers (they send `Origin` or `Sec-Fetch-Site` on every POST) must carry
//! a valid token; API clients that send neither (scripts, the seed's JSON API) are not
//! browsers and cannot be tricked into a cross-site request.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::secret::{ct_eq, hex};

/// The cookie that holds the nonce.
pub const COOKIE: &str = "nx_csrf";
/// The form field that holds the token.
pub const FIELD: &str = "csrf";

/// Makes and checks tokens with the site's secret key.
#[derive(Clone)]
pub struct CsrfKey([u8; 32]);

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey(..)")
    }
}

impl CsrfKey {
    /// A key from 32 secret bytes.
    pub fn new(key: [u8; 32]) -> Self {
        Self(key)
    }

    /// The token forms must carry for `nonce`.
    pub fn token(&self, nonce: &str) -> String {
        // A 32-byte key is always accepted by HMAC; the fallback is never taken.
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0) else {
            return String::new();
        };
        mac.update(b"nexsuj-csrf:");
        mac.update(nonce.as_bytes());
        hex(&mac.finalize().into_bytes()[..16])
    }

    /// Whether `token` is the one for `nonce` (constant time).
    pub fn verify(&self, nonce: &str, token: &str) -> bool {
        !nonce.is_empty() && ct_eq(self.token(nonce).as_bytes(), token.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_bind_to_nonce_and_key() {
        let k = CsrfKey::new([7; 32]);
        let t = k.token("abc");
        assert_eq!(t.len(), 32);
        assert!(k.verify("abc", &t));
        assert!(!k.verify("abd", &t));
        assert!(!k.verify("", &k.token("")));
        assert!(!CsrfKey::new([8; 32]).verify("abc", &t));
    }
}
