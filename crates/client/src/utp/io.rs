//! The endpoint's system calls. A transfer is hundreds of thousands of 1,400-byte datagrams
//! per gigabyte, and the kernel's cost per datagram was most of uTP's CPU: so a connection's
//! packets leave in one call as segments of one buffer (UDP GSO, the kernel cuts them), and
//! arrive by the batch (`recvmmsg`), runs of them from one sender as one buffer (UDP GRO).
//! Where the kernel lacks either, the plain calls do the same work one datagram at a time.

use std::io::{self, IoSlice, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use nix::errno::Errno;
use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg, sendmsg, sendto,
    setsockopt, sockopt,
};
use tokio::net::UdpSocket;

/// Most segments in one GSO send (the kernel's `UDP_MAX_SEGMENTS`).
const MAX_SEGMENTS: usize = 64;
/// Most bytes in one GSO send: an IP datagram's payload, less the UDP header, with room to spare.
const MAX_GSO_BYTES: usize = 65_000;
/// Messages per `recvmmsg` with GRO (each may hold many datagrams), and without.
const RECV_GRO: (usize, usize) = (16, 1 << 16);
const RECV_PLAIN: (usize, usize) = (64, 2048);

/// One of the endpoint's UDP sockets and what its kernel can do.
#[derive(Debug)]
pub(crate) struct Socket {
    pub udp: Arc<UdpSocket>,
    pub ipv4: bool,
    fd: RawFd,
    /// Sends may carry segments; cleared the first time the kernel refuses them.
    gso: AtomicBool,
    /// Receives may hold several datagrams (the segment size says where they split).
    gro: bool,
}

impl Socket {
    /// Wraps `udp`, turning GRO on where the kernel has it.
    pub fn new(udp: Arc<UdpSocket>) -> Self {
        let ipv4 = udp.local_addr().is_ok_and(|a| a.is_ipv4());
        let gro = setsockopt(&*udp, sockopt::UdpGroSegment, &true).is_ok();
        Self {
            fd: udp.as_raw_fd(),
            udp,
            ipv4,
            gso: AtomicBool::new(true),
            gro,
        }
    }

    /// Sends the packets of `batch` to `to`. A full socket buffer drops them, which uTP
    /// treats as a loss.
    pub fn send(&self, batch: &Segments, to: SocketAddr) {
        if batch.count == 0 {
            return;
        }
        let addr = SockaddrStorage::from(to);
        if batch.count > 1 && self.gso.load(Ordering::Relaxed) {
            let seg = batch.segment as u16;
            let cmsg = [ControlMessage::UdpGsoSegments(&seg)];
            match sendmsg(
                self.fd,
                &[IoSlice::new(&batch.buf)],
                &cmsg,
                MsgFlags::empty(),
                Some(&addr),
            ) {
                Ok(_) | Err(Errno::EAGAIN) => return,
                // A kernel or device without segmentation offload: one at a time from now on.
                Err(Errno::EIO | Errno::EINVAL | Errno::EOPNOTSUPP | Errno::ENOPROTOOPT) => {
                    tracing::debug!("UDP segmentation offload refused: sending datagrams one by one");
                    self.gso.store(false, Ordering::Relaxed);
                }
                Err(e) => {
                    tracing::trace!(%to, error = %e, "uTP send");
                    return;
                }
            }
        }
        for packet in batch.buf.chunks(batch.segment) {
            if sendto(self.fd, packet, &addr, MsgFlags::empty()).is_err() {
                return;
            }
        }
    }

