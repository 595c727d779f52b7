//! A uTP connection as a tokio byte stream. Clones share the connection: the peer code
//! reads from one and writes from another. Dropping the last clone closes the connection
//! gracefully (FIN after what was written).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use utp::State;

use super::{Endpoint, Shared, lock, wake};

/// Closes the connection when the last stream handle goes.
struct Handle {
    ep: Arc<Endpoint>,
    entry: Shared,
}

impl Drop for Handle {
    fn drop(&mut self) {
        let mut e = lock(&self.entry);
        e.released = true;
        e.conn.close();
        self.ep.flush(&mut e);
    }
}

/// A uTP connection.
#[derive(Clone)]
pub(crate) struct UtpStream {
    h: Arc<Handle>,
}

impl std::fmt::Debug for UtpStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UtpStream").finish_non_exhaustive()
    }
}

fn broken(state: State) -> Option<io::Error> {
    match state {
        State::Reset => Some(io::ErrorKind::ConnectionReset.into()),
        State::TimedOut => Some(io::ErrorKind::TimedOut.into()),
        _ => None,
    }
}

impl UtpStream {
    pub(super) fn new(ep: Arc<Endpoint>, entry: Shared) -> Self {
        Self {
            h: Arc::new(Handle { ep, entry }),
        }
    }

    /// Completes once the SYN is answered.
    pub(super) async fn connected(&self) -> io::Result<()> {
        std::future::poll_fn(|cx| {
            let mut e = lock(&self.h.entry);
            match e.conn.state() {
                State::SynSent => {
                    e.reader = Some(cx.waker().clone());
                    Poll::Pending
                }
                s => Poll::Ready(broken(s).map_or(Ok(()), Err)),
            }
        })
        .await
    }
}

impl AsyncRead for UtpStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let mut e = lock(&self.h.entry);
        let n = e.conn.read(buf.initialize_unfilled());
        if n > 0 {
            buf.advance(n);
            // Reading may have opened the window: the ack that says so goes out now.
            self.h.ep.flush(&mut e);
            return Poll::Ready(Ok(()));
        }
        if e.conn.is_eof() || e.conn.state() == State::Closed {
            return Poll::Ready(Ok(()));
        }
        if let Some(err) = broken(e.conn.state()) {
            return Poll::Ready(Err(err));
        }
        e.reader = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl AsyncWrite for UtpStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let mut e = lock(&self.h.entry);
        if let Some(err) = broken(e.conn.state()) {
            return Poll::Ready(Err(err));
        }
        if e.conn.state() == State::Closed {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let n = e.conn.write(buf);
        if n == 0 {
            e.writer = Some(cx.waker().clone());
            return Poll::Pending;
        }
        self.h.ep.flush(&mut e);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Written bytes are the connection's: it sends them as the windows allow.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut e = lock(&self.h.entry);
        e.conn.close();
        self.h.ep.flush(&mut e);
        wake(&mut e);
        Poll::Ready(Ok(()))
    }
}
