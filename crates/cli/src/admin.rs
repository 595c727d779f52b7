//! `nexsuj admin grant EMAIL` / `nexsuj admin revoke EMAIL`: names the private-tracker site's
//! admins. No account becomes one by signing up (two first sign-ups could both have won), so
//! the operator grants the role here, on the site's database (the server may be running: the
//! role is read at each request).
//!
//! The database is found as `nexsuj serve` finds it: `--config` (its `[site.storage]` table),
//! `NEXSUJ_DATA_DIR` / `NEXSUJ_DATABASE_URL`, `--data-dir`, `--database-url`.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use site::config::SiteConfig;
use site::db::Db;

use crate::{Outcome, output};

/// Options of `nexsuj admin`.
#[derive(Args)]
pub struct AdminArgs {
    #[command(subcommand)]
    action: Action,
    /// The configuration file of `nexsuj serve` (its [site.storage] section says where the database is).
    #[arg(long, short, env = "NEXSUJ_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Where the site's SQLite database lives.
    #[arg(long, value_name = "DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://USER@HOST:PORT/DB (default: DATA_DIR/nexsuj.db).
    #[arg(long, value_name = "URL", global = true)]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Action {
    /// Make the account with this e-mail an admin.
    Grant {
        /// The account's e-mail address.
        email: String,
    },
    /// Take the admin role from the account with this e-mail.
    Revoke {
        /// The account's e-mail address.
        email: String,
    },
}

/// Runs `nexsuj admin`.
pub fn run(args: AdminArgs) -> anyhow::Result<Outcome> {
    let config = site_config(&args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(apply(&config, &args.action))?;
    Ok(Outcome::Ok)
}

/// The site's settings from defaults, the file of `nexsuj serve`, the environment and the
/// flags (as `nexsuj serve` reads them).
fn site_config(args: &AdminArgs) -> anyhow::Result<SiteConfig> {
    let mut config = crate::serve::load_file(args.config.as_deref())?.site;
    if let Some(dir) = &args.data_dir {
        config.storage.data_dir = dir.clone();
    }
    if let Some(url) = &args.database_url {
        config.storage.database_url = url.clone();
    }
    Ok(config)
}

async fn apply(config: &SiteConfig, action: &Action) -> anyhow::Result<()> {
    let default_db = config.storage.data_dir.join("nexsuj.db");
    if config.storage.database_url.is_empty() && !default_db.exists() {
        bail!(
            "no site database at {} (start `nexsuj serve` once, or pass --data-dir or --database-url)",
            default_db.display()
        );
    }
    let db = Db::connect(&config.effective_database_url(), 1, None)
        .await
        .context("opening the site's database")?;
    db.migrate().await.context("migrating the site's database")?;
    let (email, changed) = match action {
        Action::Grant { email } => (email, site::admin::grant(&db, email).await),
        Action::Revoke { email } => (email, site::admin::revoke(&db, email).await),
    };
    db.close().await;
    let Some(user) = changed.context("updating the account")? else {
        bail!("no account has the e-mail address {email:?}");
    };
    let role = if user.is_admin {
        "is now an admin"
    } else {
        "is no longer an admin"
    };
    output::stdout(&format!("{} <{}> {role}\n", user.nick, user.email))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        admin: AdminArgs,
    }

    #[test]
    fn grant_needs_an_existing_database_and_account() {
        let dir = testkit::TempDir::new("admin-grant");
        let data = dir.path().display().to_string();
        let cli = Cli::parse_from(["x", "grant", "boss@example.org", "--data-dir", &data]);
        let config = site_config(&cli.admin).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let err = runtime.block_on(apply(&config, &cli.admin.action)).unwrap_err();
        assert!(err.to_string().contains("no site database"), "{err}");
        std::fs::write(dir.path().join("nexsuj.db"), b"").unwrap();
        let err = runtime.block_on(apply(&config, &cli.admin.action)).unwrap_err();
        assert!(err.to_string().contains("no account"), "{err}");
    }
}
