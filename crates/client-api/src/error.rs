//! What goes wrong in a request, as the HTTP status that carries the answer and a JSON
//! `{error}` body that says which parameter and why. Bad input never makes a 500.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// A failed request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A parameter is missing or malformed (400).
    #[error("{param}: {why}")]
    BadParam {
        /// The parameter.
        param: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// The body is not what the endpoint takes (400).
    #[error("body: {0}")]
    BadBody(String),
    /// No valid credentials (401).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Credentials that may not do this (403).
    #[error("{0}")]
    Forbidden(&'static str),
    /// No torrent with this info-hash (404).
    #[error("no torrent with info-hash {0}")]
    UnknownTorrent(ids::InfoHash),
    /// No such thing (404).
    #[error("{0}")]
    NotFound(String),
    /// The torrent is in the daemon already (409).
    #[error("torrent {0} is already added")]
    Duplicate(ids::InfoHash),
    /// The request conflicts with the torrent's state (409).
    #[error("{0}")]
    Conflict(String),
    /// The endpoint does not take this method (405).
    #[error("method {0} not allowed here")]
    MethodNotAllowed(String),
    /// The body is over the limit (413).
    #[error("body over {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// Too many attempts (429).
    #[error("{0}")]
    TooMany(&'static str),
    /// A range outside the file (416).
    #[error("range not satisfiable: the file has {0} bytes")]
    BadRange(u64),
    /// Something on our side failed: the disk, the engine (500).
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 for `param`.
    pub fn param(param: &'static str, why: impl Into<String>) -> Self {
        Self::BadParam {
            param,
            why: why.into(),
        }
    }

    /// The status that carries this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadParam { .. } | Self::BadBody(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::UnknownTorrent(_) | Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Duplicate(_) | Self::Conflict(_) => StatusCode::CONFLICT,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::BadRange(_) => StatusCode::RANGE_NOT_SATISFIABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = (status, Json(serde_json::json!({ "error": self.to_string() }))).into_response();
        if let Self::Unauthorized(_) = self {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        if let Self::BadRange(len) = self
            && let Ok(v) = axum::http::HeaderValue::from_str(&format!("bytes */{len}"))
        {
            response
                .headers_mut()
                .insert(axum::http::header::CONTENT_RANGE, v);
        }
        response
    }
}

/// What handlers return.
pub type ApiResult<T> = Result<T, ApiError>;
