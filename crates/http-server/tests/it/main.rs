//! The server's limits against hostile clients, over real loopback sockets. Timeouts are set
//! short so the tests are quick; each waits for an event (the connection closing, a counter
//! moving), with an outer deadline only so that a regression fails instead of hanging.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod per_ip;
mod slow;
mod support;
