//! A request body that must arrive within the body-read timeout: a client sending one byte a
//! minute would otherwise hold its connection, and whatever the handler holds, for as long as
//! it likes.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::time::{Instant, Sleep};

use crate::counters::ServerCounters;

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// The connection failed or the client broke the framing.
    #[error("cannot read the request body: {0}")]
    Read(#[source] hyper::Error),
    /// The body was not complete before its deadline.
    #[error("the request body did not arrive within body_read_timeout")]
    TimedOut,
}

/// hyper's body with a deadline.
#[derive(Debug)]
pub(crate) struct DeadlineBody {
    inner: Incoming,
    deadline: Instant,
    /// Made on the first wait, so bodiless requests allocate no timer.
    timer: Option<Pin<Box<Sleep>>>,
    counters: Arc<ServerCounters>,
    timed_out: bool,
}

impl DeadlineBody {
    pub(crate) fn new(inner: Incoming, deadline: Instant, counters: Arc<ServerCounters>) -> Self {
        Self {
            inner,
            deadline,
            timer: None,
            counters,
            timed_out: false,
        }
    }
}

impl Body for DeadlineBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.get_mut();
        if this.timed_out {
            return Poll::Ready(Some(Err(BodyError::TimedOut)));
        }
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(BodyError::Read)));
        }
        let deadline = this.deadline;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if timer.as_mut().poll(cx).is_ready() {
            this.timed_out = true;
            ServerCounters::bump(&this.counters.body_timeouts);
            return Poll::Ready(Some(Err(BodyError::TimedOut)));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
