//! User and refresh-token stores: the traits the toolkit reads through, and
//! an in-memory implementation for tests and small apps (`memory`).
//!
//! The SQL implementation, one for `SQLite` and PostgreSQL, lives in `sql`;
//! [`crate::store::sqlite`] and [`crate::store::postgres`] (behind the
//! `sqlite` and `postgres` cargo features) open it on either database.
//! Every store also implements [`UserAdmin`], the administrative operations
//! on users.

use std::sync::Arc;

use crate::scopes::Scopes;

mod admin;
pub(crate) mod api_keys;
pub mod clients;
pub(crate) mod counters;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod database;
mod memory;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) mod pool_settings;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(test)]
mod rotation_races;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) mod sql;
#[cfg(feature = "sqlite")]
pub mod sqlite;
#[cfg(test)]
pub(crate) mod suite;

pub use admin::UserAdmin;
pub use api_keys::{
    API_KEY_LEN, API_KEY_PREFIX, ApiKeyError, ApiKeyRecord, ApiKeyStore, MAX_API_KEY_NAME_LEN,
    MemoryApiKeyStore, NewApiKey, create_api_key, hash_api_key,
};
pub use clients::{
    ClientRecord, ClientSecret, ClientSecretHash, ClientStore, GrantType, MemoryClientStore,
};
pub use memory::{MemoryRefreshTokenStore, MemoryUserStore};

/// How many tokens a store keeps per refresh-token family. Rotation marks
/// the old token `Used` and keeps it; beyond this many, the oldest used
/// tokens are deleted. Reuse detection does not depend on them: a refresh
/// token names its family, and a token of a live family that the store no
/// longer holds is a replay too (see [`RefreshTokenStore::family`]).
pub const MAX_FAMILY_TOKENS: usize = 16;

/// How many expired tokens a store deletes, at most, per write. Every write
/// adds one token and may delete this many, so expired tokens cannot pile
/// up while the store is in use, and no write does unbounded work.
pub const PRUNE_BATCH: usize = 32;

/// A user as the toolkit sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Unique login name; also the `sub` claim of the user's access tokens.
    pub username: String,
    /// A PHC string (`$argon2id$...`) or a bcrypt hash (`$2b$...`).
    pub password_hash: String,
    /// The scopes this user may be granted.
    pub scopes: Scopes,
    /// Disabled users cannot log in, refresh, or use existing access tokens.
    pub disabled: bool,
}

/// The state of a stored refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshState {
    /// Never presented; may be exchanged once.
    Active,
    /// Already exchanged for a new pair. Presenting it again is a replay.
    Used,
    /// Revoked, by a detected replay in its family or by RFC 7009 revocation.
    Revoked,
}

/// SHA-256 of an opaque refresh token: the only form in which a store sees it.
pub type TokenHash = [u8; 32];

/// A stored refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    /// SHA-256 of the token.
    pub token_hash: TokenHash,
    /// Every token rotated from the same login shares one family id.
    pub family_id: String,
    /// The user the token was issued to.
    pub username: String,
    /// The client the token was issued to (RFC 6749 §6: bound to it).
    pub client_id: String,
    /// The scopes granted with the token; a refresh can narrow, never widen.
    pub scopes: Scopes,
    /// Issue time, seconds since the Unix epoch.
    pub issued_at: u64,
    /// Expiry time, seconds since the Unix epoch: the sliding lifetime,
    /// never beyond `family_expires_at`.
    pub expires_at: u64,
    /// When the whole family ends, however often it is rotated: the login
    /// time plus `auth_refresh_max_age`. Successors inherit it.
    pub family_expires_at: u64,
    /// Whether the token is active, used or revoked.
    pub state: RefreshState,
}

