//! The site's configuration: every field has a default that needs no file, binds to
//! loopback and keeps its data under `./nexsuj-data/`; `nexsuj serve --print-default-config`
//! prints [`DEFAULT_CONFIG_TOML`].

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The private-tracker site's settings (a TOML file, then `NEXSUJ_*` variables and flags).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SiteConfig {
    /// The site's name: shown on every page and written into each torrent's `info.source`.
    pub name: String,
    /// The public URL of the site; announce and download links are built from it.
    pub base_url: String,
    /// The public UDP tracker URL written into downloaded torrents ("" for none).
    pub udp_announce_url: String,
    /// Where the database (SQLite), the mail outbox and other state live.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; empty means `<data_dir>/nexsuj.db`.
    pub database_url: String,
    /// Most pooled database connections.
    pub database_connections: u32,
    /// Seconds between flushes of the tracker's accounting into the database.
    pub flush_interval_secs: u64,
    /// Most (user, torrent) entries waiting for a flush; past it announces are refused.
    pub accounting_queue: usize,
    /// A user counts as seeding or leeching a torrent this many seconds after an announce.
    pub active_peer_secs: u64,
    /// Seconds between full reloads of the passkey and torrent caches (changes made by this
    /// process apply at once; the reload catches changes made by other instances).
    pub cache_reload_secs: u64,
    /// Largest `.torrent` file accepted, in bytes.
    pub max_torrent_bytes: usize,
    /// Torrent categories (`type`) offered on upload.
    pub categories: Vec<String>,
    /// Torrents per page when browsing.
    pub page_size: u32,
    /// Session lifetime in days.
    pub session_days: u32,
    /// Whether new accounts may be created.
    pub signup_open: bool,
    /// Sender address of the site's mails.
    pub mail_from: String,
    /// SMTP relay host; empty writes each mail to `<data_dir>/outbox/` instead.
    pub smtp_host: String,
    /// SMTP relay port; 0 for the standard port of `smtp_tls` (587, 465 or 25).
    pub smtp_port: u16,
    /// How the SMTP connection is protected.
    pub smtp_tls: SmtpTls,
    /// SMTP user name; empty for no authentication.
    pub smtp_user: String,
    /// SMTP password (better set as `NEXSUJ_SMTP_PASSWORD` than in the file).
    pub smtp_password: Secret,
    /// Most uploads read at once (each holds up to `max_torrent_bytes` in memory); past it an
    /// upload is answered 503 with `Retry-After`.
    pub max_concurrent_uploads: usize,
    /// Most password hashes and verifications at once (argon2id holds 19 MiB each); past it
    /// a login or sign-up is answered 503 with `Retry-After`.
    pub max_concurrent_hashes: usize,
    /// Login attempts per account (e-mail) in 15 minutes before it must wait; a successful
    /// login clears its count. Counted before the password is checked.
    pub login_attempts_per_account: u32,
    /// Failed login attempts per client address (IPv6: per /64) in 15 minutes.
    pub login_attempts_per_ip: u32,
    /// Bearer token that opens `/site/metrics` from anywhere (`Authorization: Bearer …`);
    /// empty: only clients on loopback (behind `trusted_proxies`, the client) may read it.
    pub metrics_token: Secret,
    /// The admin page flags a user whose upload on a torrent exceeds what everyone else
    /// downloaded of it by more than this many bytes.
    pub outlier_slack_bytes: u64,
    /// The admin page's outliers look at (user, torrent) traffic seen in this many seconds.
    pub outlier_window_secs: u64,
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

impl Default for SiteConfig {
    fn default() -> Self {
        Self {
            name: "nexsuj".into(),
            base_url: "http://127.0.0.1:8080".into(),
            udp_announce_url: "udp://127.0.0.1:6969/announce".into(),
            data_dir: PathBuf::from("nexsuj-data"),
            database_url: String::new(),
            database_connections: 8,
            flush_interval_secs: 3,
            accounting_queue: 200_000,
            active_peer_secs: 3600,
            cache_reload_secs: 60,
            max_torrent_bytes: 10 << 20,
            categories: [
                "movie", "tv", "music", "anime", "software", "game", "book", "other",
            ]
            .map(String::from)
            .to_vec(),
            page_size: 50,
            session_days: 30,
            signup_open: true,
            mail_from: "nexsuj <noreply@localhost>".into(),
            smtp_host: String::new(),
            smtp_port: 0,
            smtp_tls: SmtpTls::default(),
            smtp_user: String::new(),
            smtp_password: Secret::default(),
            max_concurrent_uploads: 4,
            max_concurrent_hashes: 4,
            login_attempts_per_account: 5,
            login_attempts_per_ip: 20,
            metrics_token: Secret::default(),
            outlier_slack_bytes: 256 << 20,
            outlier_window_secs: 7 * 86_400,
        }
    }
}

