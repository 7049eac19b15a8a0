//! In-memory stores, for tests and prototypes. Lost on restart.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::{
    FamilyRecord, MAX_FAMILY_TOKENS, PRUNE_BATCH, RefreshState, RefreshTokenRecord,
    RefreshTokenStore, RotateOutcome, StoreError, TokenHash, UserAdmin, UserRecord, UserStore,
};
use crate::scopes::Scopes;

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

/// In-memory refresh tokens, for tests and prototypes. Lost on restart.
///
/// Every operation runs under one mutex, so each is atomic.
#[derive(Debug, Default, Clone)]
pub struct MemoryRefreshTokenStore {
    inner: Arc<Mutex<Sessions>>,
}

/// The tokens, and per family its state and tokens (oldest first).
#[derive(Debug, Default)]
struct Sessions {
    tokens: HashMap<TokenHash, RefreshTokenRecord>,
    families: HashMap<String, Family>,
    /// Expiry times to prune by, in insertion order (a queue, so each write
    /// does bounded work).
    expiries: VecDeque<(u64, TokenHash)>,
    /// Families' absolute ends, in creation order, pruned like `expiries`.
    family_ends: VecDeque<(u64, String)>,
    /// How many families were ever created: their creation order.
    families_created: u64,
}

/// A family outlives its pruned tokens until its absolute end.
#[derive(Debug)]
struct Family {
    username: String,
    revoked: bool,
    created_at: u64,
    /// Creation order, for families created within the same second.
    seq: u64,
    expires_at: u64,
    tokens: VecDeque<TokenHash>,
}

impl Family {
    fn record(&self, family_id: &str) -> FamilyRecord {
        FamilyRecord::new(
            family_id,
            self.username.as_str(),
            self.revoked,
            self.created_at,
            self.expires_at,
        )
    }
}

impl Sessions {
    fn family_revoked(&self, family_id: &str) -> bool {
        self.families.get(family_id).is_some_and(|f| f.revoked)
    }

    /// Adds a token to a family that is not revoked; prunes.
    fn add(&mut self, record: RefreshTokenRecord) -> Result<(), StoreError> {
        if self.family_revoked(&record.family_id) {
            return Err(StoreError::Conflict {
                what: "a token in a revoked refresh-token family".to_owned(),
            });
        }
        if self.tokens.contains_key(&record.token_hash) {
            return Err(StoreError::Conflict {
                what: "refresh token".to_owned(),
            });
        }
        let now = record.issued_at;
        let hash = record.token_hash;
        let family_end = record.family_expires_at.max(record.expires_at);
        let family = match self.families.entry(record.family_id.clone()) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => {
                self.family_ends
                    .push_back((family_end, record.family_id.clone()));
                self.families_created += 1;
                entry.insert(Family {
                    username: record.username.clone(),
                    revoked: false,
                    created_at: record.issued_at,
                    seq: self.families_created,
                    expires_at: family_end,
                    tokens: VecDeque::new(),
                })
            }
        };
        family.expires_at = family.expires_at.max(family_end);
        family.tokens.push_back(hash);
        // Cap the family: drop its oldest tokens that are no longer active.
        while family.tokens.len() > MAX_FAMILY_TOKENS {
            let oldest = family.tokens[0];
            if self
                .tokens
                .get(&oldest)
                .is_some_and(|t| t.state == RefreshState::Active)
            {
                break;
            }
            family.tokens.pop_front();
            self.tokens.remove(&oldest);
        }
        self.expiries.push_back((record.expires_at, hash));
        self.tokens.insert(hash, record);
        self.prune(now);
        Ok(())
    }

    /// Deletes at most [`PRUNE_BATCH`] tokens expired at `now`, looking at
    /// at most twice that many queue entries.
    fn prune(&mut self, now: u64) {
        let mut deleted = 0;
        for _ in 0..PRUNE_BATCH * 2 {
            let Some(&(expires_at, hash)) = self.expiries.front() else {
                break;
            };
            if expires_at > now {
                // Not expired yet: look at it again later.
                self.expiries.rotate_left(1);
                continue;
            }
            self.expiries.pop_front();
            if let Some(record) = self.tokens.remove(&hash) {
                if let Some(family) = self.families.get_mut(&record.family_id) {
                    family.tokens.retain(|h| *h != hash);
                }
                deleted += 1;
                if deleted == PRUNE_BATCH {
                    break;
                }
            }
        }
        self.prune_families(now);
    }

    /// Forgets at most [`PRUNE_BATCH`] families past their absolute end
    /// (with their tokens), looking at at most twice that many.
    fn prune_families(&mut self, now: u64) {
        let mut deleted = 0;
        for _ in 0..PRUNE_BATCH * 2 {
            // The queued end may be stale: a family's end can only grow.
            let Some((_, family_id)) = self.family_ends.pop_front() else {
                break;
            };
            let current_end = self.families.get(&family_id).map(|f| f.expires_at);
            match current_end {
                None => {}
                Some(end) if end > now => self.family_ends.push_back((end, family_id)),
                Some(_) => {
                    if let Some(family) = self.families.remove(&family_id) {
                        for hash in family.tokens {
                            self.tokens.remove(&hash);
                        }
                    }
                    deleted += 1;
                    if deleted == PRUNE_BATCH {
                        break;
                    }
                }
            }
        }
    }

    fn revoke_family(&mut self, family_id: &str) -> bool {
        let Some(family) = self.families.get_mut(family_id) else {
            return false;
        };
        family.revoked = true;
        let mut live = false;
        for hash in &family.tokens {
            if let Some(token) = self.tokens.get_mut(hash) {
                live |= token.state == RefreshState::Active;
                token.state = RefreshState::Revoked;
            }
        }
        live
    }

    fn oldest_beyond(&self, username: &str, keep: usize, now: u64) -> Vec<String> {
        let mut live: Vec<(u64, u64, &String)> = self
            .families
            .iter()
            .filter(|(id, f)| f.username == username && f.record(id).is_live(now))
            .map(|(id, f)| (f.created_at, f.seq, id))
            .collect();
        if live.len() <= keep {
            return Vec::new();
        }
        live.sort_unstable();
        let excess = live.len() - keep;
        live.into_iter()
            .take(excess)
            .map(|(_, _, id)| id.clone())
            .collect()
    }

    fn revoke_user(&mut self, username: &str) -> u64 {
        let families: Vec<String> = self
            .families
            .iter()
            .filter(|(_, f)| f.username == username && !f.revoked)
            .map(|(id, _)| id.clone())
            .collect();
        families
            .iter()
            .map(|id| u64::from(self.revoke_family(id)))
            .sum()
    }
}

