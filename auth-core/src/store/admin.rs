//! [`UserAdmin`]: the administrative operations on users that every store
//! offers, for command-line tools, admin routes and tests.

use crate::scopes::Scopes;
use crate::store::{StoreError, UserRecord, UserStore};

/// Managing users: listing, creating, disabling and enabling, password and
/// scope changes, ending sessions, deleting.
///
/// Implemented by [`MemoryUserStore`](crate::MemoryUserStore), the SQL
/// stores ([`SqliteStore`](crate::sqlite::SqliteStore),
/// [`PgStore`](crate::postgres::PgStore)) and, through
/// [`Database::admin`](crate::database::Database::admin), whichever of them
/// a database URL selects.
///
/// What ends a user's sessions (revokes all their refresh-token families)
/// does so in the same transaction as the change itself: disabling,
/// a password change by [`set_password`](Self::set_password), deleting,
/// and of course [`revoke_sessions`](Self::revoke_sessions). Enabling a
/// user again revives no session. (A [`MemoryUserStore`](crate::MemoryUserStore)
/// ends sessions only when linked to its token store with
/// [`with_sessions`](crate::MemoryUserStore::with_sessions).)
///
/// # Example
///
/// Code written against the trait runs on every store:
///
/// ```
/// use auth_core::{MemoryRefreshTokenStore, MemoryUserStore, Scopes, StoreError, UserAdmin};
///
/// /// Adds a reader, or reports that the name is taken.
/// async fn add_reader(admin: &dyn UserAdmin, name: &str, hash: &str) -> Result<bool, StoreError> {
///     let scopes = Scopes::parse("read:items").expect("a valid scope");
///     match admin.create_user(name, hash, &scopes, false).await {
///         Ok(()) => Ok(true),
///         Err(StoreError::Conflict { .. }) => Ok(false),
///         Err(e) => Err(e),
///     }
/// }
///
/// # rocket::async_test(async {
/// let users = MemoryUserStore::new().with_sessions(MemoryRefreshTokenStore::new());
/// let admin: &dyn UserAdmin = &users;
/// let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
/// assert!(add_reader(admin, "alice", hash).await?);
/// assert!(!add_reader(admin, "alice", hash).await?);
/// assert_eq!(admin.count_users().await?, 1);
///
/// // `true`: the user exists.
/// assert!(admin.set_disabled("alice", true).await?);
/// assert!(admin.find_user("alice").await?.expect("created").disabled);
/// assert!(!admin.set_scopes("nobody", &Scopes::new()).await?);
///
/// assert!(admin.delete_user("alice").await?);
/// assert!(admin.list_users().await?.is_empty());
/// # Ok::<(), StoreError>(())
/// # }).unwrap();
/// ```
#[rocket::async_trait]
pub trait UserAdmin: UserStore {
    /// Every user, ordered by username (byte order).
    ///
    /// # Errors
    ///
    /// Backend failures, or a corrupt stored row (e.g. scopes that are not
    /// valid scope-tokens).
    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError>;

    /// How many users exist (an application seeds demo users when it is 0).
    ///
    /// # Errors
    ///
    /// Backend failures.
    async fn count_users(&self) -> Result<u64, StoreError>;

    /// Adds a user whose password is already hashed (see
    /// [`crate::PasswordHasher::hash`]).
    ///
    /// # Errors
    ///
    /// [`StoreError::Conflict`] if the username is taken; backend failures
    /// (including, on PostgreSQL, a username longer than 256 bytes).
    async fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        scopes: &Scopes,
        disabled: bool,
    ) -> Result<(), StoreError>;

    /// Disables (`true`) or enables (`false`) a user; returns whether the
    /// user exists.
    ///
    /// A disabled user cannot log in, refresh, or use access tokens already
    /// issued. Disabling also ends all the user's sessions.
    ///
    /// # Errors
    ///
    /// Backend failures.
    async fn set_disabled(&self, username: &str, disabled: bool) -> Result<bool, StoreError>;

    /// A password change by the user or an administrator: replaces the hash
    /// and ends all the user's sessions. Returns whether the user exists.
    ///
    /// ([`UserStore::set_password_hash`] is the silent upgrade of an old
    /// hash at login; it keeps sessions.)
    ///
    /// # Errors
    ///
    /// Backend failures.
    async fn set_password(&self, username: &str, password_hash: &str) -> Result<bool, StoreError>;

    /// Replaces the scopes a user may be granted; returns whether the user
    /// exists. Sessions continue: their next refresh drops scopes the user
    /// no longer holds (access tokens keep theirs until they expire).
    ///
    /// # Errors
    ///
    /// Backend failures.
    async fn set_scopes(&self, username: &str, scopes: &Scopes) -> Result<bool, StoreError>;

    /// Ends every session of the user ("log out everywhere"); returns how
    /// many were still live. The user may log in again.
    ///
    /// # Errors
    ///
    /// Backend failures.
    async fn revoke_sessions(&self, username: &str) -> Result<u64, StoreError>;

    /// Deletes a user and ends their sessions, so a user later created with
    /// the same name inherits none. Returns whether the user existed.
    ///
    /// # Errors
    ///
    /// Backend failures.
    async fn delete_user(&self, username: &str) -> Result<bool, StoreError>;
}
