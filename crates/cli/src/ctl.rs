//! `nexsuj ctl`: a client of the daemon's API, for scripts and terminals. The token comes
//! from `--token` / `NEXSUJ_API_TOKEN`, else from the daemon's state folder.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use serde_json::Value;

use crate::{Outcome, output};

/// Options of `nexsuj ctl`.
#[derive(Args)]
pub struct CtlArgs {
    /// The daemon's address.
    #[arg(
        long,
        env = "NEXSUJ_DAEMON",
        default_value = "127.0.0.1:8090",
        value_name = "HOST:PORT"
    )]
    daemon: String,
    /// The API token (default: the one in STATE_DIR/api-token).
    #[arg(long, env = "NEXSUJ_API_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The daemon's state folder, where its token is kept.
    #[arg(long, default_value = "nexsuj-daemon", value_name = "DIR")]
    state_dir: PathBuf,
    /// Print the API's JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: CtlCommand,
}

#[derive(Subcommand)]
enum CtlCommand {
    /// Add a .torrent file or a magnet link.
    Add {
        /// The .torrent file or the magnet link (quote it in the shell).
        torrent: String,
        /// Folder for the data (default: the daemon's download folder).
        #[arg(short, long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Add it stopped.
        #[arg(long)]
        paused: bool,
    },
    /// List the torrents.
    List,
    /// Show one torrent: trackers, peers, files.
    Info {
        /// Its info-hash (40 hex digits).
        hash: String,
    },
    /// Stop a torrent.
    Stop {
        /// Its info-hash.
        hash: String,
    },
    /// Start a torrent.
    Start {
        /// Its info-hash.
        hash: String,
    },
    /// Remove a torrent.
    Remove {
        /// Its info-hash.
        hash: String,
        /// Delete its data too.
        #[arg(long)]
        delete: bool,
    },
    /// Set limits in KiB/s (0 = none), for a torrent or, without HASH, the whole daemon.
    Rate {
        /// The torrent's info-hash; none: the global limits.
        hash: Option<String>,
        /// Download limit, KiB/s.
        #[arg(long)]
        down: Option<u64>,
        /// Upload limit, KiB/s.
        #[arg(long)]
        up: Option<u64>,
    },
}

/// Runs one `ctl` command.
pub fn run(args: CtlArgs) -> anyhow::Result<Outcome> {
    let api = Api::new(&args)?;
    let json = args.json;
    let answer = match args.command {
        CtlCommand::Add { torrent, out, paused } => {
            let dir = out
                .map(|d| std::path::absolute(&d).unwrap_or(d).display().to_string())
                .unwrap_or_default();
            if torrent.starts_with("magnet:") {
                let body = serde_json::json!({"url": torrent, "targetdir": dir});
                let v = api.call(
                    "POST",
                    "/addmagnet",
                    &[],
                    Some(("application/json", body.to_string().into_bytes())),
                )?;
                if paused {
                    let hash = v["infohash"].as_str().unwrap_or_default().to_string();
                    api.call("POST", "/stoptorrent", &[("infohash", &hash)], None)?;
                }
                v
            } else {
                let bytes = std::fs::read(&torrent).with_context(|| format!("reading {torrent}"))?;
                let start = if paused { "false" } else { "true" };
                let mut q = vec![("start", start)];
                if !dir.is_empty() {
                    q.push(("path", &dir));
                }
                api.call(
                    "POST",
                    "/addtorrentfile",
                    &q,
                    Some(("application/x-bittorrent", bytes)),
                )?
            }
        }
        CtlCommand::List => api.call("GET", "/alldata", &[("brief", "true")], None)?,
        CtlCommand::Info { hash } => api.call("GET", "/torrentdata", &[("infohash", &hash)], None)?,
        CtlCommand::Stop { hash } => api.call("POST", "/stoptorrent", &[("infohash", &hash)], None)?,
        CtlCommand::Start { hash } => api.call("POST", "/starttorrent", &[("infohash", &hash)], None)?,
        CtlCommand::Remove { hash, delete } => api.call(
            "POST",
            "/removetorrent",
            &[
                ("infohash", &hash),
                ("delete", if delete { "true" } else { "false" }),
            ],
            None,
        )?,
        CtlCommand::Rate { hash, down, up } => {
            if down.is_none() && up.is_none() {
                bail!("give --down, --up or both (KiB/s, 0 = none)");
            }
            for (rate, per, global) in [
                (down, "/setdownrate", "/setglobaldownrate"),
                (up, "/setuprate", "/setglobaluprate"),
            ] {
                let Some(rate) = rate else { continue };
                let rate = rate.to_string();
                match &hash {
                    Some(h) => api.call("POST", per, &[("infohash", h), ("rate", &rate)], None)?,
                    None => api.call("POST", global, &[("rate", &rate)], None)?,
                };
            }
            serde_json::json!({})
        }
    };
    if json {
        output::stdout(&format!("{}\n", serde_json::to_string_pretty(&answer)?))?;
    } else {
        output::stdout(&crate::ctl_text::render(&answer))?;
    }
    Ok(Outcome::Ok)
}

