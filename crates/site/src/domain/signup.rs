//! Signing up: a six-digit code mailed to the address, then the account, created only with
//! that code. Neither step tells a stranger whether an address or a nick has an account: a
//! code request for a registered address is answered as any other (its owner is told by
//! mail instead), and a sign-up names a taken nick or address only after a valid code, which
//! proves the caller reads that mailbox.

use std::net::IpAddr;

use crate::auth::password::{self, Passwords};
use crate::auth::ratelimit::Limits;
use crate::auth::secret::{ct_eq, new_code, new_passkey};
use crate::db::codes::{self, CodeCheck};
use crate::db::{Db, is_unique_violation, users};
use crate::error::SiteError;
use crate::mail::Mailer;
use crate::policy::SitePolicy;

/// Why a code request or a sign-up was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignupError {
    /// The operator closed sign-up.
    #[error("sign-up is closed")]
    Closed,
    /// A required field is missing or empty.
    #[error("{field} is required")]
    Missing {
        /// The field (`nick`, `email`, `pwd`, `code`).
        field: &'static str,
    },
    /// The address is not shaped like one.
    #[error("enter a valid e-mail address")]
    InvalidEmail,
    /// The nick is not 3 to 20 letters and digits.
    #[error("nick must be 3 to 20 letters and digits")]
    InvalidNick,
    /// The password is too weak.
    #[error("{reason}")]
    WeakPassword {
        /// Why, for the user.
        reason: String,
    },
    /// `sex` is not 0, 1 or 2.
    #[error("sex must be 0 (unsaid), 1 (male) or 2 (female)")]
    InvalidSex,
    /// Too many codes for this client or this address.
    #[error("too many codes requested; wait a few minutes")]
    TooManyCodes,
    /// Too many sign-ups from this client.
    #[error("too many sign-up attempts; wait a few minutes")]
    TooManySignups,
    /// Every password hashing slot is taken (no code try was used).
    #[error("the server is busy; try again in a few seconds")]
    HashingBusy,
    /// The code does not match (one of its tries is used).
    #[error("wrong code")]
    WrongCode,
    /// No code is valid for the address: never sent, expired or its tries used up.
    #[error("the code has expired or was used up; ask for a new one")]
    CodeExpired,
    /// Another account has this nick.
    #[error("this nick is taken")]
    NickTaken,
    /// Another account has this address.
    #[error("this e-mail address is already registered")]
    EmailTaken,
    /// Another sign-up took the nick or the address while this one was hashing.
    #[error("this nick or e-mail was just taken")]
    JustTaken,
    /// The site failed (a mail that could not be sent among others).
    #[error(transparent)]
    Internal(#[from] SiteError),
}

/// Checks an e-mail address (shape only) and returns it lowercased.
pub fn valid_email(email: &str) -> Result<String, SignupError> {
    let e = email.trim().to_lowercase();
    let (local, domain) = e.split_once('@').ok_or(SignupError::InvalidEmail)?;
    let ok = !local.is_empty()
        && e.len() <= 254
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && e.chars()
            .all(|c| c.is_ascii_graphic() && !"<>()[],;:\\\"".contains(c));
    if ok { Ok(e) } else { Err(SignupError::InvalidEmail) }
}

/// Checks a nick: 3 to 20 letters and digits.
pub fn valid_nick(nick: &str) -> Result<(), SignupError> {
    let ok = (3..=20).contains(&nick.len()) && nick.bytes().all(|b| b.is_ascii_alphanumeric());
    if ok { Ok(()) } else { Err(SignupError::InvalidNick) }
}

fn required<'a>(field: &'static str, value: Option<&'a str>) -> Result<&'a str, SignupError> {
    value.ok_or(SignupError::Missing { field })
}

/// A sign-up as the client sent it; `None` for a field missing or empty.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignupRequest<'a> {
    /// The nick.
    pub nick: Option<&'a str>,
    /// The e-mail address.
    pub email: Option<&'a str>,
    /// The password, untrimmed.
    pub pwd: Option<&'a str>,
    /// `0` unsaid (the default), `1` male, `2` female.
    pub sex: Option<&'a str>,
    /// The mailed code.
    pub code: Option<&'a str>,
}

/// The fields of a sign-up once their rules hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedSignup<'a> {
    /// The nick.
    pub nick: &'a str,
    /// The address, lowercased.
    pub email: String,
    /// The password.
    pub pwd: &'a str,
    /// 0, 1 or 2.
    pub sex: i64,
    /// The mailed code.
    pub code: &'a str,
}

