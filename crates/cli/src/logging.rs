//! Log output for the long-running commands: one line per event on stderr, level chosen by
//! `--log` or `NEXSUJ_LOG` (error, warn, info, debug, trace).

use anyhow::bail;
use tracing_subscriber::filter::LevelFilter;

/// Installs the subscriber; call once, before anything logs.
pub fn init(level: &str) -> anyhow::Result<()> {
    let filter = match level.to_ascii_lowercase().as_str() {
        "off" => LevelFilter::OFF,
        "error" => LevelFilter::ERROR,
        "warn" => LevelFilter::WARN,
        "info" => LevelFilter::INFO,
        "debug" => LevelFilter::DEBUG,
        "trace" => LevelFilter::TRACE,
        other => bail!("unknown log level {other:?} (expected error, warn, info, debug, trace or off)"),
    };
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_max_level(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot install the logger: {e}"))
}
