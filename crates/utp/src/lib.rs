//! uTP, the Micro Transport Protocol (BEP 29): BitTorrent's peer protocol over UDP with LEDBAT
//! congestion control, so that a transfer yields to other traffic on the link — and the
//! transport many peers behind NATs are reachable over.
//!
//! Pure: a [`Connection`] is fed packets and the time (microseconds, any monotonic origin)
//! and gives packets to send; the client's driver owns the UDP socket (shared with the DHT:
//! [`looks_like_utp`] tells the two apart by the first byte).

mod conn;
mod ledbat;
pub mod packet;
mod send;
mod seq;

pub use conn::{Config, Connection, State};
pub use ledbat::TARGET;
pub use packet::{Kind, Packet, PacketError, looks_like_utp};

#[cfg(test)]
mod sim;
