//! Tests of the UDP tracker protocol: exact layouts, BEP 41 options, errors, round-trips and a
//! never-panics sweep.

mod bep41;
mod errors;
mod layout;
mod props;
mod sweep;

use std::net::{IpAddr, Ipv4Addr};

use super::UdpAnnounce;
use crate::common::{AnnounceEvent, AnnounceRequest, Transfer};
use ids::{InfoHash, PeerId};

/// Concatenates byte pieces into one datagram.
fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// An announce whose bytes are spelled out in [`sample_announce_bytes`].
fn sample_announce() -> UdpAnnounce {
    UdpAnnounce {
        connection_id: 0x1122_3344_5566_7788,
        transaction_id: 0xdead_beef,
        request: AnnounceRequest {
            info_hash: InfoHash([0xaa; 20]),
            peer_id: PeerId(*b"-NX0001-abcdefghijkl"),
            port: 6881,
            transfer: Transfer {
                uploaded: 3,
                downloaded: 1,
                left: 2,
            },
            event: AnnounceEvent::Started,
            numwant: Some(50),
            ip: Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))),
            key: Some(vec![0xca, 0xfe, 0xba, 0xbe]),
        },
        key: 0xcafe_babe,
        url_data: None,
    }
}

/// The 98 bytes of [`sample_announce`], written out by hand from BEP 15's table.
fn sample_announce_bytes() -> Vec<u8> {
    cat(&[
        &[0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88], // connection_id
        &[0, 0, 0, 1],                                     // action: announce
        &[0xde, 0xad, 0xbe, 0xef],                         // transaction_id
        &[0xaa; 20],                                       // info_hash
        b"-NX0001-abcdefghijkl",                           // peer_id
        &[0, 0, 0, 0, 0, 0, 0, 1],                         // downloaded
        &[0, 0, 0, 0, 0, 0, 0, 2],                         // left
        &[0, 0, 0, 0, 0, 0, 0, 3],                         // uploaded
        &[0, 0, 0, 2],                                     // event: started
        &[10, 0, 0, 1],                                    // ip
        &[0xca, 0xfe, 0xba, 0xbe],                         // key
        &[0, 0, 0, 50],                                    // num_want
        &[0x1a, 0xe1],                                     // port 6881
    ])
}