impl MemoryRefreshTokenStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How many tokens are stored (active, used and revoked).
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().tokens.len()
    }

    /// Whether no token is stored.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Sessions> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[rocket::async_trait]
impl RefreshTokenStore for MemoryRefreshTokenStore {
    async fn insert(&self, record: RefreshTokenRecord) -> Result<(), StoreError> {
        self.lock().add(record)
    }

    async fn rotate(
        &self,
        old: &TokenHash,
        successor: RefreshTokenRecord,
    ) -> Result<RotateOutcome, StoreError> {
        let mut tokens = self.lock();
        let Some(record) = tokens.tokens.get(old) else {
            return Ok(RotateOutcome::Refused);
        };
        match record.state {
            RefreshState::Used => return Ok(RotateOutcome::Reused(record.clone())),
            RefreshState::Revoked => return Ok(RotateOutcome::Refused),
            RefreshState::Active => {}
        }
        if tokens.family_revoked(&record.family_id) {
            return Ok(RotateOutcome::Refused);
        }
        if tokens.tokens.contains_key(&successor.token_hash) {
            return Err(StoreError::Conflict {
                what: "refresh token".to_owned(),
            });
        }
        if let Some(record) = tokens.tokens.get_mut(old) {
            record.state = RefreshState::Used;
        }
        tokens.add(successor)?;
        Ok(RotateOutcome::Rotated)
    }

    async fn consume(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<RefreshTokenRecord>, StoreError> {
        let mut tokens = self.lock();
        let Some(record) = tokens.tokens.get_mut(token_hash) else {
            return Ok(None);
        };
        let before = record.clone();
        if record.state == RefreshState::Active {
            record.state = RefreshState::Used;
        }
        Ok(Some(before))
    }

    async fn revoke_family(&self, family_id: &str) -> Result<(), StoreError> {
        self.lock().revoke_family(family_id);
        Ok(())
    }

    async fn revoke_user(&self, username: &str) -> Result<u64, StoreError> {
        Ok(self.lock().revoke_user(username))
    }

    async fn find(&self, token_hash: &TokenHash) -> Result<Option<RefreshTokenRecord>, StoreError> {
        Ok(self.lock().tokens.get(token_hash).cloned())
    }

    async fn family(&self, family_id: &str) -> Result<Option<FamilyRecord>, StoreError> {
        Ok(self
            .lock()
            .families
            .get(family_id)
            .map(|f| f.record(family_id)))
    }

    async fn revoke_oldest_families(
        &self,
        username: &str,
        keep: usize,
        now: u64,
    ) -> Result<Vec<String>, StoreError> {
        let mut sessions = self.lock();
        let oldest = sessions.oldest_beyond(username, keep, now);
        for id in &oldest {
            sessions.revoke_family(id);
        }
        Ok(oldest)
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
            expires_at: 100,
            family_expires_at: 100,
            state: RefreshState::Active,
        }
    }

