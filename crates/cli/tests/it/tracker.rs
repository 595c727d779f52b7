//! `nexsuj tracker` as a process: config layering, both protocols, clean stop on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::Duration;

struct Running {
    child: Child,
    log: BufReader<ChildStderr>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// Reads log lines until one contains `what`; returns the `address=` value on it.
    fn wait_for(&mut self, what: &str) -> Option<SocketAddr> {
        let mut line = String::new();
        loop {
            line.clear();
            assert!(
                self.log.read_line(&mut line).unwrap() > 0,
                "log ended before {what:?}"
            );
            if line.contains(what) {
                let addr = line.split("address=").nth(1)?.split_whitespace().next()?;
                return addr.parse().ok();
            }
        }
    }
}

fn start(args: &[&str], env: &[(&str, &str)]) -> Running {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nexsuj"));
    cmd.arg("tracker")
        .args(args)
        .stderr(Stdio::piped())
        .env("NEXSUJ_LOG", "info");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let log = BufReader::new(child.stderr.take().unwrap());
    Running { child, log }
}

#[test]
fn serves_http_and_udp_and_stops_cleanly_on_sigterm() {
    // Flags beat the environment: the HTTP port comes from --http, the interval from env.
    let mut t = start(
        &["--http", "127.0.0.1:0", "--udp", "127.0.0.1:0"],
        &[
            ("NEXSUJ_HTTP_ADDRESS", "127.0.0.1:1"),
            ("NEXSUJ_INTERVAL", "1234"),
        ],
    );
    let http = t.wait_for("HTTP tracker listening").unwrap();
    let udp = t.wait_for("UDP tracker listening").unwrap();
    let text = http_announce(http, "%aa");
    assert!(text.contains("8:intervali1234e"), "{text}");

    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut connect = 0x41727101980u64.to_be_bytes().to_vec();
    connect.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 7]);
    client.send_to(&connect, udp).unwrap();
    let mut buf = [0u8; 64];
    let (n, _) = client.recv_from(&mut buf).unwrap();
    assert_eq!((n, &buf[..8]), (16, &[0, 0, 0, 0, 0, 0, 0, 7][..]));

    let pid = t.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    t.wait_for("shutting down");
    let status = t.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

fn http_announce(http: SocketAddr, hash_byte: &str) -> String {
    let mut s = TcpStream::connect(http).unwrap();
    let q = format!(
        "info_hash={}&peer_id={}&port=1&left=0",
        hash_byte.repeat(20),
        "x".repeat(20)
    );
    write!(
        s,
        "GET /announce?{q} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).unwrap();
    String::from_utf8_lossy(&reply).into_owned()
}

#[test]
fn sighup_reloads_the_allow_list() {
    let dir = testkit::TempDir::new("tracker-list");
    let list = dir.path().join("allowed.txt");
    std::fs::write(&list, format!("{}\n", "aa".repeat(20))).unwrap();
    let list_arg = list.to_str().unwrap();
    let mut t = start(
        &[
            "--http",
            "127.0.0.1:0",
            "--udp",
            "127.0.0.1:0",
            "--mode",
            "allow",
            "--list-file",
            list_arg,
        ],
        &[],
    );
    let http = t.wait_for("HTTP tracker listening").unwrap();
    assert!(http_announce(http, "%aa").contains("8:interval"));
    assert!(http_announce(http, "%bb").contains("torrent not registered"));
    std::fs::write(&list, format!("{}\n{}\n", "aa".repeat(20), "bb".repeat(20))).unwrap();
    let pid = t.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    t.wait_for("list reloaded");
    assert!(http_announce(http, "%bb").contains("8:interval"));
}

#[test]
fn bad_configuration_is_one_line_naming_the_key() {
    let out = Command::new(env!("CARGO_BIN_EXE_nexsuj"))
        .args(["tracker", "--mode", "allow"])
        .env("NEXSUJ_MAX_NUMWANT", "lots")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("max_numwant: invalid type"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_nexsuj"))
        .args(["tracker", "--mode", "allow"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a list_file"));
    let out = Command::new(env!("CARGO_BIN_EXE_nexsuj"))
        .args(["tracker", "--print-default-config"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("udp_address = \"127.0.0.1:6969\""));
}

#[test]
fn a_config_file_in_sections_is_checked_key_by_key() {
    let dir = testkit::TempDir::new("tracker-config");
    let file = dir.path().join("tracker.toml");
    let file_arg = file.to_str().unwrap();
    let run = |text: &str| {
        std::fs::write(&file, text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_nexsuj"))
            .args(["tracker", "-c", file_arg, "--mode", "allow"])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run("[http]\nhttp_adress = \"127.0.0.1:1\"\n");
    assert_eq!(code, Some(2));
    assert!(
        err.contains("http.http_adress: unknown field `http_adress`"),
        "{err}"
    );
    let (_, err) = run("max_numwant = 5\n");
    assert!(err.contains("max_numwant belongs in [announce]"), "{err}");
    // A good file gets as far as the policy, which wants the list for --mode allow.
    let (_, err) = run("[announce]\nmax_numwant = 5\n[udp]\nudp_workers = 2\n");
    assert!(err.contains("needs a list_file"), "{err}");
}