    /// Takes what is waiting (one call), passing each datagram to `each`. `WouldBlock` when
    /// nothing is.
    pub fn receive(&self, bufs: &mut Receive, mut each: impl FnMut(&[u8], SocketAddr)) -> io::Result<()> {
        let got = {
            let cmsg = self.gro.then(|| nix::cmsg_space!(i32));
            // Fresh headers each call: nix leaves the control length the kernel wrote last time.
            let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(bufs.bufs.len(), cmsg);
            let mut iovs: Vec<[IoSliceMut<'_>; 1]> =
                bufs.bufs.iter_mut().map(|b| [IoSliceMut::new(b)]).collect();
            let results = match recvmmsg(
                self.fd,
                &mut headers,
                iovs.iter_mut(),
                MsgFlags::MSG_DONTWAIT,
                None,
            ) {
                Ok(r) => r,
                Err(Errno::EAGAIN) => return Err(io::ErrorKind::WouldBlock.into()),
                Err(e) => return Err(e.into()),
            };
            bufs.got.clear();
            for r in results {
                let segment = r
                    .cmsgs()
                    .ok()
                    .and_then(|mut c| {
                        c.find_map(|m| match m {
                            ControlMessageOwned::UdpGroSegments(s) => usize::try_from(s).ok(),
                            _ => None,
                        })
                    })
                    .filter(|s| *s > 0);
                let from = r.address.and_then(|a| socket_addr(&a));
                bufs.got.push((r.bytes, segment, from));
            }
            bufs.got.len()
        };
        for i in 0..got {
            let (len, segment, from) = bufs.got[i];
            let Some(from) = from else { continue };
            let data = &bufs.bufs[i][..len];
            match segment {
                Some(s) => data.chunks(s).for_each(|d| each(d, from)),
                None => each(data, from),
            }
        }
        Ok(())
    }

    /// Buffers for [`receive`](Self::receive) on this socket.
    pub fn receive_buffers(&self) -> Receive {
        let (n, size) = if self.gro { RECV_GRO } else { RECV_PLAIN };
        Receive {
            bufs: vec![vec![0u8; size]; n],
            got: Vec::with_capacity(n),
        }
    }
}

/// A reader's buffers.
pub(crate) struct Receive {
    bufs: Vec<Vec<u8>>,
    got: Vec<(usize, Option<usize>, Option<SocketAddr>)>,
}

fn socket_addr(s: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = s.as_sockaddr_in() {
        return Some(SocketAddr::V4((*v4).into()));
    }
    s.as_sockaddr_in6().map(|v6| SocketAddr::V6((*v6).into()))
}

/// Packets for one destination, back to back: all of one size but the last, which may be
/// shorter (what one GSO send can carry).
#[derive(Debug, Default)]
pub(crate) struct Segments {
    buf: Vec<u8>,
    segment: usize,
    count: usize,
}

impl Segments {
    /// Adds `packet` if the batch can carry it; false when it must be sent first.
    pub fn push(&mut self, packet: &[u8]) -> bool {
        if self.count > 0 {
            let closed = self.buf.len() < self.segment * self.count;
            if closed
                || packet.len() > self.segment
                || self.count == MAX_SEGMENTS
                || self.buf.len() + packet.len() > MAX_GSO_BYTES
            {
                return false;
            }
        } else {
            self.segment = packet.len();
        }
        self.buf.extend_from_slice(packet);
        self.count += 1;
        true
    }

    /// Empties the batch.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.count = 0;
    }

    /// Packets held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.count
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_batch_holds_one_size_and_a_shorter_last() {
        let mut b = Segments::default();
        assert!(b.push(&[1; 1400]));
        assert!(b.push(&[2; 1400]));
        assert!(!b.push(&[3; 1500]), "longer than the segment");
        assert!(b.push(&[4; 20]), "a shorter last one");
        assert!(!b.push(&[5; 20]), "nothing after the shorter one");
        assert_eq!(b.len(), 3);
        b.clear();
        for _ in 0..46 {
            assert!(b.push(&[6; 1400]));
        }
        assert!(!b.push(&[7; 1400]), "past 65,000 bytes");
    }

    /// Whatever the kernel does with segments, each datagram arrives whole and in order.
    #[tokio::test]
    async fn segments_arrive_as_datagrams() {
        let a = Socket::new(Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap()));
        let b = Socket::new(Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap()));
        let to = b.udp.local_addr().unwrap();
        let mut batch = Segments::default();
        let mut sent = Vec::new();
        for i in 0..30u8 {
            let p = vec![i; if i == 29 { 77 } else { 1400 }];
            assert!(batch.push(&p));
            sent.push(p);
        }
        a.send(&batch, to);
        let mut bufs = b.receive_buffers();
        let mut got: Vec<Vec<u8>> = Vec::new();
        while got.len() < sent.len() {
            b.udp.readable().await.unwrap();
            let r = b.udp.try_io(tokio::io::Interest::READABLE, || {
                b.receive(&mut bufs, |d, from| {
                    assert_eq!(from, a.udp.local_addr().unwrap());
                    got.push(d.to_vec());
                })
            });
            assert!(r.is_ok() || r.as_ref().is_err_and(|e| e.kind() == io::ErrorKind::WouldBlock));
        }
        assert_eq!(got, sent);
    }
}