/// A refresh-token family: one login session, from the password grant to
/// its end (revocation, or the absolute lifetime `auth_refresh_max_age`).
///
/// Stores keep a family's record until its absolute end, even after its
/// tokens are pruned, so a token rotated past any number of times ago still
/// names a family the store knows, and its replay revokes the family.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FamilyRecord {
    /// The family id (also the `sid` claim of the session's access tokens).
    pub family_id: String,
    /// The user the family was issued to.
    pub username: String,
    /// Whether the family was revoked; a revoked family never comes back.
    pub revoked: bool,
    /// When the family was created (the login), seconds since the Unix
    /// epoch.
    pub created_at: u64,
    /// The family's absolute end, seconds since the Unix epoch.
    pub expires_at: u64,
}

impl FamilyRecord {
    /// A record, for store implementations.
    #[must_use]
    pub fn new(
        family_id: impl Into<String>,
        username: impl Into<String>,
        revoked: bool,
        created_at: u64,
        expires_at: u64,
    ) -> Self {
        Self {
            family_id: family_id.into(),
            username: username.into(),
            revoked,
            created_at,
            expires_at,
        }
    }

    /// Whether the session can still be used at `now`: not revoked and
    /// before its absolute end.
    #[must_use]
    pub fn is_live(&self, now: u64) -> bool {
        !self.revoked && now < self.expires_at
    }
}

/// A failure of the storage backend (not a "not found": those are `None`).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The record already exists (e.g. a duplicate username), or a refresh
    /// token was inserted into a revoked family.
    #[error("{what} already exists")]
    Conflict {
        /// What was duplicated, e.g. `user "alice"`.
        what: String,
    },
    /// The backend failed; the source says why. Shown to operators only.
    #[error("storage backend failed: {source}")]
    Backend {
        /// The underlying error.
        #[source]
        source: Arc<dyn std::error::Error + Send + Sync>,
    },
}

impl StoreError {
    /// Wraps a backend error.
    pub fn backend(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Backend {
            source: Arc::new(source),
        }
    }
}

/// Where users come from.
///
/// # Example
///
/// ```
/// use auth_core::{MemoryUserStore, UserStore, Scopes};
///
/// # rocket::async_test(async {
/// let users = MemoryUserStore::new();
/// users.insert_hashed("alice", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA", Scopes::parse("read:items").unwrap(), false);
/// let alice = users.find_user("alice").await.unwrap().unwrap();
/// assert!(!alice.disabled);
/// # });
/// ```
#[rocket::async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// Finds a user by exact username.
    ///
    /// # Errors
    ///
    /// Only for backend failures; an unknown user is `Ok(None)`.
    async fn find_user(&self, username: &str) -> Result<Option<UserRecord>, StoreError>;

    /// Replaces a user's password hash (used to upgrade old hashes on login).
    ///
    /// # Errors
    ///
    /// Backend failures. Updating an unknown user is not an error.
    async fn set_password_hash(
        &self,
        username: &str,
        password_hash: &str,
    ) -> Result<(), StoreError>;

    /// Failed-login counters per username that every instance on this
    /// store shares ([`crate::throttle`]), if the store has them: the
    /// PostgreSQL store does; the default is `None` (counters in memory,
    /// per instance).
    fn shared_counters(&self) -> Option<Arc<dyn counters::SharedCounters>> {
        None
    }

    /// The client registry kept beside these users, if the store has one:
    /// the SQL stores do, so [`AuthFairing::store`](crate::AuthFairing::store)
    /// registers it too; the default is `None` (no registry unless given
    /// with [`AuthFairing::clients`](crate::AuthFairing::clients)).
    fn clients(&self) -> Option<Arc<dyn ClientStore>> {
        None
    }
}

/// What [`RefreshTokenStore::rotate`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RotateOutcome {
    /// The old token was `Active` in a family not revoked: it is now `Used`
    /// and the successor is stored, in one atomic step.
    Rotated,
    /// The old token had been used already (a replay): nothing changed.
    /// The record is the old token as stored; the caller revokes its family.
    Reused(RefreshTokenRecord),
    /// The old token is unknown or revoked, or its family is revoked:
    /// nothing changed.
    Refused,
}