impl<'a> SignupRequest<'a> {
    /// Checks the fields in the order a user is told about them: nick, e-mail, password,
    /// sex, code.
    pub fn check(self) -> Result<CheckedSignup<'a>, SignupError> {
        let nick = required("nick", self.nick)?;
        valid_nick(nick)?;
        let email = valid_email(required("email", self.email)?)?;
        let pwd = required("pwd", self.pwd)?;
        if let Some(reason) = password::weakness(pwd, nick, &email) {
            return Err(SignupError::WeakPassword { reason });
        }
        let sex = match self.sex.unwrap_or("0").parse::<i64>() {
            Ok(s @ 0..=2) => s,
            _ => return Err(SignupError::InvalidSex),
        };
        let code = required("code", self.code)?;
        Ok(CheckedSignup {
            nick,
            email,
            pwd,
            sex,
            code,
        })
    }
}

/// The mail answering a code request: the code for a new address, a warning (and no code)
/// for a registered one. Returns (subject, body).
pub fn code_mail(site: &str, base_url: &str, code: &str, registered: bool) -> (String, String) {
    if registered {
        (
            format!("{site}: someone tried to sign up with your address"),
            format!(
                "Someone, maybe you, asked for a sign-up code for this address,\n\
                 but you already have an account at {site}. Log in at\n{base_url}/login\n\n\
                 If it was not you, ignore this mail: nothing was changed.\n"
            ),
        )
    } else {
        // The code stays out of the subject (subjects are logged and shown in mail lists),
        // on a short line of its own (a long line would be quoted-printable, maybe split).
        (
            format!("Your {site} sign-up code"),
            format!(
                "Your sign-up code: {code}\n\nEnter it on the {site} sign-up page within ten minutes.\n\
                 If you did not ask for it, ignore this mail.\n"
            ),
        )
    }
}

/// The sign-up service: what a sign-up touches and the site's settings for it.
#[derive(Debug, Clone, Copy)]
pub struct Signups<'a> {
    /// Accounts and codes.
    pub db: &'a Db,
    /// Where codes are mailed.
    pub mailer: &'a Mailer,
    /// The bounded password hashing pool.
    pub passwords: &'a Passwords,
    /// The tracker's passkey cache, told of each new account.
    pub policy: &'a SitePolicy,
    /// Codes per client and per address, sign-ups per client.
    pub limits: &'a Limits,
    /// Whether sign-up is open.
    pub open: bool,
    /// The site's name, in mails.
    pub site: &'a str,
    /// The site's address, for the login link in mails.
    pub base_url: &'a str,
    /// The mails' sender.
    pub mail_from: &'a str,
}

