//! A TCP stream that enforces the header-read and idle timeouts.
//!
//! hyper has one timer, for reading a head, and starts it as soon as the previous response is
//! sent, so it cannot tell a slow head from an idle keep-alive connection. This wrapper can:
//! the service tells it when a request is in flight ([`Activity`]), and it knows when the
//! first byte of the next head arrived.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use crate::counters::ServerCounters;

/// Requests on one connection, as its service sees them.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    in_flight: AtomicU32,
    started: AtomicU64,
    /// The connection's task, when it last found nothing to read with a request in flight:
    /// hyper does not read again after answering unless woken, and the idle deadline starts
    /// only when a read finds the connection idle.
    reader: Mutex<Option<Waker>>,
}

impl Activity {
    /// Marks a request as in flight until the guard is dropped.
    pub(crate) fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.started.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }
}

/// A request in flight on its connection.
#[derive(Debug)]
pub(crate) struct InFlight(Arc<Activity>);

/// A handle on the connection a request came on, in the request's extensions: a handler that
/// takes the connection over (a WebSocket upgrade) holds [`Upgraded::hold`]'s guard while it
/// uses it, so that the header and idle timeouts of HTTP do not cut it; the handler then
/// enforces its own.
#[derive(Debug, Clone)]
pub struct Upgraded(pub(crate) Arc<Activity>);

/// Keeps the connection counted as busy while it lives.
#[derive(Debug)]
pub struct UpgradedGuard {
    _held: InFlight,
}

impl Upgraded {
    /// Marks the connection busy until the guard is dropped.
    pub fn hold(&self) -> UpgradedGuard {
        UpgradedGuard {
            _held: self.0.begin(),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::Relaxed) == 1 {
            let reader = self.0.reader.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(waker) = reader {
                waker.wake();
            }
        }
    }
}

/// The timeouts the stream enforces.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    pub(crate) header: Duration,
    pub(crate) idle: Duration,
}

/// A connection's stream with its read and write deadlines.
#[derive(Debug)]
pub(crate) struct GuardedStream {
    inner: TcpStream,
    activity: Arc<Activity>,
    timeouts: Timeouts,
    counters: Arc<ServerCounters>,
    /// The last time bytes moved either way.
    last_activity: Instant,
    /// When the head being read began, and which request it belongs to (the count of
    /// requests started when its first byte came).
    head_started: Option<(Instant, u64)>,
    /// Since when our writes have been refused by a full socket buffer.
    write_stalled_since: Option<Instant>,
    read_timer: Option<Pin<Box<Sleep>>>,
    write_timer: Option<Pin<Box<Sleep>>>,
}

/// Which deadline ran out.
#[derive(Debug, Clone, Copy)]
enum Expired {
    Header,
    Idle,
}

impl GuardedStream {
    pub(crate) fn new(
        inner: TcpStream,
        activity: Arc<Activity>,
        timeouts: Timeouts,
        counters: Arc<ServerCounters>,
    ) -> Self {
        Self {
            inner,
            activity,
            timeouts,
            counters,
            last_activity: Instant::now(),
            head_started: None,
            write_stalled_since: None,
            read_timer: None,
            write_timer: None,
        }
    }

    /// The deadline for a read that found nothing, if any: none while a request is in flight
    /// (its body has its own deadline, and a slow handler is not the client's fault).
    fn read_deadline(&self) -> Option<(Instant, Expired)> {
        if self.activity.in_flight.load(Ordering::Relaxed) > 0 {
            return None;
        }
        let started = self.activity.started.load(Ordering::Relaxed);
        match self.head_started {
            Some((at, of)) if of == started => Some((at + self.timeouts.header, Expired::Header)),
            _ => Some((self.last_activity + self.timeouts.idle, Expired::Idle)),
        }
    }

    fn expired(&self, what: Expired) -> io::Error {
        let (counter, message) = match what {
            Expired::Header => (
                &self.counters.header_timeouts,
                "request head not complete in time",
            ),
            Expired::Idle => (&self.counters.idle_timeouts, "connection idle too long"),
        };
        ServerCounters::bump(counter);
        io::Error::new(io::ErrorKind::TimedOut, message)
    }
}

/// Polls `timer` set to `deadline`, resetting it when the deadline moved; ready when passed.
fn timer_expired(timer: &mut Option<Pin<Box<Sleep>>>, deadline: Instant, cx: &mut Context<'_>) -> bool {
    let sleep = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
    if sleep.deadline() != deadline {
        sleep.as_mut().reset(deadline);
    }
    sleep.as_mut().poll(cx).is_ready()
}

impl AsyncRead for GuardedStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    let now = Instant::now();
                    this.last_activity = now;
                    if this.activity.in_flight.load(Ordering::Relaxed) == 0 {
                        let started = this.activity.started.load(Ordering::Relaxed);
                        if this.head_started.is_none_or(|(_, of)| of != started) {
                            this.head_started = Some((now, started));
                        }
                    }
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => match this.read_deadline() {
                Some((deadline, what)) if timer_expired(&mut this.read_timer, deadline, cx) => {
                    Poll::Ready(Err(this.expired(what)))
                }
                Some(_) => Poll::Pending,
                None => {
                    let mut reader = this.activity.reader.lock().unwrap_or_else(|p| p.into_inner());
                    if !reader.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                        *reader = Some(cx.waker().clone());
                    }
                    Poll::Pending
                }
            },
        }
    }
}

impl AsyncWrite for GuardedStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.after_write(polled, cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.after_write(polled, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl GuardedStream {
    /// Notes progress, or starts (and checks) the deadline of a stalled write: a peer that
    /// stops reading must not hold its connection and our buffered reply forever.
    fn after_write(
        &mut self,
        polled: Poll<io::Result<usize>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        match polled {
            Poll::Pending => {
                let since = *self.write_stalled_since.get_or_insert_with(Instant::now);
                if timer_expired(&mut self.write_timer, since + self.timeouts.idle, cx) {
                    return Poll::Ready(Err(self.expired(Expired::Idle)));
                }
                Poll::Pending
            }
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    self.write_stalled_since = None;
                    self.last_activity = Instant::now();
                }
                Poll::Ready(Ok(n))
            }
            other => other,
        }
    }
}
