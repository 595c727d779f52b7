//! Quantities for people, shared by the command line and the site so that a size or a date
//! reads the same everywhere.
//!
//! ```
//! assert_eq!(units::human_bytes(1536), "1.50 KiB");
//! assert_eq!(units::parse_bytes("256KiB"), Ok(256 << 10));
//! assert_eq!(units::Utc::from_unix(0).to_string(), "1970-01-01 00:00:00 UTC");
//! ```

use std::fmt;

/// Parses a byte count: a plain number, or a number with a unit. Binary units: `K`, `KiB`,
/// `M`, `MiB`, `G`, `GiB`; decimal units: `kB`/`KB`, `MB`, `GB`. The error says what was wrong,
/// for a command-line message.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a byte count (try 1048576 or 1MiB)"))?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "K" | "k" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        "kB" | "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        other => return Err(format!("unknown unit {other:?} in {s:?} (use KiB, MiB or GiB)")),
    };
    n.checked_mul(mult).ok_or_else(|| format!("{s:?} is too large"))
}

/// `1.50 GiB` style with two decimals, exact bytes below 1 KiB (`312 B`).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.2} {}", UNITS[unit])
}

/// A moment in UTC on the proleptic Gregorian calendar. Displays as
/// `2026-11-23 14:40:17 UTC`; [`Utc::to_minutes`] drops the seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc {
    /// The year (may be before 1970 or negative).
    pub year: i64,
    /// 1–12.
    pub month: u8,
    /// 1–31.
    pub day: u8,
    /// 0–23.
    pub hour: u8,
    /// 0–59.
    pub minute: u8,
    /// 0–59 (Unix time has no leap seconds).
    pub second: u8,
}

impl Utc {
    /// The calendar date and time of `secs` seconds since the Unix epoch.
    pub fn from_unix(secs: i64) -> Self {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        // Howard Hinnant's days-to-civil algorithm: eras of 400 years starting on 1 March.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        // Every value below is in range by construction (day 1–31, month 1–12, rem < 86,400).
        let small = |v: i64| u8::try_from(v).unwrap_or(0);
        Self {
            year: yoe + era * 400 + i64::from(month <= 2),
            month: small(month),
            day: small(day),
            hour: small(rem / 3600),
            minute: small(rem % 3600 / 60),
            second: small(rem % 60),
        }
    }

    /// `2024-05-01 13:45 UTC`: for pages, where seconds are noise.
    pub fn to_minutes(&self) -> String {
        let Self {
            year,
            month,
            day,
            hour,
            minute,
            ..
        } = *self;
        format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02} UTC")
    }

    /// RFC 3339, `2026-12-04T11:40:33Z` (for JSON APIs).
    pub fn to_rfc3339(&self) -> String {
        let Self {
            year,
            month,
            day,
            hour,
            minute,
            second,
        } = *self;
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
    }
}

impl fmt::Display for Utc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            year,
            month,
            day,
            hour,
            minute,
            second,
        } = *self;
        write!(
            f,
            "{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02} UTC"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts() {
        assert_eq!(parse_bytes("1048576"), Ok(1 << 20));
        assert_eq!(parse_bytes("256KiB"), Ok(256 << 10));
        assert_eq!(parse_bytes("1MiB"), Ok(1 << 20));
        assert_eq!(parse_bytes("2M"), Ok(2 << 20));
        assert_eq!(parse_bytes("1MB"), Ok(1_000_000));
        assert!(parse_bytes("1XB").is_err());
        assert!(parse_bytes("MiB").is_err());
        assert!(parse_bytes("99999999999999GiB").is_err());
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(12), "12 B");
        assert_eq!(human_bytes(1536), "1.50 KiB");
        assert_eq!(human_bytes(3 << 30), "3.00 GiB");
        assert_eq!(human_bytes(u64::MAX), "16384.00 PiB");
    }

    #[test]
    fn dates() {
        let d = |s| Utc::from_unix(s).to_string();
        assert_eq!(d(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(d(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(d(1_795_444_817), "2026-11-23 14:40:17 UTC");
        assert_eq!(d(-1), "1969-12-31 23:59:59 UTC");
        assert_eq!(Utc::from_unix(1_700_000_000).to_minutes(), "2023-11-14 22:13 UTC");
        assert_eq!(Utc::from_unix(1_700_000_000).to_rfc3339(), "2023-11-14T22:13:20Z");
    }
}
