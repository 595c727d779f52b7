//! The worker loop with batched system calls: `recvmmsg` takes every datagram waiting (up to
//! [`BATCH`]) in one call, the handler answers each, and `sendmmsg` sends all the replies in
//! one call. Under load that divides the per-call cost of the kernel boundary by the batch
//! size; with one datagram waiting it is the plain receive-answer-send loop.

use std::io::{self, IoSlice, IoSliceMut};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};

use nix::errno::Errno;
use nix::sys::socket::{MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg, sendmmsg};

use super::UdpHandler;
use crate::engine::Tracker;

/// Datagrams taken per call.
pub(super) const BATCH: usize = 32;

/// Receives, answers and sends until `stop` is set (the socket's read timeout bounds how long
/// that takes to be noticed).
pub(super) fn work(socket: &UdpSocket, mut handler: UdpHandler, tracker: &Tracker, stop: &AtomicBool) {
    let fd = socket.as_raw_fd();
    let mut bufs = vec![[0u8; tracker_proto::udp::MAX_PACKET]; BATCH];
    let mut replies: Vec<Vec<u8>> = (0..BATCH).map(|_| Vec::with_capacity(1500)).collect();
    let mut recv_headers = MultiHeaders::<SockaddrStorage>::preallocate(BATCH, None);
    let mut send_headers = MultiHeaders::<SockaddrStorage>::preallocate(BATCH, None);
    let mut got: Vec<(usize, Option<SocketAddr>)> = Vec::with_capacity(BATCH);
    let mut to: Vec<Option<SockaddrStorage>> = Vec::with_capacity(BATCH);
    while !stop.load(Ordering::Relaxed) {
        got.clear();
        {
            let mut iovs: Vec<[IoSliceMut<'_>; 1]> = bufs.iter_mut().map(|b| [IoSliceMut::new(b)]).collect();
            // MSG_WAITFORONE: block (up to the read timeout) for the first datagram only.
            match recvmmsg(
                fd,
                &mut recv_headers,
                iovs.iter_mut(),
                MsgFlags::MSG_WAITFORONE,
                None,
            ) {
                Ok(results) => got.extend(results.map(|r| (r.bytes, r.address.and_then(socket_addr)))),
                Err(Errno::EAGAIN | Errno::EINTR) => continue,
                Err(e) => {
                    // ICMP errors from earlier sends surface here on Linux; nothing to do.
                    tracing::debug!(error = %e, "UDP receive");
                    continue;
                }
            }
        }
        // One span per batch, not per datagram: disabled (below debug) it is one level check.
        let _batch = tracing::debug_span!("udp_batch", datagrams = got.len()).entered();
        to.clear();
        let now = tracker.now();
        let mut n = 0;
        for (i, (len, src)) in got.iter().enumerate() {
            let Some(src) = *src else { continue };
            if handler.handle(&bufs[i][..*len], src, now, &mut replies[n]) {
                to.push(Some(SockaddrStorage::from(src)));
                n += 1;
            }
        }
        if n > 0 {
            send_all(fd, &mut send_headers, &replies[..n], &to);
        }
        // With a shared store, this batch's announces go to Redis together.
        handler.flush_deferred();
    }
}

/// Sends `replies[i]` to `to[i]`, retrying the tail if the kernel took only part of the batch.
pub(super) fn send_all(
    fd: i32,
    headers: &mut MultiHeaders<SockaddrStorage>,
    replies: &[Vec<u8>],
    to: &[Option<SockaddrStorage>],
) {
    let mut from = 0;
    while from < replies.len() {
        let iovs: Vec<[IoSlice<'_>; 1]> = replies[from..].iter().map(|r| [IoSlice::new(r)]).collect();
        match sendmmsg(fd, headers, iovs.iter(), &to[from..], [], MsgFlags::empty()) {
            Ok(results) => {
                let sent = results.count();
                if sent == 0 {
                    return;
                }
                from += sent;
            }
            Err(Errno::EINTR) => {}
            Err(e) => {
                // One bad destination fails the call at that datagram: skip it, send the rest.
                tracing::debug!(error = %io::Error::from(e), "UDP send");
                from += 1;
            }
        }
    }
}

fn socket_addr(s: SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = s.as_sockaddr_in() {
        return Some(SocketAddr::V4((*v4).into()));
    }
    s.as_sockaddr_in6().map(|v6| SocketAddr::V6((*v6).into()))
}
