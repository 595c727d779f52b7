//! Sign-up codes through an SMTP relay: a small relay written here, on a real TCP socket,
//! records what lettre says to it.

// The relay's helpers may unwrap: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use serde_json::json;
use site::config::{Secret, SmtpTls};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::support::{Backend, TestSite};

/// A relay that offers AUTH but not STARTTLS and accepts every mail; returns its port and
/// the client's lines.
async fn relay() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let seen = lines.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut read = BufReader::new(read);
                write.write_all(b"220 relay.test ESMTP\r\n").await.unwrap();
                let mut in_data = false;
                let mut line = String::new();
                while read.read_line(&mut line).await.unwrap_or(0) > 0 {
                    let text = line.trim_end().to_owned();
                    line.clear();
                    seen.lock().unwrap().push(text.clone());
                    let reply: &[u8] = if in_data {
                        if text != "." {
                            continue;
                        }
                        in_data = false;
                        b"250 queued\r\n"
                    } else if text.starts_with("EHLO") {
                        b"250-relay.test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"
                    } else if text.starts_with("AUTH") {
                        b"235 authenticated\r\n"
                    } else if text == "DATA" {
                        in_data = true;
                        b"354 go on\r\n"
                    } else if text == "QUIT" {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 ok\r\n"
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, lines)
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::test]
async fn codes_go_through_an_authenticated_relay() {
    let (port, lines) = relay().await;
    let t = TestSite::with_config(Backend::Sqlite, |c| {
        c.mail.smtp_host = "127.0.0.1".into();
        c.mail.smtp_port = port;
        c.mail.smtp_tls = SmtpTls::None;
        c.mail.smtp_user = "site".into();
        c.mail.smtp_password = Secret("s3cret".into());
    })
    .await;
    let r = t
        .post_json("/signup/code", json!({ "email": "relay@example.org" }), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let lines = lines.lock().unwrap().clone();
    let auth = format!("AUTH PLAIN {}", base64(b"\0site\0s3cret"));
    assert!(lines.contains(&auth), "no {auth:?} in {lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("RCPT TO:<relay@example.org>")));
    assert!(
        lines.iter().any(|l| l.contains("sign-up code: ")),
        "the code is in the mail: {lines:?}"
    );
    assert!(
        !t.dir.path().join("outbox").exists(),
        "nothing went to the outbox"
    );
    t.finish().await;
}

#[tokio::test]
async fn required_starttls_is_never_downgraded() {
    let (port, lines) = relay().await;
    let t = TestSite::with_config(Backend::Sqlite, |c| {
        c.mail.smtp_host = "127.0.0.1".into();
        c.mail.smtp_port = port;
        c.mail.smtp_user = "site".into();
        c.mail.smtp_password = Secret("s3cret".into());
    })
    .await;
    let r = t
        .post_json("/signup/code", json!({ "email": "tls@example.org" }), None)
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
    let lines = lines.lock().unwrap().clone();
    assert!(
        lines.iter().any(|l| l.starts_with("EHLO")),
        "the relay was asked: {lines:?}"
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.starts_with("AUTH") || l.starts_with("MAIL")),
        "no password and no mail in plain text: {lines:?}"
    );
    t.finish().await;
}

#[test]
fn base64_matches_the_rfc_examples() {
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
}
