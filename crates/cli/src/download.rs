//! `nexsuj download` and `nexsuj seed`: one torrent through the client engine, with a
//! progress bar, a final summary, and Ctrl-C (or SIGTERM) saving resume state on the way out.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use client::{AddOptions, Allocation, Session, SessionConfig, TorrentHandle, TorrentSnapshot};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use metainfo::magnet::{Magnet, PeerAddr};
use serde::Serialize;

use crate::Outcome;
use crate::units::{human, parse_bytes};

/// Arguments of `nexsuj download`.
#[derive(Args)]
pub struct DownloadArgs {
    /// The .torrent file, or a magnet link (`magnet:?xt=urn:btih:…`; quote it in the shell).
    torrent: String,
    /// Folder to download into (the torrent's file or folder is created inside).
    #[arg(short = 'o', long = "output", default_value = ".")]
    out: PathBuf,
    /// Download pieces in order (for streaming) instead of rarest first.
    #[arg(long)]
    sequential: bool,
    /// Keep seeding after the download completes (until Ctrl-C).
    #[arg(long)]
    seed: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

/// Arguments of `nexsuj seed`.
#[derive(Args)]
pub struct SeedArgs {
    /// The .torrent file.
    torrent: PathBuf,
    /// The folder that holds the torrent's content (what `download -o DIR` names).
    dir: PathBuf,
    #[command(flatten)]
    engine: EngineArgs,
}

/// Engine settings shared by `download` and `seed`.
#[derive(Args)]
pub struct EngineArgs {
    /// A peer to connect to besides those the trackers name (repeatable).
    #[arg(long = "peer", value_name = "IP:PORT")]
    peers: Vec<SocketAddr>,
    /// Port to listen on (default: 6881, or the next free one up to 6889).
    #[arg(long)]
    port: Option<u16>,
    /// Address to listen on (repeatable; default: every IPv6 and IPv4 address).
    #[arg(long = "listen", value_name = "IP")]
    listen: Vec<IpAddr>,
    /// Download limit per second, e.g. 2MiB (default: none).
    #[arg(long, value_parser = parse_bytes, value_name = "BYTES")]
    max_down: Option<u64>,
    /// Upload limit per second, e.g. 512KiB (default: none).
    #[arg(long, value_parser = parse_bytes, value_name = "BYTES")]
    max_up: Option<u64>,
    /// Peers unchoked at a time (BEP 3 upload slots, the optimistic one included).
    #[arg(long, default_value_t = 4)]
    upload_slots: usize,
    /// Most peer connections.
    #[arg(long, default_value_t = 50)]
    max_peers: usize,
    /// Hash all data on disk first instead of trusting saved resume state.
    #[arg(long)]
    recheck: bool,
    /// Do not contact the torrent's trackers (use --peer).
    #[arg(long)]
    no_trackers: bool,
    /// A DHT node to join the network through (repeatable), HOST:PORT.
    #[arg(long = "dht-bootstrap", value_name = "HOST:PORT")]
    dht_bootstrap: Vec<String>,
    /// Do not use the DHT (private torrents never do, BEP 27).
    #[arg(long)]
    no_dht: bool,
    /// Peer connection encryption (MSE/PE): disabled, enabled (accept both, try encrypted
    /// first) or required (RC4 only).
    #[arg(long, default_value = "enabled", value_name = "POLICY")]
    encryption: client::Encryption,
    /// A PEM file of CA certificates to trust for HTTPS trackers, besides the usual roots.
    #[arg(long, value_name = "FILE")]
    tracker_ca: Option<PathBuf>,
    /// Peer transports: tcp, utp (BEP 29) or both (uTP tried first, as libtorrent does).
    #[arg(long, default_value = "both", value_name = "TRANSPORT")]
    transport: client::TransportPolicy,
    /// Write files in full up front instead of sparse.
    #[arg(long)]
    preallocate: bool,
    /// Print the final summary as JSON.
    #[arg(long)]
    json: bool,
    /// Log level on stderr: error, warn, info, debug or trace.
    #[arg(long, env = "NEXSUJ_LOG", default_value = "warn")]
    log: String,
}

#[derive(Serialize)]
struct Summary {
    name: String,
    info_hash: String,
    complete: bool,
    size: u64,
    downloaded: u64,
    uploaded: u64,
    wasted: u64,
    hash_failures: u64,
    banned_peers: usize,
    seconds: f64,
    peers: usize,
    /// The peers connected at the end: how each is reached and whether it is encrypted.
    connections: Vec<Connection>,
    /// Every peer connection of the run, by encryption.
    encryption: EncryptionCounts,
    /// Connections dropped for their encryption (a failed handshake, a refused policy).
    encryption_failures: u64,
    /// Every peer connection of the run, by transport.
    transports: TransportCounts,
}

#[derive(Serialize)]
struct TransportCounts {
    tcp: u64,
    utp: u64,
}

#[derive(Serialize)]
struct EncryptionCounts {
    plaintext: u64,
    obfuscated: u64,
    rc4: u64,
}

#[derive(Serialize)]
struct Connection {
    addr: String,
    client: Option<String>,
    /// `tcp` or `utp`.
    transport: &'static str,
    /// `plaintext`, `obfuscated` (MSE handshake only) or `rc4`.
    encryption: &'static str,
    outgoing: bool,
    downloaded: u64,
    uploaded: u64,
}

/// Runs `nexsuj download`.
pub fn run_download(args: DownloadArgs) -> Result<Outcome> {
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let source = if args.torrent.starts_with("magnet:") {
        Source::Magnet(Box::new(
            Magnet::parse(&args.torrent).context("cannot read the magnet link")?,
        ))
    } else {
        Source::File(PathBuf::from(&args.torrent))
    };
    run(source, args.out, args.sequential, !args.seed, args.engine)
}

/// What `download` and `seed` start from.
enum Source {
    File(PathBuf),
    /// A magnet link: the metadata is fetched from peers first (BEP 9).
    Magnet(Box<Magnet>),
}

/// How long a magnet link's metadata may take to arrive.
const METADATA_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `nexsuj seed`.
pub fn run_seed(args: SeedArgs) -> Result<Outcome> {
    if !args.dir.is_dir() {
        anyhow::bail!("{} is not a directory", args.dir.display());
    }
    run(Source::File(args.torrent), args.dir, false, false, args.engine)
}

fn run(
    source: Source,
    dir: PathBuf,
    sequential: bool,
    exit_when_done: bool,
    e: EngineArgs,
) -> Result<Outcome> {
    crate::logging::init(&e.log)?;
    // A bad .torrent file is reported before anything starts.
    let source = match source {
        Source::File(path) => Ok(crate::info::load(&path)?),
        Source::Magnet(magnet) => Err(magnet),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        let mut config = SessionConfig {
            listen_addrs: e.listen.clone(),
            upload_slots: e.upload_slots,
            max_peers_per_torrent: e.max_peers,
            encryption: e.encryption,
            tracker_ca: e.tracker_ca.clone(),
            transport: e.transport,
            ..SessionConfig::default()
        };
        if let Some(p) = e.port {
            config.ports = (p, p);
        }
        let session = Session::new(config).await.context("cannot listen for peers")?;
        let ports: Vec<String> = session.listen_addrs().iter().map(ToString::to_string).collect();
        crate::output::stderr_line(&format!("listening on {}", ports.join(", ")));
        let mut peers = e.peers.clone();
        let nodes = source.as_ref().map(|t| t.nodes.clone()).unwrap_or_default();
        let dht = start_dht(&e, &session, &nodes).await;
        let torrent = match source {
            Ok(t) => t,
            Err(mut magnet) => {
                // The magnet's x.pe peers are the download's peers too.
                peers.extend(magnet.peers.iter().filter_map(|p| match p {
                    PeerAddr::Ip(a) => Some(*a),
                    PeerAddr::Host { .. } => None,
                }));
                if e.no_trackers {
                    magnet.trackers.clear();
                }
                // A magnet that names no tracker and no peer has only the DHT to go on.
                let nothing_else = peers.is_empty() && magnet.trackers.is_empty();
                if let (Some(dht), Some(ih), true) = (&dht, magnet.info_hash_v1, nothing_else) {
                    crate::output::stderr_line("looking for peers in the DHT");
                    dht.bootstrap().await;
                    peers.extend(client::dht::find_peers(dht, ih, METADATA_TIMEOUT).await);
                }
                crate::output::stderr_line("fetching the torrent's metadata from peers (BEP 9)");
                tokio::select! {
                    fetched = session.fetch_metadata(&magnet, &peers, METADATA_TIMEOUT) => {
                        fetched.context("cannot fetch the magnet link's metadata")?
                    }
                    () = stop_signal() => {
                        session.shutdown().await;
                        return Ok(Outcome::Problems);
                    }
                }
            }
        };
        let opts = AddOptions {
            dir,
            sequential,
            recheck: e.recheck,
            download_rate: e.max_down.unwrap_or(0),
            upload_rate: e.max_up.unwrap_or(0),
            allocation: if e.preallocate {
                Allocation::Full
            } else {
                Allocation::Sparse
            },
            peers,
            no_trackers: e.no_trackers,
        };
        let start = Instant::now();
        let private = torrent.info.private;
        let handle = session
            .add(torrent, opts)
            .await
            .context("cannot add the torrent")?;
        // Public torrents are kept in the DHT while they run (never private ones, BEP 27).
        if let Some(dht) = dht.filter(|_| !private) {
            let port = session.listen_addrs().first().map_or(0, |a| a.port());
            let torrent = handle.clone();
            tokio::spawn(async move {
                client::dht::keep_announcing(dht, torrent, port, Duration::from_secs(15 * 60)).await;
            });
        }
        let first = handle.snapshot();
        crate::output::stderr_line(&format!(
            "{}: {} of {} pieces verified on disk{}",
            first.name,
            first.have_pieces,
            first.num_pieces,
            if first.complete { ", seeding" } else { "" }
        ));
        let finished = watch(&handle, exit_when_done).await;
        let snap = handle.snapshot();
        let counters = session.snapshot().counters;
        session.shutdown().await;
        report(&snap, &counters, start.elapsed(), e.json)?;
        Ok(if finished || snap.complete {
            Outcome::Ok
        } else {
            Outcome::Problems
        })
    })
}

