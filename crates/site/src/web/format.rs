//! How numbers and dates look on the pages.

/// `1.50 GiB`, `312 B` (negative counts, which the database never holds, show as 0).
pub fn size(bytes: i64) -> String {
    units::human_bytes(u64::try_from(bytes).unwrap_or(0))
}

/// Upload over download, `∞` with nothing downloaded, `–` with neither.
pub fn ratio(uploaded: i64, downloaded: i64) -> String {
    match (uploaded, downloaded) {
        (0, 0) => "–".into(),
        (_, 0) => "∞".into(),
        (u, d) => format!("{:.3}", u as f64 / d as f64),
    }
}

/// The ratio as a JSON number (`null` when nothing was downloaded).
pub fn ratio_value(uploaded: i64, downloaded: i64) -> Option<f64> {
    (downloaded > 0).then(|| uploaded as f64 / downloaded as f64)
}

/// `2024-05-01 13:45 UTC` from Unix seconds.
pub fn date(unix: i64) -> String {
    units::Utc::from_unix(unix).to_minutes()
}

/// Labels split on commas, trimmed, empty ones dropped.
pub fn labels(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(size(312), "312 B");
        assert_eq!(size(1536), "1.50 KiB");
        assert_eq!(size(3 << 30), "3.00 GiB");
        assert_eq!(ratio(0, 0), "–");
        assert_eq!(ratio(5, 0), "∞");
        assert_eq!(ratio(1, 2), "0.500");
        assert_eq!(date(0), "1970-01-01 00:00 UTC");
        assert_eq!(date(1_700_000_000), "2023-11-14 22:13 UTC");
        assert_eq!(labels(" a, ,b "), vec!["a", "b"]);
    }
}
