//! Credentials and abuse limits: passwords ([`password`]), random secrets and their
//! constant-time comparison ([`secret`]), CSRF tokens ([`csrf`]) and rate limits
//! ([`ratelimit`]).

pub mod csrf;
pub mod password;
pub mod ratelimit;
pub mod secret;