/// The DHT node of a download or seed, on UDP at the address and port peers reach us on TCP
/// (`None` with --no-dht, or when the port is taken: the download goes on without it).
async fn start_dht(e: &EngineArgs, session: &Session, nodes: &[(String, u16)]) -> Option<client::dht::Dht> {
    if e.no_dht {
        return None;
    }
    // The torrent's own `nodes` (BEP 5) stand in for the well-known routers.
    let hosts = if !nodes.is_empty() && e.dht_bootstrap.is_empty() {
        nodes.iter().map(|(h, p)| format!("{h}:{p}")).collect()
    } else {
        e.dht_bootstrap.clone()
    };
    match client::dht::Dht::start_for(session, hosts, None).await {
        Ok(d) => Some(d),
        Err(err) => {
            let port = session.listen_addrs().first().map_or(0, |a| a.port());
            crate::output::stderr_line(&format!("DHT off: cannot bind UDP port {port}: {err}"));
            None
        }
    }
}

/// Shows progress until the download completes (when `exit_when_done`) or a signal comes.
/// Returns true when it ended because the data is complete.
async fn watch(handle: &TorrentHandle, exit_when_done: bool) -> bool {
    let snap = handle.snapshot();
    let bar = ProgressBar::with_draw_target(Some(snap.total_size), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{prefix} [{bar:30.cyan/blue}] {percent:>3}% {msg}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(snap.name.clone());
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut announced_seeding = false;
    let signal = stop_signal();
    tokio::pin!(signal);
    // Wakes the loop the moment the last piece is verified, not at the next tick.
    let done = async {
        if exit_when_done {
            handle.wait_complete().await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::pin!(done);
    let mut done_fired = false;
    loop {
        tokio::select! {
            _ = &mut signal => {
                bar.finish_and_clear();
                return false;
            }
            _ = &mut done, if !done_fired => done_fired = true,
            _ = tick.tick() => {}
        }
        let s = handle.snapshot();
        bar.set_position(s.total_size - s.left);
        bar.set_message(status_line(&s));
        if s.complete && exit_when_done {
            bar.finish_and_clear();
            return true;
        }
        if s.complete && !announced_seeding {
            announced_seeding = true;
            bar.set_prefix(format!("{} (seeding; Ctrl-C stops)", s.name));
        }
    }
}

fn status_line(s: &TorrentSnapshot) -> String {
    let eta = match s.left.checked_div(s.down_rate) {
        _ if s.complete => "done".to_owned(),
        Some(secs) => format!("ETA {}:{:02}", secs / 60, secs % 60),
        None => "ETA -".to_owned(),
    };
    format!(
        "↓ {}/s ↑ {}/s, {} peers, {eta}",
        human(s.down_rate),
        human(s.up_rate),
        s.peers.len()
    )
}

/// Completes on Ctrl-C or SIGTERM.
async fn stop_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

fn report(s: &TorrentSnapshot, c: &client::SessionCounters, took: Duration, json: bool) -> Result<()> {
    let sum = Summary {
        name: s.name.clone(),
        info_hash: s.info_hash.to_hex(),
        complete: s.complete,
        size: s.total_size,
        downloaded: s.downloaded,
        uploaded: s.uploaded,
        wasted: s.wasted,
        hash_failures: s.hash_failures,
        banned_peers: s.banned,
        seconds: took.as_secs_f64(),
        peers: s.peers.len(),
        connections: s
            .peers
            .iter()
            .map(|p| Connection {
                addr: p.addr.to_string(),
                client: p.client.clone(),
                transport: p.transport,
                encryption: p.encryption,
                outgoing: p.outgoing,
                downloaded: p.downloaded,
                uploaded: p.uploaded,
            })
            .collect(),
        encryption: EncryptionCounts {
            plaintext: c.peers_plaintext,
            obfuscated: c.peers_obfuscated,
            rc4: c.peers_rc4,
        },
        encryption_failures: c.encryption_failures,
        transports: TransportCounts {
            tcp: c.peers_tcp,
            utp: c.peers_utp,
        },
    };
    if json {
        return crate::output::stdout(&(serde_json::to_string_pretty(&sum)? + "\n"));
    }
    let secs = took.as_secs_f64().max(0.001);
    let state = if s.complete {
        "complete"
    } else {
        "incomplete (resume state saved)"
    };
    let text = format!(
        "{}: {state}, {} of {}; received {} in {:.1} s ({}/s), sent {}, wasted {}, {} hash failures, {} peers banned; \
         peer connections: {} rc4, {} obfuscated, {} plaintext; {} over uTP, {} over TCP\n",
        s.name,
        human(s.total_size - s.left),
        human(s.total_size),
        human(s.downloaded),
        secs,
        human((s.downloaded as f64 / secs) as u64),
        human(s.uploaded),
        human(s.wasted),
        s.hash_failures,
        s.banned,
        c.peers_rc4,
        c.peers_obfuscated,
        c.peers_plaintext,
        c.peers_utp,
        c.peers_tcp,
    );
    crate::output::stdout(&text)
}
