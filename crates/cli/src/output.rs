//! Writing to stdout and stderr without panicking: `println!` panics when the reader of a
//! pipe has gone (`nexsuj info x.torrent | head`); here that ends the command quietly.

use std::io::{self, Write};

/// Stdout was closed by its reader: not an error worth a message.
#[derive(Debug, thiserror::Error)]
#[error("output closed")]
pub struct OutputClosed;

/// Writes `text` to stdout.
pub fn stdout(text: &str) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(OutputClosed.into()),
        other => Ok(other?),
    }
}

/// Writes one line to stderr; a closed stderr is ignored (there is nowhere left to report it).
pub fn stderr_line(line: &str) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}
