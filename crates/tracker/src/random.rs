//! Secret random bytes from the operating system (connection-id keys).

use std::io::{self, Read};

/// Fills `buf` from `/dev/urandom`.
pub fn fill(buf: &mut [u8]) -> io::Result<()> {
    std::fs::File::open("/dev/urandom")?.read_exact(buf)
}
