//! `live-load`: load for a running `nexsuj live` (bench/live-load.sh starts one). Simulated viewers in
//! channels announce, then heartbeat and report at the intervals the tracker gives (and ask for peers
//! now and then), over a pool of keep-alive HTTP connections; signaling sockets in pairs, one offering to
//! the other every second. Prints JSON: requests per second held, latency percentiles per kind, relay latency,
//! and the server's resident memory per viewer (from /proc/PID/status).
//!
//! Usage: `live-load --server 127.0.0.1:8082 --pid PID [--peers 10000] [--channels 100]
//! [--sockets 1000] [--seconds 60] [--connections 32]`

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

struct Args {
    server: SocketAddr,
    pid: u32,
    peers: usize,
    channels: usize,
    sockets: usize,
    seconds: u64,
    connections: usize,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        server: SocketAddr::from(([127, 0, 0, 1], 8082)),
        pid: 0,
        peers: 10_000,
        channels: 100,
        sockets: 1_000,
        seconds: 60,
        connections: 32,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} takes a value"))?;
        let num = || value.parse::<u64>().map_err(|_| format!("{flag} takes a number"));
        match flag.as_str() {
            "--server" => a.server = value.parse().map_err(|_| "--server takes HOST:PORT".to_owned())?,
            "--pid" => a.pid = num()? as u32,
            "--peers" => a.peers = num()? as usize,
            "--channels" => a.channels = num()?.max(1) as usize,
            "--sockets" => a.sockets = num()? as usize,
            "--seconds" => a.seconds = num()?,
            "--connections" => a.connections = num()?.max(1) as usize,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(a)
}

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    io: BufReader<TcpStream>,
}

impl Conn {
    async fn open(to: SocketAddr) -> std::io::Result<Self> {
        let s = TcpStream::connect(to).await?;
        s.set_nodelay(true)?;
        Ok(Self {
            io: BufReader::new(s),
        })
    }

