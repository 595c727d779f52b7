//! The BitTorrent peer wire protocol for nexsuj, as pure functions over bytes (no sockets, no
//! runtime, no clock).
//!
//! - [`Handshake`]: the 68-byte opening with its reserved bits ([`Reserved`]: BEP 6 fast
//!   extension, BEP 10 extension protocol, BEP 5 DHT).
//! - [`Message`]: keep-alive, messages 0–8 of BEP 3, `port` (BEP 5), the fast extension
//!   (BEP 6: suggest, have all, have none, reject, allowed fast) and `extended` (BEP 10),
//!   borrowed from the caller's buffer and written into the caller's buffer.
//! - [`decode`]: check-then-parse framing with [`Limits`] on the frame length and on request
//!   sizes; it answers [`Parsed::Incomplete`] until a whole frame is there, so a hostile peer
//!   can only get itself disconnected.
//! - [`extended`]: the BEP 10 handshake; [`metadata`]: ut_metadata (BEP 9); [`pex`]: ut_pex
//!   (BEP 11); [`Bitfield`]: a piece set with the spare-bit rules of BEP 3.
//! - [`priority`]: canonical peer priority (BEP 40), with its CRC-32C.
//!
//! ```
//! use wire::{decode, Limits, Message, Parsed};
//! let mut buf = Vec::new();
//! Message::Have(7).write(&mut buf);
//! assert_eq!(buf, [0, 0, 0, 5, 4, 0, 0, 0, 7]);
//! match decode(&buf[..3], &Limits::default()).unwrap() {
//!     Parsed::Incomplete { needed } => assert_eq!(needed, 1),
//!     _ => unreachable!(),
//! }
//! let Parsed::Done { value, len } = decode(&buf, &Limits::default()).unwrap() else { unreachable!() };
//! assert_eq!((value, len), (Message::Have(7), 9));
//! ```

mod bitfield;
mod error;
pub mod extended;
mod frame;
mod handshake;
mod message;
pub mod metadata;
pub mod pex;
pub mod priority;

pub use bitfield::Bitfield;
pub use error::WireError;
pub use frame::{
    BLOCK_LEN, Limits, MAX_REQUEST_LEN, MIN_MAX_REQUEST_LEN, Parsed, decode, write_piece_header,
};
pub use handshake::{HANDSHAKE_LEN, Handshake, PROTOCOL, Reserved};
pub use message::{BlockRequest, Message, id};
