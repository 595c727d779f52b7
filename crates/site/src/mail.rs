//! Outgoing mail through lettre: an SMTP relay when one is configured, otherwise each mail
//! is written as an `.eml` file to `<data dir>/outbox/` and the log says where, so a fresh
//! machine works without a mail server.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{MailSection, SiteConfig, SmtpTls};
use crate::error::SiteError;

/// Where mails go.
#[derive(Clone)]
pub enum Mailer {
    /// `.eml` files in a directory.
    Outbox(PathBuf, AsyncFileTransport<Tokio1Executor>),
    /// An SMTP relay.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Outbox(dir, _) => write!(f, "Mailer::Outbox({})", dir.display()),
            Self::Smtp(_) => f.write_str("Mailer::Smtp"),
        }
    }
}

/// The SMTP transport of the configuration: TLS (rustls, Mozilla's roots) as `smtp_tls`
/// says, authenticated when a user is set, with a timeout so a dead relay cannot hold a
/// sign-up request for ever.
fn smtp_transport(config: &MailSection) -> Result<AsyncSmtpTransport<Tokio1Executor>, SiteError> {
    type Smtp = AsyncSmtpTransport<Tokio1Executor>;
    let host = config.smtp_host.as_str();
    let tls_error = |e: lettre::transport::smtp::Error| SiteError::Config(format!("smtp_host {host:?}: {e}"));
    let mut builder = match config.smtp_tls {
        SmtpTls::Starttls => Smtp::starttls_relay(host).map_err(tls_error)?,
        SmtpTls::Tls => Smtp::relay(host).map_err(tls_error)?,
        SmtpTls::None => Smtp::builder_dangerous(host),
    };
    let port = match config.smtp_port {
        0 => config.smtp_tls.default_port(),
        p => p,
    };
    builder = builder.port(port).timeout(Some(Duration::from_secs(30)));
    if !config.smtp_user.is_empty() {
        builder = builder.credentials(Credentials::new(
            config.smtp_user.clone(),
            config.smtp_password.0.clone(),
        ));
    }
    Ok(builder.build())
}

impl Mailer {
    /// The mailer the configuration asks for (creating the outbox if needed).
    pub fn from_config(config: &SiteConfig) -> Result<Self, SiteError> {
        if !config.mail.smtp_host.is_empty() {
            return Ok(Self::Smtp(smtp_transport(&config.mail)?));
        }
        let dir = config.outbox_dir();
        std::fs::create_dir_all(&dir).map_err(|source| SiteError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        Ok(Self::Outbox(dir.clone(), AsyncFileTransport::new(dir)))
    }

    /// Sends a plain-text mail. Neither the body nor the subject is logged (a body may hold a
    /// sign-up code; callers keep codes out of subjects too, which mail lists show).
    pub async fn send(&self, from: &str, to: &str, subject: &str, body: String) -> Result<(), SiteError> {
        let bad = |e: String| SiteError::Mail(e);
        let msg = Message::builder()
            .from(from.parse().map_err(|e| bad(format!("sender {from:?}: {e}")))?)
            .to(to.parse().map_err(|e| bad(format!("recipient: {e}")))?)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| bad(e.to_string()))?;
        match self {
            Self::Outbox(dir, transport) => {
                let id = transport.send(msg).await.map_err(|e| bad(e.to_string()))?;
                let path = dir.join(format!("{id}.eml"));
                tracing::info!(path = %path.display(), "mail written to the outbox");
            }
            Self::Smtp(transport) => {
                transport.send(msg).await.map_err(|e| bad(e.to_string()))?;
                tracing::debug!("mail sent");
            }
        }
        Ok(())
    }
}
