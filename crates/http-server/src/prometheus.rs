//! The Prometheus text exposition format (0.0.4), written by hand: every `/metrics` in the
//! workspace goes through this one writer, so names, help lines and label escaping agree.
//!
//! Why not the `metrics` + `metrics-exporter-prometheus` crates: our counters are plain
//! atomics bumped on the hot path (one relaxed add; the UDP tracker answers ~170k requests a
//! second on one core), and a scrape reads them a few times a minute. The crates would add a
//! registry lookup or a handle per counter and a dependency tree for what is 80 lines here.
//!
//! ```
//! let mut m = http_server::prometheus::Exposition::new();
//! m.gauge("app_open", "Connections open now.", 3);
//! let mut errors = m.family("app_errors_total", "Errors by kind.", http_server::prometheus::Kind::Counter);
//! errors.sample(&[("kind", "timeout")], 2);
//! let page = m.finish();
//! let lines: Vec<&str> = page.lines().collect();
//! assert_eq!(lines[2], "app_open 3");
//! assert_eq!(lines[4], "# TYPE app_errors_total counter");
//! assert_eq!(lines[5], r#"app_errors_total{kind="timeout"} 2"#);
//! ```

use std::fmt::{Display, Write as _};

/// The `Content-Type` of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4";

/// What a metric family measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only ever goes up (until a restart).
    Counter,
    /// Goes up and down.
    Gauge,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
        }
    }
}

/// A page of metrics being written.
#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
}

impl Exposition {
    /// An empty page.
    pub fn new() -> Self {
        Self {
            out: String::with_capacity(4096),
        }
    }

    /// A family with one unlabelled sample, a gauge.
    pub fn gauge(&mut self, name: &str, help: &str, value: impl Display) {
        self.family(name, help, Kind::Gauge).sample(&[], value);
    }

    /// A family with one unlabelled sample, a counter.
    pub fn counter(&mut self, name: &str, help: &str, value: impl Display) {
        self.family(name, help, Kind::Counter).sample(&[], value);
    }

    /// Starts a family (its `# HELP` and `# TYPE` lines); add samples to what it returns.
    pub fn family(&mut self, name: &str, help: &str, kind: Kind) -> Family<'_> {
        self.out.push_str("# HELP ");
        self.out.push_str(name);
        self.out.push(' ');
        escape_into(&mut self.out, help, false);
        let _ = writeln!(self.out, "\n# TYPE {name} {}", kind.as_str());
        Family {
            out: &mut self.out,
            name: name.to_owned(),
        }
    }

    /// The page.
    pub fn finish(self) -> String {
        self.out
    }
}

/// The samples of one family.
#[derive(Debug)]
pub struct Family<'a> {
    out: &'a mut String,
    name: String,
}

impl Family<'_> {
    /// One sample; label values are escaped (`\`, `"` and newlines).
    pub fn sample(&mut self, labels: &[(&str, &str)], value: impl Display) {
        self.out.push_str(&self.name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                self.out.push_str(k);
                self.out.push_str("=\"");
                escape_into(self.out, v, true);
                self.out.push('"');
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }
}

/// Appends `s` with `\` and newlines escaped, and `"` too in a label value (`quoted`): help
/// text and label values differ only there.
fn escape_into(out: &mut String, s: &str, quoted: bool) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quoted => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

/// Microseconds as seconds with six decimals (`1.500000`), the unit Prometheus expects for
/// durations, without going through a float.
pub struct Seconds(pub u64);

impl Display for Seconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:06}", self.0 / 1_000_000, self.0 % 1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_help_and_label_values() {
        let mut m = Exposition::new();
        m.family("x_total", "a \\ b\nc", Kind::Counter)
            .sample(&[("path", "a\"b\\c\nd"), ("k", "v")], 1);
        assert_eq!(
            m.finish(),
            "# HELP x_total a \\\\ b\\nc\n# TYPE x_total counter\nx_total{path=\"a\\\"b\\\\c\\nd\",k=\"v\"} 1\n"
        );
    }

    #[test]
    fn seconds_keep_six_decimals() {
        assert_eq!(Seconds(1_500_000).to_string(), "1.500000");
        assert_eq!(Seconds(7).to_string(), "0.000007");
    }
}
