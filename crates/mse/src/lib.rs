//! BitTorrent message stream encryption (MSE, also called protocol encryption, PE), as
//! libtorrent, transmission and qBittorrent speak it: a Diffie–Hellman exchange hidden behind
//! random padding, the torrent named only by a hash the eavesdropper cannot invert without the
//! info-hash, a choice of RC4 or plaintext for what follows, and the BitTorrent handshake
//! carried inside as the initial payload.
//!
//! Pure: no sockets and no randomness of its own. The caller feeds the bytes it reads to an
//! [`Initiator`] or a [`Responder`], writes the bytes they return, and once the handshake is
//! [`Established`] runs the connection through its [`Cipher`]s.

mod cipher;
pub mod dh;
mod handshake;

pub use cipher::Cipher;
pub use handshake::{
    Established, Initiator, MAX_PAD, Method, Methods, MseError, Progress, Responder, looks_plaintext, req2,
};
