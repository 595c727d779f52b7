//! The site's configuration, in sections: `[web]` (what the pages and the JSON API show and
//! accept), `[storage]` (data directory and database), `[accounting]`, `[mail]` and
//! `[limits]`. Every key has a default that needs no file, binds to loopback and keeps its
//! data under `./nexsuj-data/`; [`crate::ServeConfig`] puts these sections under `[site]`
//! and the tracker's under `[tracker]`, and prints them with their docs (what
//! `nexsuj serve --print-default-config` shows). Key names are unique across sections, so
//! `NEXSUJ_<KEY>` names one.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

settings::section! {
    /// What the pages and the JSON API show and accept (the admin page and /site/metrics
    /// included).
    pub struct WebSection {
        /// The site's name: shown on every page and written into each torrent's info.source.
        pub name: String = "nexsuj".into();
        /// The public URL of the site; announce and download links are built from it.
        pub base_url: String = "http://127.0.0.1:8080".into();
        /// The public UDP tracker URL written into downloaded torrents ("" for none).
        pub udp_announce_url: String = "udp://127.0.0.1:6969/announce".into();
        /// More announce URLs written into downloaded torrents' announce-list, each with the
        /// user's passkey (BEP 12): the other instances of a tracker run on several machines,
        /// so that clients fail over when one is down, e.g. ["http://t2.example/announce"].
        pub extra_announce_urls: Vec<String> = Vec::new();
        /// Torrent categories (type) offered on upload.
        pub categories: Vec<String> = ["movie", "tv", "music", "anime", "software", "game", "book", "other"]
            .map(String::from)
            .to_vec();
        /// Torrents per page when browsing.
        pub page_size: u32 = 50;
        /// Largest .torrent file accepted, in bytes.
        pub max_torrent_bytes: usize = 10 << 20;
        /// Whether new accounts may be created.
        pub signup_open: bool = true;
        /// Session lifetime in days.
        pub session_days: u32 = 30;
        /// A user counts as seeding or leeching a torrent this many seconds after an announce.
        pub active_peer_secs: u64 = 3600;
        /// Sender address of the site's mails.
        pub mail_from: String = "nexsuj <noreply@localhost>".into();
        /// Bearer token that opens /site/metrics from anywhere (Authorization: Bearer ...);
        /// empty: only loopback clients (behind trusted_proxies, the client) may read it.
        /// Better set as NEXSUJ_METRICS_TOKEN than in the file.
        pub metrics_token: Secret = Secret::default();
        /// The admin page flags a user whose upload on a torrent exceeds what all the others
        /// downloaded of it by more than this many bytes (256 MiB) ...
        pub outlier_slack_bytes: u64 = 256 << 20;
        /// ... looking at (user, torrent) traffic seen in the last this many seconds (7 days).
        pub outlier_window_secs: u64 = 7 * 86_400;
    }
}

settings::section! {
    /// Where the site keeps its state.
    pub struct StorageSection {
        /// Where the database (SQLite), the mail outbox and other state live.
        pub data_dir: PathBuf = PathBuf::from("nexsuj-data");
        /// "sqlite://PATH" or "postgres://USER@HOST:PORT/DB"; empty means DATA_DIR/nexsuj.db.
        pub database_url: String = String::new();
        /// Most pooled database connections.
        pub database_connections: u32 = 8;
    }
}

settings::section! {
    /// The ratio accounting fed by the tracker, and the caches it answers from.
    pub struct AccountingSection {
        /// Seconds between flushes of the tracker's accounting into the database.
        pub flush_interval_secs: u64 = 3;
        /// Most (user, torrent) entries waiting for a flush; past it announces are refused.
        pub accounting_queue: usize = 200_000;
        /// Seconds between full reloads of the passkey and torrent caches (changes made by
        /// this process apply at once; the reload catches those of other instances).
        pub cache_reload_secs: u64 = 60;
    }
}

