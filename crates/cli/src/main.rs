//! `nexsuj`: the one binary of the suite. Each subcommand lives in its own module; errors
//! are printed as one line and turned into a non-zero exit code, never a panic.

mod admin;
mod create;
mod ctl;
mod ctl_text;
mod daemon;
mod dht;
mod download;
mod info;
mod layered;
mod live;
mod logging;
mod output;
mod progress;
mod serve;
mod signals;
mod tracker;
mod units;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// nexsuj — a BitTorrent suite: torrents, tracker, private-tracker site, client.
#[derive(Parser)]
#[command(name = "nexsuj", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a .torrent file from a file or directory.
    Create(create::CreateArgs),
    /// Show what a .torrent file or magnet link holds.
    Info(info::InfoArgs),
    /// Download a torrent (then exit, or keep seeding with --seed).
    Download(download::DownloadArgs),
    /// Seed a torrent from the folder that holds its content.
    Seed(download::SeedArgs),
    /// Check downloaded data against a .torrent file.
    Verify(verify::VerifyArgs),
    /// Run a public BitTorrent tracker (HTTP and UDP).
    Tracker(tracker::TrackerArgs),
    /// Run the private-tracker site with its tracker (pages, JSON API, HTTP and UDP tracker).
    Serve(serve::ServeArgs),
    /// Run the client as a daemon: seed 004's HTTP API, a web UI, streaming.
    Daemon(daemon::DaemonArgs),
    /// Run the live P2P streaming tracker (seed 001): tracker, WebRTC signaling, WebTorrent
    /// tracker, browser SDK.
    Live(live::LiveArgs),
    /// A DHT node on its own: serve, get-peers, ping (BEP 5).
    Dht(dht::DhtArgs),
    /// Control a running daemon through its API (add, list, info, stop, start, remove, rate).
    Ctl(ctl::CtlArgs),
    /// Name the private-tracker site's admins (grant or revoke, by e-mail).
    Admin(admin::AdminArgs),
}

/// How a command ended when it did not fail outright.
pub enum Outcome {
    /// Everything fine: exit 0.
    Ok,
    /// The command ran but found a problem (bad data): exit 1.
    Problems,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Create(args) => create::run(args),
        Command::Info(args) => info::run(args),
        Command::Download(args) => download::run_download(args),
        Command::Seed(args) => download::run_seed(args),
        Command::Verify(args) => verify::run(args),
        Command::Tracker(args) => tracker::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Admin(args) => admin::run(args),
        Command::Daemon(args) => daemon::run(args),
        Command::Live(args) => live::run(args),
        Command::Ctl(args) => ctl::run(args),
        Command::Dht(args) => dht::run(args),
    };
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Problems) => ExitCode::from(1),
        Err(e) if e.is::<output::OutputClosed>() => ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` joins the context chain on one line: what, where, why.
            output::stderr_line(&format!("error: {e:#}"));
            ExitCode::from(2)
        }
    }
}
