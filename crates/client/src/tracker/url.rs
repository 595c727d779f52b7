//! Tracker URLs: `http://host[:port]/path?query`, `https://…` and `udp://host:port[/path]`.

use crate::error::TrackerError;

/// A parsed tracker URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackerUrl {
    /// An HTTP or HTTPS tracker.
    Http {
        /// `https`.
        tls: bool,
        /// Host name or address literal (IPv6 without brackets).
        host: String,
        /// Port (80 by default, 443 for HTTPS).
        port: u16,
        /// Path and query, starting with `/`.
        target: String,
    },
    /// A UDP tracker (BEP 15); the path and query travel as BEP 41 URL data.
    Udp {
        /// Host name or address literal.
        host: String,
        /// Port.
        port: u16,
        /// Path and query (may be empty).
        target: String,
    },
}

impl TrackerUrl {
    /// The host name or address: what logs may show of a tracker (its path and query may
    /// hold a passkey).
    pub fn host(&self) -> &str {
        match self {
            Self::Http { host, .. } | Self::Udp { host, .. } => host,
        }
    }

    /// Parses a URL.
    pub fn parse(url: &str) -> Result<Self, TrackerError> {
        let bad = || TrackerError::BadUrl(redact(url));
        let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
        let (authority, target) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, p) = v6.split_once(']').ok_or_else(bad)?;
            (h, p.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(bad());
        }
        let port = port.map(|p| p.parse::<u16>().map_err(|_| bad())).transpose()?;
        let target = if target.starts_with('?') {
            format!("/{target}")
        } else {
            target.to_owned()
        };
        match scheme.to_ascii_lowercase().as_str() {
            scheme @ ("http" | "https") => Ok(Self::Http {
                tls: scheme == "https",
                host: host.to_owned(),
                port: port.unwrap_or(if scheme == "https" { 443 } else { 80 }),
                target: if target.is_empty() { "/".into() } else { target },
            }),
            "udp" => Ok(Self::Udp {
                host: host.to_owned(),
                port: port.ok_or_else(bad)?,
                target,
            }),
            _ => Err(bad()),
        }
    }
}

/// `url` up to its authority: the path and query of a private tracker's URL hold the
/// passkey, and errors end up in logs and statuses.
pub(super) fn redact(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find(['/', '?']) {
        Some(i) => format!("{}/…", &url[..after_scheme + i]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            TrackerUrl::parse("http://t.example:6969/announce?passkey=abc").unwrap(),
            TrackerUrl::Http {
                tls: false,
                host: "t.example".into(),
                port: 6969,
                target: "/announce?passkey=abc".into()
            }
        );
        assert_eq!(
            TrackerUrl::parse("https://t.example/abcdef0123/announce").unwrap(),
            TrackerUrl::Http {
                tls: true,
                host: "t.example".into(),
                port: 443,
                target: "/abcdef0123/announce".into()
            }
        );
        assert_eq!(
            TrackerUrl::parse("udp://[::1]:6969").unwrap(),
            TrackerUrl::Udp {
                host: "::1".into(),
                port: 6969,
                target: String::new()
            }
        );
        let e = TrackerUrl::parse("wss://t.example/abcdef0123/announce").unwrap_err();
        assert_eq!(e.to_string(), "unsupported tracker url wss://t.example/…");
        assert!(TrackerUrl::parse("udp://t/announce").is_err());
        assert!(TrackerUrl::parse("http://:1/").is_err());
    }
}