settings::section! {
    /// How the site sends mail (sign-up codes).
    pub struct MailSection {
        /// SMTP relay host; empty writes each mail to DATA_DIR/outbox/ (and the log says where).
        pub smtp_host: String = String::new();
        /// SMTP port; 0 for the standard port of smtp_tls (587, 465, 25).
        pub smtp_port: u16 = 0;
        /// "starttls" (required, never downgraded), "tls" (implicit TLS) or "none" (a local MTA).
        pub smtp_tls: SmtpTls = SmtpTls::default();
        /// SMTP user name; empty sends no authentication.
        pub smtp_user: String = String::new();
        /// SMTP password; better set as NEXSUJ_SMTP_PASSWORD than in the file.
        pub smtp_password: Secret = Secret::default();
    }
}

settings::section! {
    /// Limits against abuse and overload.
    pub struct LimitsSection {
        /// Most uploads read at once (each may hold max_torrent_bytes); past it: 503 with
        /// Retry-After.
        pub max_concurrent_uploads: usize = 4;
        /// Most password hashes and verifications at once (argon2id: 19 MiB each); past it:
        /// 503 with Retry-After.
        pub max_concurrent_hashes: usize = 4;
        /// Login attempts per account (e-mail) in 15 minutes, counted before the password is
        /// checked; a successful login clears the count.
        pub login_attempts_per_account: u32 = 5;
        /// Failed login attempts per client address (IPv6: per /64) in 15 minutes.
        pub login_attempts_per_ip: u32 = 20;
    }
}

settings::sections! {
    /// The private-tracker site.
    pub struct SiteConfig {
        /// Pages and JSON API.
        pub web: WebSection;
        /// Data directory and database.
        pub storage: StorageSection;
        /// Ratio accounting and caches.
        pub accounting: AccountingSection;
        /// Mail.
        pub mail: MailSection;
        /// Abuse and overload limits.
        pub limits: LimitsSection;
    }
}

/// How the site talks to its SMTP relay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// STARTTLS, required: a relay that does not offer it gets no mail (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// Plain text, for a relay on this host or a trusted network (port 25).
    None,
}

impl SmtpTls {
    /// The standard port of the mode.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Starttls => 587,
            Self::Tls => 465,
            Self::None => 25,
        }
    }
}

/// A secret setting: never shown by `Debug`, so a logged configuration does not leak it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

impl SiteConfig {
    /// The database URL in force: the configured one, or SQLite under the data directory.
    pub fn effective_database_url(&self) -> String {
        if !self.storage.database_url.is_empty() {
            return self.storage.database_url.clone();
        }
        let path = self.storage.data_dir.join("nexsuj.db");
        format!("sqlite://{}?mode=rwc", path.display())
    }

    /// Where mails go when no SMTP relay is configured.
    pub fn outbox_dir(&self) -> PathBuf {
        self.storage.data_dir.join("outbox")
    }
}

impl WebSection {
    /// Whether session cookies get `Secure` (the site is served over TLS).
    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    /// `base_url` without a trailing slash.
    pub fn base(&self) -> &str {
        self.base_url.trim_end_matches('/')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_documented() {
        let text = settings::document(&SiteConfig::default());
        for (table, key) in settings::keys::<SiteConfig>() {
            assert!(
                text.contains(&format!("\n{} = ", key.name)),
                "{table}.{} is not documented",
                key.name
            );
        }
        assert!(settings::duplicate_keys::<SiteConfig>().is_empty());
    }

    #[test]
    fn the_smtp_password_is_never_shown() {
        let mut c = SiteConfig::default();
        c.mail.smtp_password = Secret("hunter2".into());
        c.web.metrics_token = Secret("t0ken".into());
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2") && shown.contains("***"), "{shown}");
        assert!(!shown.contains("t0ken"), "{shown}");
    }

    #[test]
    fn documented_defaults_parse_to_the_defaults() {
        let parsed: SiteConfig = toml::from_str(&settings::document(&SiteConfig::default())).unwrap();
        assert_eq!(parsed, SiteConfig::default());
        assert!(
            toml::from_str::<SiteConfig>("nme = 1").is_err(),
            "unknown keys are refused"
        );
        let err = toml::from_str::<SiteConfig>("[web]\nnme = 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `nme`"), "{err}");
    }

    #[test]
    fn default_database_is_sqlite_in_the_data_dir() {
        let c = SiteConfig::default();
        assert_eq!(
            c.effective_database_url(),
            "sqlite://nexsuj-data/nexsuj.db?mode=rwc"
        );
        assert!(!c.web.secure_cookies());
    }
}
