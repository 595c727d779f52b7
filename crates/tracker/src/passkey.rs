//! Where a private tracker's passkey travels: the query (`auth_key=` as in seed 000,
//! `passkey=` as in NexusPHP), or the path (`/announce/<passkey>` as in UNIT3D,
//! `/<passkey>/announce` as in Gazelle). Over UDP the same URL arrives as BEP 41 URL data.

/// The longest passkey accepted; real ones are 32 hex digits.
pub const MAX_PASSKEY_LEN: usize = 64;

/// The passkey in a path segment pair: `announce/<pk>`, `<pk>/announce`, and the same with
/// `scrape`. `path` is the URL path without the query.
pub fn from_path(path: &str) -> Option<&str> {
    let mut parts = path.trim_matches('/').split('/').filter(|s| !s.is_empty());
    let (a, b) = (parts.next()?, parts.next());
    if parts.next().is_some() {
        return None;
    }
    let pk = match (a, b) {
        ("announce" | "scrape", Some(pk)) => pk,
        (pk, Some("announce" | "scrape")) => pk,
        _ => return None,
    };
    valid(pk.as_bytes()).then_some(pk)
}

/// The passkey in BEP 41 URL data (the tracker URL's path and query, e.g.
/// `/announce?auth_key=ab12…`): the query's `auth_key` or `passkey` first, then the path.
pub fn from_url_data(url: &[u8]) -> Option<String> {
    let (path, query) = match url.iter().position(|&b| b == b'?') {
        Some(i) => (&url[..i], Some(&url[i + 1..])),
        None => (url, None),
    };
    if let Some(pk) = query.and_then(from_query) {
        return Some(pk);
    }
    let path = std::str::from_utf8(path).ok()?;
    from_path(path).map(str::to_owned)
}

/// The `auth_key` or `passkey` parameter of a query string (the bytes after `?`).
pub fn from_query(query: &[u8]) -> Option<String> {
    for pair in query.split(|&b| b == b'&') {
        let Some(eq) = pair.iter().position(|&b| b == b'=') else {
            continue;
        };
        let (name, value) = (&pair[..eq], &pair[eq + 1..]);
        if name == b"auth_key" || name == b"passkey" {
            return decode(value);
        }
    }
    None
}

/// Printable ASCII without separators, and not too long.
fn valid(pk: &[u8]) -> bool {
    !pk.is_empty()
        && pk.len() <= MAX_PASSKEY_LEN
        && pk.iter().all(|b| b.is_ascii_graphic() && !b"/?&#%".contains(b))
}

/// Percent-decodes a query value into a valid passkey, or `None`.
fn decode(raw: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    valid(&out).then(|| String::from_utf8(out).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PK: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn paths() {
        assert_eq!(from_path(&format!("/announce/{PK}")), Some(PK));
        assert_eq!(from_path(&format!("/{PK}/announce")), Some(PK));
        assert_eq!(from_path(&format!("/scrape/{PK}/")), Some(PK));
        assert_eq!(from_path("/announce"), None);
        assert_eq!(from_path("/a/b/c"), None);
        assert_eq!(from_path("/x/y"), None);
        assert_eq!(from_path(&format!("/announce/{}", "a".repeat(65))), None);
    }

    #[test]
    fn url_data() {
        let q = format!("/announce?auth_key={PK}");
        assert_eq!(from_url_data(q.as_bytes()).as_deref(), Some(PK));
        let q = format!("/announce.php?foo=1&passkey={PK}");
        assert_eq!(from_url_data(q.as_bytes()).as_deref(), Some(PK));
        let q = format!("/announce/{PK}");
        assert_eq!(from_url_data(q.as_bytes()).as_deref(), Some(PK));
        assert_eq!(from_url_data(b"/announce?auth_key=%41b").as_deref(), Some("Ab"));
        assert_eq!(from_url_data(b"/announce?auth_key=%4"), None);
        assert_eq!(from_url_data(b"/announce?auth_key=a%00b"), None);
        assert_eq!(from_url_data(b"/announce"), None);
        assert_eq!(from_url_data(b""), None);
        assert_eq!(from_url_data(&[0xff, b'/', b'x']), None);
    }
}
