//! Passkeys: the secret in a user's announce URLs. A reset makes a new one (the old one
//! stops working at once); a download is made out to the passkey of the session, or to one
//! given in the query by a client without a session (an RSS reader), if it is known and
//! its account enabled.

use crate::auth::secret::new_passkey;
use crate::db::Db;
use crate::db::users::{self, User};
use crate::error::SiteError;
use crate::policy::SitePolicy;

/// Why a passkey was not accepted or changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PasskeyError {
    /// The passkey of a download is unknown or its account disabled.
    #[error("unknown or disabled passkey")]
    Refused,
    /// The site failed.
    #[error(transparent)]
    Internal(#[from] SiteError),
}

/// The passkey service.
#[derive(Debug, Clone, Copy)]
pub struct Passkeys<'a> {
    /// Accounts.
    pub db: &'a Db,
    /// The tracker's passkey cache.
    pub policy: &'a SitePolicy,
}

impl Passkeys<'_> {
    /// Gives `user` a new passkey and returns it; the tracker refuses the old one from now.
    pub async fn reset(&self, user: &User) -> Result<String, PasskeyError> {
        let passkey = new_passkey()?;
        users::set_passkey(self.db, user.id, &passkey).await?;
        self.policy
            .set_user(user.id, &passkey, user.disabled, Some(&user.passkey));
        Ok(passkey)
    }

    /// The passkey a download is made out to: the logged-in user's, else the one in the
    /// query if it belongs to an enabled account; `Ok(None)` when there is neither (the
    /// client should log in).
    pub fn of_download(
        &self,
        user: Option<&User>,
        given: Option<&str>,
    ) -> Result<Option<String>, PasskeyError> {
        match (user, given) {
            (Some(u), _) => Ok(Some(u.passkey.clone())),
            (None, Some(pk)) => match self.policy.user(pk) {
                Some((_, false)) => Ok(Some(pk.to_owned())),
                _ => Err(PasskeyError::Refused),
            },
            (None, None) => Ok(None),
        }
    }
}

/// A user's personal announce URLs: the HTTP one (`announce`) and the BEP 12 list, which
/// adds the UDP tracker when the site has one (`udp` empty for none) and every `extra` URL
/// (other instances of the tracker), all in one tier: a client tries them in turn and
/// stays with the first that answers, so a stopped instance costs one failed announce.
pub fn announce_urls(base_url: &str, udp: &str, extra: &[String], passkey: &str) -> (String, Vec<String>) {
    let http = format!("{base_url}/announce?auth_key={passkey}");
    let mut list = vec![http.clone()];
    let with_key = |url: &str| {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}auth_key={passkey}")
    };
    let udp = udp.trim();
    if !udp.is_empty() {
        list.push(with_key(udp));
    }
    for url in extra.iter().map(|u| u.trim()).filter(|u| !u.is_empty()) {
        let url = with_key(url);
        if !list.contains(&url) {
            list.push(url);
        }
    }
    (http, list)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::domain::testing;

    #[test]
    fn announce_urls_carry_the_passkey() {
        let (http, list) = announce_urls("http://x", "", &[], "pk");
        assert_eq!(http, "http://x/announce?auth_key=pk");
        assert_eq!(list, vec![http.clone()]);
        let (_, list) = announce_urls("http://x", " udp://x:6969/announce?a=1 ", &[], "pk");
        assert_eq!(list[1], "udp://x:6969/announce?a=1&auth_key=pk");
        let extra = [
            "http://y/announce".to_string(),
            "http://x/announce".into(),
            " ".into(),
        ];
        let (_, list) = announce_urls("http://x", "", &extra, "pk");
        assert_eq!(
            list,
            ["http://x/announce?auth_key=pk", "http://y/announce?auth_key=pk"]
        );
    }

    #[tokio::test]
    async fn a_reset_retires_the_old_passkey_at_once() {
        let (_dir, db) = testing::sqlite().await;
        let old = "0".repeat(32);
        let user = testing::user(&db, "alice", &old).await;
        let policy = SitePolicy::new();
        policy.set_user(user.id, &old, false, None);
        let passkeys = Passkeys {
            db: &db,
            policy: &policy,
        };
        assert_eq!(passkeys.of_download(None, Some(&old)).unwrap(), Some(old.clone()));
        let new = passkeys.reset(&user).await.unwrap();
        assert_ne!(new, old);
        assert_eq!(policy.user(&new), Some((user.id, false)));
        assert!(matches!(
            passkeys.of_download(None, Some(&old)),
            Err(PasskeyError::Refused)
        ));
        let stored = users::by_id(&db, user.id).await.unwrap().unwrap();
        assert_eq!(stored.passkey, new);
        assert_eq!(passkeys.of_download(None, None).unwrap(), None);
        // A session's own passkey wins over one in the query.
        assert_eq!(
            passkeys.of_download(Some(&stored), Some("other")).unwrap(),
            Some(new)
        );
        db.close().await;
    }
}
