//! The seed's JSON envelope `{code, message, body}`: `code` mirrors the HTTP status.

use axum::Json;
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use crate::error::ApiError;

/// A successful JSON reply.
#[derive(Debug, Clone)]
pub struct Envelope {
    status: StatusCode,
    message: String,
    body: Value,
    cookies: Vec<String>,
}

impl Envelope {
    /// 200 with `body`.
    pub fn ok(body: impl Serialize) -> Self {
        Self {
            status: StatusCode::OK,
            message: "ok".into(),
            body: serde_json::to_value(body).unwrap_or(Value::Null),
            cookies: Vec::new(),
        }
    }

    /// 200 with an empty body object (what the seed shows for login, logout, upload).
    pub fn empty() -> Self {
        Self::ok(json!({}))
    }

    /// Replaces the message.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// Sets a cookie (a `Set-Cookie` value) with the reply.
    pub fn cookie(mut self, cookie: String) -> Self {
        self.cookies.push(cookie);
        self
    }
}

impl IntoResponse for Envelope {
    fn into_response(self) -> Response {
        let body = json!({ "code": self.status.as_u16(), "message": self.message, "body": self.body });
        let mut resp = (self.status, Json(body)).into_response();
        for c in self.cookies {
            if let Ok(v) = HeaderValue::from_str(&c) {
                resp.headers_mut().append(SET_COOKIE, v);
            }
        }
        resp
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = serde_json::Map::new();
        if let Some(field) = self.field {
            body.insert("field".into(), json!(field));
        }
        if let Some(id) = self.id {
            body.insert("id".into(), json!(id));
        }
        let payload = json!({ "code": self.status.as_u16(), "message": self.message, "body": body });
        with_retry_after((self.status, Json(payload)).into_response(), self.retry_after)
    }
}

/// Adds `Retry-After` to a refusal (JSON or a page) that names one.
pub fn with_retry_after(mut resp: Response, retry_after: Option<u32>) -> Response {
    if let Some(secs) = retry_after {
        resp.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}
