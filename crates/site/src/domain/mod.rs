//! The site's rules, apart from HTTP: what an upload, a sign-up or a passkey change must
//! satisfy, and what each does to the database and to the tracker's caches. A web handler
//! reads its request, calls one of these services with plain values and turns the typed
//! result into a page or the JSON envelope; the services know nothing of axum, so their
//! unit tests need no HTTP.
//!
//! - [`upload`] — checking and storing an uploaded torrent.
//! - [`signup`] — sign-up codes and account creation.
//! - [`passkey`] — passkey reset, the passkey of a download and personal announce URLs.

pub mod passkey;
pub mod signup;
pub mod upload;

#[cfg(test)]
pub(crate) mod testing;
