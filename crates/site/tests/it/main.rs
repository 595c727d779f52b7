//! Integration tests of the site: every endpoint and its errors, on SQLite and (when
//! `NEXSUJ_TEST_PG` is set) PostgreSQL, in-process through the router.

mod support;

mod accounting;
mod accounts;
mod admin;
mod catalogue;
mod limits;
mod mail;
mod pages;
mod privacy;
mod scale_out;
mod search;
mod server;