    async fn state(store: &MemoryRefreshTokenStore, hash: u8) -> Option<RefreshState> {
        store.find(&[hash; 32]).await.unwrap().map(|r| r.state)
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
    async fn rotate_outcomes() {
        let store = MemoryRefreshTokenStore::new();
        store.insert(record(1, "f")).await.unwrap();
        assert_eq!(
            store.rotate(&[1; 32], record(2, "f")).await.unwrap(),
            RotateOutcome::Rotated
        );
        assert_eq!(state(&store, 1).await, Some(RefreshState::Used));
        assert_eq!(state(&store, 2).await, Some(RefreshState::Active));
        // A replay of the old token: nothing stored.
        let RotateOutcome::Reused(old) = store.rotate(&[1; 32], record(3, "f")).await.unwrap()
        else {
            panic!("expected a replay");
        };
        assert_eq!(old.family_id, "f");
        assert_eq!(state(&store, 3).await, None);
        // Unknown token.
        assert_eq!(
            store.rotate(&[9; 32], record(4, "f")).await.unwrap(),
            RotateOutcome::Refused
        );
        // Revoked family: neither rotation nor insertion adds to it.
        store.revoke_family("f").await.unwrap();
        assert_eq!(
            store.rotate(&[2; 32], record(5, "f")).await.unwrap(),
            RotateOutcome::Refused
        );
        assert!(matches!(
            store.insert(record(6, "f")).await,
            Err(StoreError::Conflict { .. })
        ));
        assert_eq!(state(&store, 5).await, None);
        assert_eq!(state(&store, 6).await, None);
    }

    #[rocket::async_test]
    async fn revoke_family_touches_only_that_family() {
        let store = MemoryRefreshTokenStore::new();
        store.insert(record(1, "f")).await.unwrap();
        store.insert(record(2, "f")).await.unwrap();
        store.insert(record(3, "g")).await.unwrap();
        store.revoke_family("f").await.unwrap();
        assert_eq!(state(&store, 1).await, Some(RefreshState::Revoked));
        assert_eq!(state(&store, 2).await, Some(RefreshState::Revoked));
        assert_eq!(state(&store, 3).await, Some(RefreshState::Active));
    }

    #[rocket::async_test]
    async fn revoke_user_ends_every_family_of_that_user() {
        let store = MemoryRefreshTokenStore::new();
        store.insert(record(1, "f")).await.unwrap();
        store.insert(record(2, "g")).await.unwrap();
        let mut other = record(3, "h");
        other.username = "v".into();
        store.insert(other).await.unwrap();
        assert_eq!(store.revoke_user("u").await.unwrap(), 2);
        assert_eq!(state(&store, 1).await, Some(RefreshState::Revoked));
        assert_eq!(state(&store, 2).await, Some(RefreshState::Revoked));
        assert_eq!(state(&store, 3).await, Some(RefreshState::Active));
        assert_eq!(store.revoke_user("u").await.unwrap(), 0);
    }

    #[rocket::async_test]
    async fn families_are_capped_and_expired_tokens_pruned() {
        let store = MemoryRefreshTokenStore::new();
        store.insert(record(0, "f")).await.unwrap();
        for hash in 1..40u8 {
            let outcome = store
                .rotate(&[hash - 1; 32], record(hash, "f"))
                .await
                .unwrap();
            assert_eq!(outcome, RotateOutcome::Rotated);
        }
        assert_eq!(store.len(), MAX_FAMILY_TOKENS);
        assert_eq!(state(&store, 39).await, Some(RefreshState::Active));
        assert_eq!(state(&store, 0).await, None);
        // Writes at a later time delete what expired, a batch per write.
        for hash in 100..104u8 {
            let mut late = record(hash, &format!("late{hash}"));
            late.issued_at = 1000;
            late.expires_at = 2000;
            store.insert(late).await.unwrap();
        }
        assert_eq!(store.len(), 4);
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

    #[rocket::async_test]
    async fn linked_users_end_sessions_on_disable_password_change_and_delete() {
        let sessions = MemoryRefreshTokenStore::new();
        let users = MemoryUserStore::new().with_sessions(sessions.clone());
        users.insert_hashed("u", "h1", Scopes::new(), false);
        // The silent rehash at login keeps sessions.
        sessions.insert(record(1, "f1")).await.unwrap();
        users.set_password_hash("u", "h2").await.unwrap();
        assert_eq!(state(&sessions, 1).await, Some(RefreshState::Active));
        assert!(users.set_disabled("u", true));
        assert_eq!(state(&sessions, 1).await, Some(RefreshState::Revoked));
        // Re-enabling does not revive the family.
        assert!(users.set_disabled("u", false));
        assert_eq!(state(&sessions, 1).await, Some(RefreshState::Revoked));

        sessions.insert(record(2, "f2")).await.unwrap();
        assert!(users.set_password("u", "h3"));
        assert_eq!(state(&sessions, 2).await, Some(RefreshState::Revoked));

        sessions.insert(record(3, "f3")).await.unwrap();
        assert!(users.remove("u"));
        assert_eq!(state(&sessions, 3).await, Some(RefreshState::Revoked));
    }
}