impl Signups<'_> {
    /// Mails a sign-up code for `email` (asked for by a client at `ip`); returns the address
    /// as it was checked and stored (lowercased).
    pub async fn send_code(&self, ip: IpAddr, email: Option<&str>) -> Result<String, SignupError> {
        if !self.open {
            return Err(SignupError::Closed);
        }
        let email = valid_email(required("email", email)?)?;
        if !self.limits.code_ip.hit(ip) || !self.limits.code_address.hit(&email) {
            return Err(SignupError::TooManyCodes);
        }
        // A registered address gets a code too (never mailed): a guess at it is then
        // answered "wrong code" exactly as for a new address, and the reply here is the same.
        let code = new_code()?;
        codes::put(self.db, &email, &code).await?;
        let registered = users::email_taken(self.db, &email).await?;
        let (subject, body) = code_mail(self.site, self.base_url, &code, registered);
        self.mailer.send(self.mail_from, &email, &subject, body).await?;
        Ok(email)
    }

    /// Creates the account of `request` (from a client at `ip`), using one try of its code;
    /// the tracker knows the new passkey when this returns.
    pub async fn create_account(
        &self,
        ip: IpAddr,
        request: SignupRequest<'_>,
    ) -> Result<users::User, SignupError> {
        if !self.open {
            return Err(SignupError::Closed);
        }
        let s = request.check()?;
        if !self.limits.signup_ip.hit(ip) {
            return Err(SignupError::TooManySignups);
        }
        // Before the code is tried: a busy server must not use up one of its tries.
        let permit = self.passwords.try_permit().ok_or(SignupError::HashingBusy)?;
        self.try_code(&s.email, s.code).await?;
        // The code proves the caller reads this mailbox: a clash may now be named.
        if users::nick_taken(self.db, s.nick).await? {
            return Err(SignupError::NickTaken);
        }
        if users::email_taken(self.db, &s.email).await? {
            return Err(SignupError::EmailTaken);
        }
        let hash = self.passwords.hash(permit, s.pwd.to_owned()).await?;
        let passkey = new_passkey()?;
        let new = users::NewUser {
            nick: s.nick,
            email: &s.email,
            pwd_hash: &hash,
            sex: s.sex,
            passkey: &passkey,
        };
        let user = match users::insert(self.db, &new).await {
            Ok(u) => u,
            Err(SiteError::Database(e)) if is_unique_violation(&e) => return Err(SignupError::JustTaken),
            Err(e) => return Err(e.into()),
        };
        codes::consume(self.db, &s.email).await?;
        self.policy.set_user(user.id, &user.passkey, false, None);
        tracing::info!(user = user.id, "account created");
        Ok(user)
    }

    /// Tries the code mailed to `email` (one of its tries, whatever the outcome).
    async fn try_code(&self, email: &str, code: &str) -> Result<(), SignupError> {
        let matches = |a: &str, b: &str| ct_eq(a.as_bytes(), b.as_bytes());
        match codes::check(self.db, email, code, matches).await? {
            CodeCheck::Ok => Ok(()),
            CodeCheck::Wrong => Err(SignupError::WrongCode),
            CodeCheck::Expired => Err(SignupError::CodeExpired),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::config::SiteConfig;
    use crate::domain::testing;

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    fn request<'a>(nick: &'a str, email: &'a str, code: &'a str) -> SignupRequest<'a> {
        SignupRequest {
            nick: Some(nick),
            email: Some(email),
            pwd: Some("Sup3r-secret"),
            sex: None,
            code: Some(code),
        }
    }

    #[test]
    fn fields_are_checked_in_order() {
        let e = SignupRequest::default().check().unwrap_err();
        assert!(matches!(e, SignupError::Missing { field: "nick" }));
        let e = SignupRequest {
            code: None,
            ..request("ab", "bad", "1")
        };
        assert!(matches!(e.check(), Err(SignupError::InvalidNick)));
        let e = request("alice", "alice@example", "1").check();
        assert!(matches!(e, Err(SignupError::InvalidEmail)));
        let e = SignupRequest {
            sex: Some("3"),
            ..request("alice", "Alice@Example.org", "1")
        };
        assert!(matches!(e.check(), Err(SignupError::InvalidSex)));
        let ok = request("alice", " Alice@Example.org ", "123456").check().unwrap();
        assert_eq!((ok.email.as_str(), ok.sex), ("alice@example.org", 0));
    }

    #[test]
    fn the_code_is_in_the_body_only_and_never_sent_to_an_account() {
        let (subject, body) = code_mail("nx", "http://x", "123456", false);
        assert!(!subject.contains("123456"), "{subject}");
        assert!(body.starts_with("Your sign-up code: 123456\n"), "{body}");
        let (_, body) = code_mail("nx", "http://x", "123456", true);
        assert!(!body.contains("123456") && body.contains("http://x/login"));
    }

    #[tokio::test]
    async fn an_account_needs_its_code_and_a_free_nick() {
        let (dir, db) = testing::sqlite().await;
        let mut config = SiteConfig::default();
        config.storage.data_dir = dir.path().to_path_buf();
        let mailer = Mailer::from_config(&config).unwrap();
        let passwords = Passwords::new(1).await.unwrap();
        let policy = SitePolicy::new();
        let limits = Limits::default();
        let signups = Signups {
            db: &db,
            mailer: &mailer,
            passwords: &passwords,
            policy: &policy,
            limits: &limits,
            open: true,
            site: "nx",
            base_url: "http://x",
            mail_from: "nx@example.org",
        };
        let email = signups.send_code(IP, Some("Alice@Example.org")).await.unwrap();
        assert_eq!(email, "alice@example.org");
        // The mailed code is unknown here: store one of our own for the address.
        codes::put(&db, &email, "123456").await.unwrap();
        let wrong = signups
            .create_account(IP, request("alice", &email, "654321"))
            .await;
        assert!(matches!(wrong, Err(SignupError::WrongCode)));
        let user = signups
            .create_account(IP, request("alice", &email, "123456"))
            .await
            .unwrap();
        assert_eq!(policy.user(&user.passkey), Some((user.id, false)));
        // The code was consumed with the account.
        let reused = signups
            .create_account(IP, request("alice", &email, "123456"))
            .await;
        assert!(matches!(reused, Err(SignupError::CodeExpired)));
        codes::put(&db, "bob@example.org", "111111").await.unwrap();
        let clash = signups
            .create_account(IP, request("ALICE", "bob@example.org", "111111"))
            .await;
        assert!(matches!(clash, Err(SignupError::NickTaken)));
        let closed = Signups {
            open: false,
            ..signups
        };
        assert!(matches!(
            closed.send_code(IP, Some(&email)).await,
            Err(SignupError::Closed)
        ));
        db.close().await;
    }
}
