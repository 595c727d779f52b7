//! Naming the site's admins: the operator grants the role by e-mail (`nexsuj admin grant
//! EMAIL`), so no account gets it by being first (two first sign-ups could both have won).
//!
//! ```no_run
//! # async fn demo(db: &site::db::Db) -> Result<(), site::error::SiteError> {
//! let granted = site::admin::grant(db, "Boss@Example.org").await?;
//! assert!(granted.is_some_and(|u| u.is_admin));
//! # Ok(())
//! # }
//! ```

use crate::db::Db;
use crate::db::users::{self, User};
use crate::error::SiteError;

/// Makes the account with this e-mail (any case) an admin; `None` if no account has it.
/// Takes effect at the account's next request.
pub async fn grant(db: &Db, email: &str) -> Result<Option<User>, SiteError> {
    users::set_admin(db, &email.trim().to_lowercase(), true).await
}

/// Takes the admin role from the account with this e-mail; `None` if no account has it.
pub async fn revoke(db: &Db, email: &str) -> Result<Option<User>, SiteError> {
    users::set_admin(db, &email.trim().to_lowercase(), false).await
}
