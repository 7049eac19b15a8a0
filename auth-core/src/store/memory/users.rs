//! [`MemoryUserStore`]: users in memory, and their administration.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::MemoryRefreshTokenStore;
use crate::scopes::Scopes;
use crate::store::{StoreError, UserAdmin, UserRecord, UserStore};

/// In-memory users, for tests and prototypes.
///
/// Linked to a [`MemoryRefreshTokenStore`] with
/// [`with_sessions`](Self::with_sessions), disabling, deleting a user or
/// changing their password with [`set_password`](Self::set_password) also
/// revokes all their refresh-token families.
///
/// Besides [`UserAdmin`], whose operations it implements, it has
/// synchronous shortcuts for setting up tests: [`insert_hashed`](Self::insert_hashed),
/// [`set_disabled`](Self::set_disabled), [`set_password`](Self::set_password)
/// and [`remove`](Self::remove).
#[derive(Debug, Default, Clone)]
pub struct MemoryUserStore {
    users: Arc<Mutex<HashMap<String, UserRecord>>>,
    sessions: Option<MemoryRefreshTokenStore>,
}

impl MemoryUserStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Revokes the refresh tokens of `sessions` whenever a user is
    /// disabled, deleted or given a new password through this store.
    #[must_use]
    pub fn with_sessions(mut self, sessions: MemoryRefreshTokenStore) -> Self {
        self.sessions = Some(sessions);
        self
    }

    /// Adds or replaces a user whose password is already hashed (see
    /// [`crate::PasswordHasher::hash`]). Replacing a user ends their
    /// sessions.
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
        if self.lock().insert(username.to_owned(), record).is_some() {
            self.end_sessions(username);
        }
    }

    /// Enables or disables a user; returns whether the user exists.
    /// Disabling ends the user's sessions (enabling does not revive them).
    #[allow(
        clippy::must_use_candidate,
        reason = "callers may ignore whether the user existed"
    )]
    pub fn set_disabled(&self, username: &str, disabled: bool) -> bool {
        let exists = self
            .lock()
            .get_mut(username)
            .map(|user| user.disabled = disabled)
            .is_some();
        if disabled {
            self.end_sessions(username);
        }
        exists
    }

    /// A password change by the user or an administrator: replaces the
    /// hash and ends the user's sessions. Returns whether the user exists.
    /// (The trait's [`UserStore::set_password_hash`] is the silent upgrade
    /// of an old hash at login, which keeps sessions.)
    #[allow(
        clippy::must_use_candidate,
        reason = "callers may ignore whether the user existed"
    )]
    pub fn set_password(&self, username: &str, password_hash: &str) -> bool {
        let exists = self
            .lock()
            .get_mut(username)
            .map(|user| password_hash.clone_into(&mut user.password_hash))
            .is_some();
        self.end_sessions(username);
        exists
    }

    /// Removes a user and ends their sessions, so a user later created
    /// with the same name inherits none; returns whether the user existed.
    #[allow(
        clippy::must_use_candidate,
        reason = "callers may ignore whether the user existed"
    )]
    pub fn remove(&self, username: &str) -> bool {
        let existed = self.lock().remove(username).is_some();
        self.end_sessions(username);
        existed
    }

    /// Revokes the user's families in the linked token store; returns how
    /// many were live (0 when no token store is linked).
    fn end_sessions(&self, username: &str) -> u64 {
        self.sessions
            .as_ref()
            .map_or(0, |sessions| sessions.lock().revoke_user(username))
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, UserRecord>> {
        self.users.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[rocket::async_trait]
impl UserAdmin for MemoryUserStore {
    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let mut users: Vec<UserRecord> = self.lock().values().cloned().collect();
        users.sort_unstable_by(|a, b| a.username.cmp(&b.username));
        Ok(users)
    }

    async fn count_users(&self) -> Result<u64, StoreError> {
        Ok(self.lock().len() as u64)
    }

    async fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        scopes: &Scopes,
        disabled: bool,
    ) -> Result<(), StoreError> {
        match self.lock().entry(username.to_owned()) {
            Entry::Occupied(_) => Err(StoreError::Conflict {
                what: format!("user {username:?}"),
            }),
            Entry::Vacant(entry) => {
                entry.insert(UserRecord {
                    username: username.to_owned(),
                    password_hash: password_hash.to_owned(),
                    scopes: scopes.clone(),
                    disabled,
                });
                Ok(())
            }
        }
    }

    async fn set_disabled(&self, username: &str, disabled: bool) -> Result<bool, StoreError> {
        Ok(Self::set_disabled(self, username, disabled))
    }

    async fn set_password(&self, username: &str, password_hash: &str) -> Result<bool, StoreError> {
        Ok(Self::set_password(self, username, password_hash))
    }

    async fn set_scopes(&self, username: &str, scopes: &Scopes) -> Result<bool, StoreError> {
        let mut users = self.lock();
        let user = users.get_mut(username);
        Ok(user
            .map(|user| scopes.clone_into(&mut user.scopes))
            .is_some())
    }

    async fn revoke_sessions(&self, username: &str) -> Result<u64, StoreError> {
        Ok(self.end_sessions(username))
    }

    async fn delete_user(&self, username: &str) -> Result<bool, StoreError> {
        Ok(self.remove(username))
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
