//! How numbers and dates look on the pages.

/// `1.5 GiB`, `312 B`.
pub fn size(bytes: i64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = bytes.max(0) as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.2} {}", UNITS[unit])
    }
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

/// `2024-05-01 13:45 UTC` from Unix seconds (proleptic Gregorian calendar).
pub fn date(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60
    )
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
