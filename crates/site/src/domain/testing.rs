//! What the services' unit tests share: a migrated SQLite database in a temporary directory.

// Test helpers: a failed step should panic with its cause, like the tests that call them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::db::Db;
use crate::db::users::{self, NewUser, User};

/// A fresh, migrated SQLite database; keep the directory alive as long as the database.
pub(crate) async fn sqlite() -> (testkit::TempDir, Db) {
    let dir = testkit::TempDir::new("domain");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("d.db").display());
    let db = Db::connect(&url, 1, None).await.unwrap();
    db.migrate().await.unwrap();
    (dir, db)
}

/// An account named `nick` with passkey `passkey` (the password hash is not a real one).
pub(crate) async fn user(db: &Db, nick: &str, passkey: &str) -> User {
    let email = format!("{nick}@example.org");
    let new = NewUser {
        nick,
        email: &email,
        pwd_hash: "x",
        sex: 0,
        passkey,
    };
    users::insert(db, &new).await.unwrap()
}
