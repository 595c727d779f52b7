//! HTTP/1.1 serving for every nexsuj server (tracker, site, and the servers to come): an axum
//! `Router` on hyper with the limits a server facing the Internet needs, which `axum::serve`
//! does not have.
//!
//! - a cap on open connections, and one per client address (IPv6 grouped by /64, since one
//!   host owns a whole /64), so one host cannot take every slot;
//! - a header-read timeout (a request head must be complete within it), a body-read timeout
//!   (a request body must be complete within it), an idle timeout (between requests, and for a
//!   peer that stops reading our response);
//! - a graceful shutdown that lets requests in flight finish, but not for longer than a grace
//!   period, so a client dribbling a body cannot hold the process open.
//!
//! Handlers get the client address as `ConnectInfo<SocketAddr>`; [`trace_requests`] adds a
//! tracing span per request (method and matched route, never the path's passkeys).
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use std::sync::Arc;
//! use http_server::{ServerCounters, ServerLimits};
//! let app = axum::Router::new().route("/", axum::routing::get(|| async { "hi" }));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let counters = Arc::new(ServerCounters::default());
//! http_server::serve(listener, app, ServerLimits::default(), counters, std::future::pending()).await
//! # }
//! ```

pub mod auth;
mod body;
mod connection;
mod counters;
mod ip_group;
mod limits;
pub mod prometheus;
mod serve;
mod stream;
mod trace;

pub use counters::ServerCounters;
pub use ip_group::{IpGroup, ip_group};
pub use limits::ServerLimits;
pub use serve::serve;
pub use stream::{Upgraded, UpgradedGuard};
pub use trace::trace_requests;