impl SiteConfig {
    /// The database URL in force: the configured one, or SQLite under the data directory.
    pub fn effective_database_url(&self) -> String {
        if !self.database_url.is_empty() {
            return self.database_url.clone();
        }
        let path = self.data_dir.join("nexsuj.db");
        format!("sqlite://{}?mode=rwc", path.display())
    }

    /// Where mails go when no SMTP relay is configured.
    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }

    /// Whether session cookies get `Secure` (the site is served over TLS).
    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    /// `base_url` without a trailing slash.
    pub fn base(&self) -> &str {
        self.base_url.trim_end_matches('/')
    }
}

/// The default configuration as documented TOML (what `--print-default-config` prints).
pub const DEFAULT_CONFIG_TOML: &str = r#"# nexsuj site configuration (the [site] table of `nexsuj serve`). Every key is optional.

# The site's name: shown on every page and written into each torrent's info.source.
name = "nexsuj"
# The public URL of the site; announce and download links are built from it.
base_url = "http://127.0.0.1:8080"
# The public UDP tracker URL written into downloaded torrents ("" for none).
udp_announce_url = "udp://127.0.0.1:6969/announce"
# Where the database (SQLite), the mail outbox and other state live.
data_dir = "nexsuj-data"
# "sqlite://PATH" or "postgres://USER@HOST:PORT/DB"; empty means DATA_DIR/nexsuj.db.
database_url = ""
# Most pooled database connections.
database_connections = 8
# Seconds between flushes of the tracker's accounting into the database.
flush_interval_secs = 3
# Most (user, torrent) entries waiting for a flush; past it announces are refused.
accounting_queue = 200000
# A user counts as seeding or leeching a torrent this many seconds after an announce.
active_peer_secs = 3600
# Seconds between full reloads of the passkey and torrent caches.
cache_reload_secs = 60
# Largest .torrent file accepted, in bytes.
max_torrent_bytes = 10485760
# Torrent categories offered on upload.
categories = ["movie", "tv", "music", "anime", "software", "game", "book", "other"]
# Torrents per page when browsing.
page_size = 50
# Session lifetime in days.
session_days = 30
# Whether new accounts may be created.
signup_open = true
# Sender of the site's mails.
mail_from = "nexsuj <noreply@localhost>"
# SMTP relay host; empty writes each mail to DATA_DIR/outbox/ (and the log says where).
smtp_host = ""
# SMTP port; 0 for the standard port of smtp_tls (587, 465, 25).
smtp_port = 0
# "starttls" (required, never downgraded), "tls" (implicit TLS) or "none" (a local MTA).
smtp_tls = "starttls"
# SMTP authentication; an empty user sends none. Set the password as NEXSUJ_SMTP_PASSWORD.
smtp_user = ""
smtp_password = ""
# Most uploads read at once (each may hold max_torrent_bytes); past it: 503 with Retry-After.
max_concurrent_uploads = 4
# Most password hashes/verifications at once (argon2id: 19 MiB each); past it: 503 with Retry-After.
max_concurrent_hashes = 4
# Login attempts per account in 15 minutes, counted before the password is checked; a
# successful login clears the count.
login_attempts_per_account = 5
# Failed login attempts per client address (IPv6: per /64) in 15 minutes.
login_attempts_per_ip = 20
# Bearer token for /site/metrics from anywhere; empty: loopback clients only. Better set as
# NEXSUJ_METRICS_TOKEN.
metrics_token = ""
# The admin page flags a user whose upload on a torrent exceeds what all the others
# downloaded of it by more than this many bytes (256 MiB) ...
outlier_slack_bytes = 268435456
# ... looking at traffic seen in the last this many seconds (7 days).
outlier_window_secs = 604800
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_documented() {
        let json = serde_json::to_value(SiteConfig::default()).unwrap();
        for key in json.as_object().unwrap().keys() {
            assert!(
                DEFAULT_CONFIG_TOML.contains(&format!("\n{key} = ")),
                "{key} is not documented"
            );
        }
    }

    #[test]
    fn the_smtp_password_is_never_shown() {
        let c = SiteConfig {
            smtp_password: Secret("hunter2".into()),
            metrics_token: Secret("t0ken".into()),
            ..SiteConfig::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2") && shown.contains("***"), "{shown}");
        assert!(!shown.contains("t0ken"), "{shown}");
    }

    #[test]
    fn documented_defaults_parse_to_the_defaults() {
        let parsed: SiteConfig = toml::from_str(DEFAULT_CONFIG_TOML).unwrap();
        assert_eq!(parsed, SiteConfig::default());
        assert!(
            toml::from_str::<SiteConfig>("nme = 1").is_err(),
            "unknown keys are refused"
        );
    }

    #[test]
    fn default_database_is_sqlite_in_the_data_dir() {
        let c = SiteConfig::default();
        assert_eq!(
            c.effective_database_url(),
            "sqlite://nexsuj-data/nexsuj.db?mode=rwc"
        );
        assert!(!c.secure_cookies());
    }
}