/// The daemon's API over plain HTTP/1.1 (loopback or a trusted network; put TLS in front for
/// anything else).
struct Api {
    addr: SocketAddr,
    host: String,
    token: String,
}

impl Api {
    fn new(args: &CtlArgs) -> anyhow::Result<Self> {
        let host = args
            .daemon
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let addr = host
            .to_socket_addrs()
            .with_context(|| format!("daemon address {host}"))?
            .next()
            .with_context(|| format!("daemon address {host} resolves to nothing"))?;
        let token = match &args.token {
            Some(t) => t.clone(),
            None => {
                let path = client_api::daemon::store::token_path(&args.state_dir);
                std::fs::read_to_string(&path)
                    .with_context(|| {
                        format!(
                            "no --token or NEXSUJ_API_TOKEN, and cannot read {}",
                            path.display()
                        )
                    })?
                    .trim()
                    .to_string()
            }
        };
        Ok(Self { addr, host, token })
    }

    /// One request; the JSON answer, or an error with the API's `{error}`.
    fn call(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        body: Option<(&str, Vec<u8>)>,
    ) -> anyhow::Result<Value> {
        let mut target = path.to_string();
        if !query.is_empty() {
            target.push('?');
            target.push_str(&serde_urlencoded::to_string(query)?);
        }
        let (kind, body) = body.unwrap_or(("application/json", Vec::new()));
        let mut s = TcpStream::connect_timeout(&self.addr, Duration::from_secs(10))
            .with_context(|| format!("cannot reach the daemon at {}", self.addr))?;
        s.set_read_timeout(Some(Duration::from_secs(120)))?;
        let head = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.host,
            self.token,
            body.len()
        );
        s.write_all(head.as_bytes())?;
        s.write_all(&body)?;
        let mut raw = Vec::new();
        s.take(64 << 20).read_to_end(&mut raw)?;
        let (status, body) = parse_response(&raw).context("the daemon's answer is not HTTP")?;
        let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if status != 200 {
            let why = value["error"].as_str().unwrap_or("no reason given");
            bail!("{method} {path}: {status}: {why}");
        }
        Ok(value)
    }
}

/// Status and body of an HTTP/1.1 response read to the end (Content-Length or chunked).
fn parse_response(raw: &[u8]) -> Option<(u16, Vec<u8>)> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let body = &raw[end + 4..];
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase().starts_with("transfer-encoding:") && l.to_ascii_lowercase().contains("chunked")
    });
    if !chunked {
        return Some((status, body.to_vec()));
    }
    client::tracker::dechunk(body).map(|b| (status, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_body_framings() {
        let plain = b"HTTP/1.1 404 Not Found\r\ncontent-length: 13\r\n\r\n{\"error\":\"x\"}";
        assert_eq!(parse_response(plain), Some((404, b"{\"error\":\"x\"}".to_vec())));
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked), Some((200, b"{\"a\":1}".to_vec())));
        assert_eq!(parse_response(b"garbage"), None);
    }
}