/// Where refresh tokens are kept, only ever by hash.
///
/// A family is *revoked* once [`revoke_family`](Self::revoke_family) or
/// [`revoke_user`](Self::revoke_user) touched it: all its tokens are
/// `Revoked`, and no token may be added to it afterwards, neither by
/// [`insert`](Self::insert) nor by [`rotate`](Self::rotate).
///
/// Stores prune as they write: expired tokens (at most [`PRUNE_BATCH`] per
/// write) and used tokens beyond [`MAX_FAMILY_TOKENS`] per family.
#[rocket::async_trait]
pub trait RefreshTokenStore: Send + Sync + 'static {
    /// Stores a newly issued token (the first of a new family, at login).
    ///
    /// # Errors
    ///
    /// [`StoreError::Conflict`] if the token's family is revoked or the
    /// hash exists; backend failures.
    async fn insert(&self, record: RefreshTokenRecord) -> Result<(), StoreError>;

    /// Rotation, atomically: if the token `old` is `Active` and its family
    /// is not revoked, marks it `Used` and stores `successor` (of the same
    /// family); otherwise changes nothing. See [`RotateOutcome`].
    ///
    /// Atomic against every other call, including concurrent `rotate`,
    /// `revoke_family` and `revoke_user`: of two rotations of one token
    /// exactly one is `Rotated`, and a family revoked at any moment never
    /// keeps an active successor. A store implements it as one transaction
    /// (or one critical section); a `consume` followed by an `insert` is
    /// not enough.
    ///
    /// # Errors
    ///
    /// Backend failures; then nothing changed.
    async fn rotate(
        &self,
        old: &TokenHash,
        successor: RefreshTokenRecord,
    ) -> Result<RotateOutcome, StoreError>;

    /// Atomically marks the token `Used` if it is `Active`, and returns the
    /// record as it was *before* this call, or `None` if unknown.
    ///
    /// Two concurrent calls for one token: exactly one sees `Active`. The
    /// toolkit itself rotates with [`rotate`](Self::rotate).
    ///
    /// # Errors
    ///
    /// Backend failures.
    async fn consume(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<RefreshTokenRecord>, StoreError>;

    /// Marks every token of the family `Revoked`, and the family revoked:
    /// later inserts and rotations into it fail.
    ///
    /// # Errors
    ///
    /// Backend failures.
    async fn revoke_family(&self, family_id: &str) -> Result<(), StoreError>;

    /// Revokes every family of `username` ("log out everywhere"); returns
    /// how many families were still live (had an active token).
    ///
    /// # Errors
    ///
    /// Backend failures.
    async fn revoke_user(&self, username: &str) -> Result<u64, StoreError>;

    /// Finds a token without changing it (for RFC 7009 revocation).
    ///
    /// # Errors
    ///
    /// Backend failures.
    async fn find(&self, token_hash: &TokenHash) -> Result<Option<RefreshTokenRecord>, StoreError>;

    /// The family `family_id`, revoked or not, or `None` once it is past
    /// its absolute end and pruned (or never existed).
    ///
    /// A store keeps a family's record, with its `revoked` flag, until
    /// `expires_at`, however many of its tokens it has pruned: that is what
    /// makes reuse detection remember every rotation, and what access
    /// tokens of the session are checked against.
    ///
    /// # Errors
    ///
    /// Backend failures.
    async fn family(&self, family_id: &str) -> Result<Option<FamilyRecord>, StoreError>;

    /// Caps the live sessions of `username`: revokes every family of the
    /// user beyond the newest `keep` that are live at `now` (not revoked,
    /// before their absolute end), oldest first, and returns the ids it
    /// revoked.
    ///
    /// # Errors
    ///
    /// Backend failures.
    async fn revoke_oldest_families(
        &self,
        username: &str,
        keep: usize,
        now: u64,
    ) -> Result<Vec<String>, StoreError>;
}