    /// A request; (status, body).
    async fn call(&mut self, method: &str, path: &str, body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\nContent-Type: application/json\r\n\r\n",
            body.len()
        );
        let s = self.io.get_mut();
        s.write_all(head.as_bytes()).await?;
        s.write_all(body).await?;
        let mut line = String::new();
        self.io.read_line(&mut line).await?;
        let status = line.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
        let mut length = 0usize;
        loop {
            line.clear();
            if self.io.read_line(&mut line).await? == 0 {
                return Err(std::io::Error::other("closed"));
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut out = vec![0u8; length];
        self.io.read_exact(&mut out).await?;
        Ok((status, out))
    }
}

/// Latencies by kind, in microseconds.
#[derive(Default)]
struct Latencies(HashMap<&'static str, Vec<u64>>);

impl Latencies {
    fn add(&mut self, kind: &'static str, d: Duration) {
        self.0.entry(kind).or_default().push(d.as_micros() as u64);
    }

    fn report(&mut self) -> Value {
        let mut out = serde_json::Map::new();
        for (kind, v) in &mut self.0 {
            v.sort_unstable();
            let p = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize] as f64 / 1000.0;
            out.insert(
                (*kind).to_owned(),
                json!({"count": v.len(), "p50_ms": p(0.5), "p99_ms": p(0.99), "max_ms": p(1.0)}),
            );
        }
        Value::Object(out)
    }
}

fn rss(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

struct Viewer {
    channel: String,
    id: String,
}

/// Runs `jobs` over `pool`, each connection taking the next job; latencies by kind.
async fn run_jobs(
    pool: &[Arc<Mutex<Conn>>],
    jobs: Vec<(&'static str, String, String, Vec<u8>)>,
) -> (Latencies, Vec<Value>, usize) {
    let jobs = Arc::new(std::sync::Mutex::new(
        jobs.into_iter().enumerate().collect::<Vec<_>>(),
    ));
    let mut set = tokio::task::JoinSet::new();
    for conn in pool {
        let conn = conn.clone();
        let jobs = jobs.clone();
        set.spawn(async move {
            let mut lat = Latencies::default();
            let mut answers = Vec::new();
            let mut errors = 0;
            let mut c = conn.lock().await;
            loop {
                let next = jobs.lock().ok().and_then(|mut j| j.pop());
                let Some((i, (kind, method, path, body))) = next else {
                    break;
                };
                let t = Instant::now();
                match c.call(&method, &path, &body).await {
                    Ok((200, reply)) => {
                        lat.add(kind, t.elapsed());
                        if kind == "announce" {
                            answers.push((i, serde_json::from_slice::<Value>(&reply).unwrap_or(Value::Null)));
                        }
                    }
                    _ => errors += 1,
                }
            }
            (lat, answers, errors)
        });
    }
    let mut all = Latencies::default();
    let mut answers = Vec::new();
    let mut errors = 0;
    while let Some(Ok((lat, a, e))) = set.join_next().await {
        for (k, v) in lat.0 {
            all.0.entry(k).or_default().extend(v);
        }
        answers.extend(a);
        errors += e;
    }
    answers.sort_by_key(|(i, _)| *i);
    (all, answers.into_iter().map(|(_, v)| v).collect(), errors)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = args()?;
    let mut pool = Vec::new();
    for _ in 0..a.connections {
        pool.push(Arc::new(Mutex::new(Conn::open(a.server).await?)));
    }
    let idle = rss(a.pid);
    // Announces: every viewer once, channel i % channels.
    let channels: Vec<String> = (0..a.channels).map(|c| format!("{:040x}", c + 1)).collect();
    // Jobs are taken from the end; answers are put back in job order.
    let jobs = (0..a.peers)
        .map(|i| {
            let ch = &channels[i % a.channels];
            (
                "announce",
                "GET".to_owned(),
                format!("/announce?info_hash={ch}&browser=Chrome&device=PC&os=Linux"),
                Vec::new(),
            )
        })
        .collect();
    let t = Instant::now();
    let (mut lat, answers, mut errors) = run_jobs(&pool, jobs).await;
    let announce_rate = a.peers as f64 / t.elapsed().as_secs_f64();
    let viewers: Vec<Viewer> = answers
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            Some(Viewer {
                channel: channels[i % a.channels].clone(),
                id: v["peer_id"].as_str()?.to_owned(),
            })
        })
        .collect();
    let hb = answers
        .first()
        .and_then(|v| v["heartbeat_interval"].as_u64())
        .unwrap_or(10)
        .max(1);
    let rep = answers
        .first()
        .and_then(|v| v["report_interval"].as_u64())
        .unwrap_or(20)
        .max(1);
    let announced = rss(a.pid);
    eprintln!(
        "{} viewers announced ({announce_rate:.0}/s), {errors} errors",
        viewers.len()
    );

    // Signaling: pairs of distinct viewers of one channel (viewer i watches channel i % channels): pair
    // p takes, in channel p % channels, the viewers of rounds 2r and 2r + 1 (r = p / channels). A peer id
    // has one socket; a second one would replace the first.
    let pairs = (a.sockets / 2).min(viewers.len() / 2 / a.channels * a.channels);
    let member =
        |p: usize, second: bool| (p % a.channels) + a.channels * (2 * (p / a.channels) + usize::from(second));
    let mut sockets = Vec::new();
    for i in 0..pairs * 2 {
        let v = &viewers[member(i / 2, i % 2 == 1)];
        let (ws, _) =
            tokio_tungstenite::connect_async(format!("ws://{}/signal?peer_id={}", a.server, v.id)).await?;
        sockets.push(ws);
    }
    let with_sockets = rss(a.pid);
    eprintln!("{} signaling sockets open", pairs * 2);
    let signal_lat = Arc::new(std::sync::Mutex::new(Vec::<u64>::new()));
    let origin = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let signals_sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut it = sockets.into_iter();
    for p in 0..pairs {
        let (Some(mut wa), Some(mut wb)) = (it.next(), it.next()) else {
            break;
        };
        let idb = viewers[member(p, true)].id.clone();
        let seconds = a.seconds;
        // A offers to B once a second, the time of sending inside; B reads whatever comes.
        let sent_count = signals_sent.clone();
        tasks.spawn(async move {
            let end = Instant::now() + Duration::from_secs(seconds);
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            while Instant::now() < end {
                tick.tick().await;
                let sent = origin.elapsed().as_micros() as u64;
                let offer = json!({"action": "signal", "to_peer_id": idb, "data": {"type": "offer", "sdp": sent.to_string()}});
                if wa.send(Message::Text(offer.to_string().into())).await.is_err() {
                    return;
                }
                sent_count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            // Let the last ones arrive, then close.
            tokio::time::sleep(Duration::from_secs(1)).await;
            let _ = wa.close(None).await;
        });
        let lat = signal_lat.clone();
        let seconds = a.seconds;
        tasks.spawn(async move {
            let until = tokio::time::Instant::now() + Duration::from_secs(seconds + 2);
            while let Ok(Some(Ok(m))) = tokio::time::timeout_at(until, wb.next()).await {
                let Message::Text(t) = m else { continue };
                let Ok(v) = serde_json::from_str::<Value>(t.as_str()) else {
                    continue;
                };
                let Some(sent) = v["data"]["sdp"].as_str().and_then(|x| x.parse::<u64>().ok()) else {
                    eprintln!("signaling: {t}");
                    continue;
                };
                if let Ok(mut l) = lat.lock() {
                    l.push(origin.elapsed().as_micros() as u64 - sent);
                }
            }
        });
    }

    // Steady state: each second the viewers whose turn it is heartbeat (every hb s) and report (every
    // rep s); 1 % ask for peers.
    let start = Instant::now();
    let mut behind = 0;
    let mut sent = 0usize;
    for s in 0..a.seconds {
        let second = Instant::now();
        let mut jobs = Vec::new();
        for (i, v) in viewers.iter().enumerate() {
            let q = format!("info_hash={}&peer_id={}", v.channel, v.id);
            if (i as u64 + s) % hb == 0 {
                jobs.push((
                    "heartbeat",
                    "GET".to_owned(),
                    format!("/heartbeat?{q}"),
                    Vec::new(),
                ));
            }
            if (i as u64 + s) % rep == 0 {
                let body = br#"{"source":200000,"p2p":800000,"conns":1,"failConns":0}"#.to_vec();
                jobs.push(("stats", "POST".to_owned(), format!("/stats?{q}"), body));
            }
            if (i as u64 + s) % 100 == 0 {
                jobs.push((
                    "get_peers",
                    "GET".to_owned(),
                    format!("/get_peers?{q}"),
                    Vec::new(),
                ));
            }
        }
        sent += jobs.len();
        let (l, _, e) = run_jobs(&pool, jobs).await;
        for (k, v) in l.0 {
            lat.0.entry(k).or_default().extend(v);
        }
        errors += e;
        match Duration::from_secs(1).checked_sub(second.elapsed()) {
            Some(rest) => tokio::time::sleep(rest).await,
            None => behind += 1,
        }
    }
    let steady = start.elapsed().as_secs_f64();
    let after = rss(a.pid);
    while tasks.join_next().await.is_some() {}
    let mut sig = signal_lat.lock().map(|l| l.clone()).unwrap_or_default();
    sig.sort_unstable();
    let sp = |q: f64| {
        if sig.is_empty() {
            0.0
        } else {
            sig[((sig.len() - 1) as f64 * q).round() as usize] as f64 / 1000.0
        }
    };
    let report = json!({
        "viewers": viewers.len(),
        "channels": a.channels,
        "http_connections": a.connections,
        "announces_per_second": announce_rate,
        "steady_requests_per_second": sent as f64 / steady,
        "seconds_behind_schedule": behind,
        "errors": errors,
        "latency": lat.report(),
        "signaling": {"sockets": pairs * 2, "offers_sent": signals_sent.load(std::sync::atomic::Ordering::Relaxed), "offers_received": sig.len(), "relay_p50_ms": sp(0.5), "p99_ms": sp(0.99), "max_ms": sp(1.0)},
        "server_rss_bytes": {"idle": idle, "after_announces": announced, "with_sockets": with_sockets, "end": after},
        "rss_bytes_per_viewer": announced.saturating_sub(idle) / viewers.len().max(1) as u64,
        "rss_bytes_per_socket": with_sockets.saturating_sub(announced) / (pairs * 2).max(1) as u64,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
