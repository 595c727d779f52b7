//! How `nexsuj ctl` shows the API's JSON to a person.

use std::fmt::Write as _;

use serde_json::Value;

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

/// KiB as a human size.
fn size(kib: f64) -> String {
    units::human_bytes((kib * 1024.0) as u64)
}

fn line(out: &mut String, s: &Value) {
    let _ = writeln!(
        out,
        "{}  {:<11} {:>5.1}%  {:>10}  down {:>10}/s  up {:>10}/s  peers {:>3}  ratio {:.2}  {}",
        s["infohash"].as_str().unwrap_or(""),
        s["state"].as_str().unwrap_or(""),
        num(&s["progress"]) * 100.0,
        size(num(&s["size"])),
        size(num(&s["downrate"])),
        size(num(&s["uprate"])),
        s["peers"].as_u64().unwrap_or(0),
        num(&s["ratio"]),
        s["name"].as_str().unwrap_or(""),
    );
}

/// The text for an answer: a list, one torrent, an added info-hash, or "ok".
pub fn render(v: &Value) -> String {
    let mut out = String::new();
    if let Some(sessions) = v["sessions"].as_array() {
        for s in sessions {
            line(&mut out, s);
        }
        let _ = writeln!(
            out,
            "{} torrents; down {}/s, up {}/s",
            sessions.len(),
            size(num(&v["downrate"])),
            size(num(&v["uprate"]))
        );
    } else if v.get("infohash_base64").is_some() {
        line(&mut out, v);
        if let Some(e) = v["error"].as_str() {
            let _ = writeln!(out, "error: {e}");
        }
        let _ = writeln!(out, "folder: {}", v["targetdir"].as_str().unwrap_or(""));
        for t in v["trackers"].as_array().into_iter().flatten() {
            let _ = writeln!(
                out,
                "tracker {}  {}  seeders {} leechers {}",
                t["url"].as_str().unwrap_or(""),
                t["status"].as_str().unwrap_or(""),
                t["seeders"],
                t["leechers"]
            );
        }
        for p in v["Peers"].as_array().into_iter().flatten() {
            let _ = writeln!(
                out,
                "peer {:<22} down {:>10}/s  up {:>10}/s  has {:>5.1}% of what we need  {}",
                p["host"].as_str().unwrap_or(""),
                size(num(&p["downrate"])),
                size(num(&p["uprate"])),
                num(&p["relevence"]) * 100.0,
                p["client"].as_str().unwrap_or(""),
            );
        }
        for f in v["files"].as_array().into_iter().flatten() {
            let _ = writeln!(
                out,
                "file {:>3}  {:>10}  {}",
                f["index"],
                size(num(&f["size"])),
                f["path"].as_str().unwrap_or("")
            );
        }
    } else if let Some(h) = v["infohash"].as_str() {
        let _ = writeln!(out, "added {h}");
    } else {
        out.push_str("ok\n");
    }
    out
}
