//! User and refresh-token stores: the traits the toolkit reads through, and
//! an in-memory implementation for tests and small apps.
//!
//! The SQLite implementation lives in [`crate::sqlite`] behind the `sqlite`
//! cargo feature.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::scopes::Scopes;

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
    /// Expiry time, seconds since the Unix epoch.
    pub expires_at: u64,
    /// Whether the token is active, used or revoked.
    pub state: RefreshState,
}

/// A failure of the storage backend (not a "not found": those are `None`).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The record already exists (e.g. a duplicate username).
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
}

/// Where refresh tokens are kept, only ever by hash.
#[rocket::async_trait]
pub trait RefreshTokenStore: Send + Sync + 'static {
    /// Stores a newly issued token.
    ///
    /// # Errors
    ///
    /// Backend failures.
    async fn insert(&self, record: RefreshTokenRecord) -> Result<(), StoreError>;

    /// Atomically marks the token `Used` if it is `Active`, and returns the
    /// record as it was *before* this call, or `None` if unknown.
    ///
    /// Two concurrent calls for one token: exactly one sees `Active`.
    ///
    /// # Errors
    ///
    /// Backend failures.
    async fn consume(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<RefreshTokenRecord>, StoreError>;

    /// Marks every token of the family `Revoked`.
    ///
    /// # Errors
    ///
    /// Backend failures.
    async fn revoke_family(&self, family_id: &str) -> Result<(), StoreError>;

    /// Finds a token without changing it (for RFC 7009 revocation).
    ///
    /// # Errors
    ///
    /// Backend failures.
    async fn find(&self, token_hash: &TokenHash) -> Result<Option<RefreshTokenRecord>, StoreError>;
}

/// In-memory users, for tests and prototypes.
#[derive(Debug, Default, Clone)]
pub struct MemoryUserStore {
    users: Arc<Mutex<HashMap<String, UserRecord>>>,
}

impl MemoryUserStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a user whose password is already hashed (see
    /// [`crate::PasswordHasher::hash`]).
    pub fn insert_hashed(
        &self,
        username: &str,
        password_hash: &str,
        scopes: Scopes,
        disabled: bool,
    ) {
        let record = UserRecord {
            username: username.to_owned(),
            password_hash: password_hash.to_owned(),
            scopes,
            disabled,
        };
        self.lock().insert(username.to_owned(), record);
    }

    /// Enables or disables a user; returns whether the user exists.
    #[allow(
        clippy::must_use_candidate,
        reason = "callers may ignore whether the user existed"
    )]
    pub fn set_disabled(&self, username: &str, disabled: bool) -> bool {
        self.lock()
            .get_mut(username)
            .map(|user| user.disabled = disabled)
            .is_some()
    }

    /// Removes a user; returns whether the user existed.
    #[allow(
        clippy::must_use_candidate,
        reason = "callers may ignore whether the user existed"
    )]
    pub fn remove(&self, username: &str) -> bool {
        self.lock().remove(username).is_some()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, UserRecord>> {
        self.users.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[rocket::async_trait]
impl UserStore for MemoryUserStore {
    async fn find_user(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        Ok(self.lock().get(username).cloned())
    }

    async fn set_password_hash(
        &self,
        username: &str,
        password_hash: &str,
    ) -> Result<(), StoreError> {
        if let Some(user) = self.lock().get_mut(username) {
            password_hash.clone_into(&mut user.password_hash);
        }
        Ok(())
    }
}

/// In-memory refresh tokens, for tests and prototypes. Lost on restart.
#[derive(Debug, Default, Clone)]
pub struct MemoryRefreshTokenStore {
    tokens: Arc<Mutex<HashMap<TokenHash, RefreshTokenRecord>>>,
}

impl MemoryRefreshTokenStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TokenHash, RefreshTokenRecord>> {
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[rocket::async_trait]
impl RefreshTokenStore for MemoryRefreshTokenStore {
    async fn insert(&self, record: RefreshTokenRecord) -> Result<(), StoreError> {
        self.lock().insert(record.token_hash, record);
        Ok(())
    }

    async fn consume(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<RefreshTokenRecord>, StoreError> {
        let mut tokens = self.lock();
        let Some(record) = tokens.get_mut(token_hash) else {
            return Ok(None);
        };
        let before = record.clone();
        if record.state == RefreshState::Active {
            record.state = RefreshState::Used;
        }
        Ok(Some(before))
    }

    async fn revoke_family(&self, family_id: &str) -> Result<(), StoreError> {
        for record in self.lock().values_mut() {
            if record.family_id == family_id {
                record.state = RefreshState::Revoked;
            }
        }
        Ok(())
    }

    async fn find(&self, token_hash: &TokenHash) -> Result<Option<RefreshTokenRecord>, StoreError> {
        Ok(self.lock().get(token_hash).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(hash: u8, family: &str) -> RefreshTokenRecord {
        RefreshTokenRecord {
            token_hash: [hash; 32],
            family_id: family.into(),
            username: "u".into(),
            client_id: "c".into(),
            scopes: Scopes::parse("a").unwrap(),
            issued_at: 1,
            expires_at: 2,
            state: RefreshState::Active,
        }
    }

    #[rocket::async_test]
    async fn consume_is_single_use() {
        let store = MemoryRefreshTokenStore::new();
        store.insert(record(1, "f")).await.unwrap();
        let first = store.consume(&[1; 32]).await.unwrap().unwrap();
        assert_eq!(first.state, RefreshState::Active);
        let second = store.consume(&[1; 32]).await.unwrap().unwrap();
        assert_eq!(second.state, RefreshState::Used);
        assert!(store.consume(&[9; 32]).await.unwrap().is_none());
    }

    #[rocket::async_test]
    async fn revoke_family_touches_only_that_family() {
        let store = MemoryRefreshTokenStore::new();
        store.insert(record(1, "f")).await.unwrap();
        store.insert(record(2, "f")).await.unwrap();
        store.insert(record(3, "g")).await.unwrap();
        store.revoke_family("f").await.unwrap();
        let state = |h| {
            let store = store.clone();
            async move { store.find(&[h; 32]).await.unwrap().unwrap().state }
        };
        assert_eq!(state(1).await, RefreshState::Revoked);
        assert_eq!(state(2).await, RefreshState::Revoked);
        assert_eq!(state(3).await, RefreshState::Active);
    }

    #[rocket::async_test]
    async fn memory_users_update_hash_and_disable() {
        let users = MemoryUserStore::new();
        users.insert_hashed("a", "h1", Scopes::new(), false);
        users.set_password_hash("a", "h2").await.unwrap();
        assert!(users.set_disabled("a", true));
        let a = users.find_user("a").await.unwrap().unwrap();
        assert_eq!(a.password_hash, "h2");
        assert!(a.disabled);
        assert!(users.find_user("b").await.unwrap().is_none());
    }
}
