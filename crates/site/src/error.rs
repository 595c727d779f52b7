//! The site's errors: [`SiteError`] for failures inside the site (database, mail, templates),
//! and [`ApiError`], what a client is told (a status code and a message worded for a user,
//! optionally naming the form field at fault). Internal causes are logged, never shown.

use axum::http::StatusCode;

/// Something inside the site failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SiteError {
    /// The database refused or failed a query.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying the embedded migrations failed.
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A mail could not be built or sent.
    #[error("mail: {0}")]
    Mail(String),
    /// A page template failed to render.
    #[error("template: {0}")]
    Template(#[from] askama::Error),
    /// The password hasher failed (not a wrong password: that is a normal outcome).
    #[error("password hashing: {0}")]
    Password(String),
    /// The operating system's random generator failed.
    #[error("random generator: {0}")]
    Random(String),
    /// A file or directory could not be used.
    #[error("{path}: {source}")]
    Io {
        /// What was being accessed.
        path: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The configuration is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// The tracker's servers could not start (an address in use, a bad CIDR, …).
    #[error(transparent)]
    Tracker(#[from] tracker::Error),
    /// A blocking task panicked or was cancelled.
    #[error("background task: {0}")]
    Task(String),
}

/// What a client is told: HTTP status, a message for a person, and the form field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// The HTTP status (also the envelope's `code`).
    pub status: StatusCode,
    /// A message for the user.
    pub message: String,
    /// The input field at fault (`nick`, `email`, `pwd`, `code`, `torrent`, …), if any.
    pub field: Option<&'static str>,
    /// An id the client may want (the existing torrent of a duplicate upload).
    pub id: Option<i64>,
    /// Seconds after which a refused request may be tried again (`Retry-After`).
    pub retry_after: Option<u32>,
}

impl ApiError {
    /// An error with a status and a message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            field: None,
            id: None,
            retry_after: None,
        }
    }

    /// 400 naming the field at fault.
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: Some(field),
            ..Self::new(StatusCode::BAD_REQUEST, message)
        }
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 401: log in first.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "please log in")
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 404.
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("{what} not found"))
    }

    /// 429 with what was limited.
    pub fn too_many(message: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, message)
    }

    /// 503 with `Retry-After`: a bounded resource is in full use; nothing was counted
    /// against the client, who may simply try again.
    pub fn busy(message: impl Into<String>, retry_after: u32) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
        }
    }

    /// Replaces the status.
    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Sets the field at fault.
    pub fn with_field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }
}

impl From<SiteError> for ApiError {
    fn from(e: SiteError) -> Self {
        // The cause goes to the log; the client only learns that it was our fault.
        tracing::error!(error = %e, "internal error");
        if matches!(e, SiteError::Mail(_)) {
            return Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the mail could not be sent, please try again later",
            );
        }
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error, please try again later",
        )
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        SiteError::from(e).into()
    }
}
