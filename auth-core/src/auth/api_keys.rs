//! API keys on every request: [`ApiKeys`] finds the key a request sends,
//! checks it and its owner against the stores, and remembers the outcome
//! for at most `auth_subject_cache_ttl` seconds, so that a key in use costs
//! no store query per request.
//!
//! Only keys found usable are remembered, each with the caller it stands
//! for: claims made once, whose `sub` is the
//! owner, `scope` the key's scopes the owner still holds, `client_id`
//! `api-key:<id>` and `jti` the key's id. The memory is bounded like the
//! subject cache; an unknown, revoked or expired key is asked about every
//! time (after a format check that costs no query). Revoking a key through
//! [`crate::Auth::revoke_api_key`] forgets it here at once, and disabling a
//! user through [`crate::Auth::forget_subject`] forgets their keys; other
//! instances, and changes made elsewhere, are seen within the lifetime.
//!
//! The memory is keyed by the key itself, as the verified-token cache is
//! keyed by the token: a remembered key costs one `SipHash` and a compare,
//! where its SHA-256 (what the store is asked by) would cost about as much
//! as the rest of the request's authentication. The store never sees the
//! key; this process does anyway, on every request that sends it.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::error::AuthError;
use crate::scopes::Scopes;
use crate::store::api_keys::{
    ApiKeyError, ApiKeyRecord, ApiKeyStore, NewApiKey, create_api_key, hash_api_key, is_well_formed,
};
use crate::store::{StoreError, TokenHash, UserStore};
use crate::token::{AccessTokenClaims, TokenProblem, unix_now};

/// At most this many keys are remembered; past it, expired entries are
/// dropped, and if none are, everything is.
const CAPACITY: usize = 65_536;

/// The prefix of the `client_id` claim of a key's caller.
pub(crate) const API_KEY_CLIENT_PREFIX: &str = "api-key:";

/// A key found usable, and whom it stands for.
struct Entry {
    /// The key's SHA-256, to forget it by.
    key_hash: TokenHash,
    /// When the entry ends (the cache lifetime).
    until: Instant,
    /// The key's own expiry, seconds since the Unix epoch.
    expires_at: Option<u64>,
    claims: Arc<AccessTokenClaims>,
}

/// API keys as the guards see them.
pub(crate) struct ApiKeys {
    /// The request header keys are sent in.
    pub(crate) header: String,
    store: Arc<dyn ApiKeyStore>,
    users: Arc<dyn UserStore>,
    issuer: String,
    audience: String,
    ttl: Duration,
    cache: Mutex<HashMap<Box<str>, Entry>>,
}

impl fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeys")
            .field("header", &self.header)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

fn invalid() -> AuthError {
    AuthError::InvalidToken(TokenProblem::InvalidApiKey)
}

impl ApiKeys {
    pub(crate) fn new(
        header: String,
        store: Arc<dyn ApiKeyStore>,
        users: Arc<dyn UserStore>,
        issuer: String,
        audience: String,
        ttl: Duration,
    ) -> Self {
        Self {
            header,
            store,
            users,
            issuer,
            audience,
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn cache(&self) -> MutexGuard<'_, HashMap<Box<str>, Entry>> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The store, for listing keys.
    pub(crate) fn store(&self) -> &dyn ApiKeyStore {
        &*self.store
    }

    /// The caller `key` stands for.
    ///
    /// # Errors
    ///
    /// 401 [`TokenProblem::InvalidApiKey`] for a malformed, unknown,
    /// revoked or expired key, or one whose owner is gone or disabled;
    /// [`AuthError::Server`] if a store fails.
    pub(crate) async fn authenticate(
        &self,
        key: &str,
    ) -> Result<Arc<AccessTokenClaims>, AuthError> {
        if !is_well_formed(key) {
            return Err(invalid());
        }
        if let Some(claims) = self.cached(key) {
            return Ok(claims);
        }
        let hash = hash_api_key(key);
        let now = unix_now();
        let record = match self.store.find_api_key(&hash).await? {
            Some(record) if record.is_live(now) => record,
            _ => {
                // An expired entry of the key may linger: drop it.
                self.cache().remove(key);
                return Err(invalid());
            }
        };
        let held = match self.users.find_user(&record.username).await? {
            Some(user) if !user.disabled => user.scopes,
            _ => return Err(invalid()),
        };
        let claims = Arc::new(self.claims(&record, &held));
        self.remember(key, hash, record.expires_at, &claims);
        Ok(claims)
    }

    /// The claims of `record`'s caller, whose owner holds `held` now.
    fn claims(&self, record: &ApiKeyRecord, held: &Scopes) -> AccessTokenClaims {
        AccessTokenClaims {
            iss: self.issuer.clone(),
            sub: record.username.clone(),
            aud: self.audience.clone(),
            exp: record.expires_at.unwrap_or(u64::MAX),
            iat: record.created_at,
            nbf: None,
            jti: record.id.clone(),
            client_id: format!("{API_KEY_CLIENT_PREFIX}{}", record.id),
            scope: record.scopes.intersection(held),
            sid: None,
            gty: None,
        }
    }

    fn cached(&self, key: &str) -> Option<Arc<AccessTokenClaims>> {
        if self.ttl.is_zero() {
            return None;
        }
        let cache = self.cache();
        let entry = cache.get(key)?;
        let live =
            Instant::now() < entry.until && entry.expires_at.is_none_or(|end| unix_now() < end);
        live.then(|| Arc::clone(&entry.claims))
    }

    fn remember(
        &self,
        key: &str,
        key_hash: TokenHash,
        expires_at: Option<u64>,
        claims: &Arc<AccessTokenClaims>,
    ) {
        if self.ttl.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut cache = self.cache();
        if cache.len() >= CAPACITY && !cache.contains_key(key) {
            cache.retain(|_, e| now < e.until);
            if cache.len() >= CAPACITY {
                cache.clear();
            }
        }
        let entry = Entry {
            key_hash,
            until: now + self.ttl,
            expires_at,
            claims: Arc::clone(claims),
        };
        cache.insert(key.into(), entry);
    }

    /// Forgets the key whose hash is `hash` (a scan: revocations are
    /// rare).
    pub(crate) fn forget(&self, hash: &TokenHash) {
        let mut cache = self.cache();
        if !cache.is_empty() {
            cache.retain(|_, e| e.key_hash != *hash);
        }
    }

    /// Forgets every key of `username`.
    pub(crate) fn forget_owner(&self, username: &str) {
        let mut cache = self.cache();
        if !cache.is_empty() {
            cache.retain(|_, e| e.claims.sub != username);
        }
    }

    /// See [`crate::Auth::create_api_key`].
    pub(crate) async fn create(
        &self,
        owner: &str,
        name: &str,
        scopes: Scopes,
        expires_at: Option<u64>,
    ) -> Result<NewApiKey, ApiKeyError> {
        create_api_key(
            &*self.users,
            &*self.store,
            owner,
            name,
            scopes,
            unix_now(),
            expires_at,
        )
        .await
    }

    /// See [`crate::Auth::revoke_api_key`].
    pub(crate) async fn revoke(&self, id: &str) -> Result<bool, StoreError> {
        let revoked = self.store.revoke_api_key(id, unix_now()).await?;
        Ok(revoked.is_some_and(|record| {
            self.forget(&record.key_hash);
            true
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::api_keys::MemoryApiKeyStore;
    use crate::store::{MemoryUserStore, UserAdmin as _};

    fn setup(ttl: Duration) -> (ApiKeys, MemoryUserStore) {
        let users = MemoryUserStore::new();
        users.insert_hashed("alice", "x", Scopes::parse("read write").unwrap(), false);
        let keys = ApiKeys::new(
            "X-API-Key".into(),
            Arc::new(MemoryApiKeyStore::new()),
            Arc::new(users.clone()),
            "iss".into(),
            "aud".into(),
            ttl,
        );
        (keys, users)
    }

    fn scopes(list: &str) -> Scopes {
        Scopes::parse(list).unwrap()
    }

    fn refused(outcome: &Result<Arc<AccessTokenClaims>, AuthError>) -> bool {
        matches!(
            outcome,
            Err(AuthError::InvalidToken(TokenProblem::InvalidApiKey))
        )
    }

    #[rocket::async_test]
    async fn a_key_acts_as_its_owner_with_the_scopes_both_hold() {
        let (keys, users) = setup(Duration::ZERO);
        let key = keys
            .create("alice", "ci", scopes("read write"), None)
            .await
            .unwrap();
        let claims = keys.authenticate(key.expose()).await.unwrap();
        assert_eq!(claims.sub, "alice");
        assert_eq!(claims.scope, scopes("read write"));
        assert_eq!(claims.client_id, format!("api-key:{}", key.record.id));
        // A scope withdrawn from the owner is withdrawn from the key.
        users.set_scopes("alice", &scopes("read")).await.unwrap();
        let claims = keys.authenticate(key.expose()).await.unwrap();
        assert_eq!(claims.scope, scopes("read"));
        users.set_disabled("alice", true);
        assert!(refused(&keys.authenticate(key.expose()).await));
    }

    #[rocket::async_test]
    async fn creation_checks_the_owner_and_the_scopes() {
        let (keys, _) = setup(Duration::ZERO);
        let err = keys.create("bob", "ci", Scopes::new(), None).await;
        assert!(matches!(err, Err(ApiKeyError::UnknownOwner(_))), "{err:?}");
        let err = keys.create("alice", "ci", scopes("admin"), None).await;
        assert!(matches!(err, Err(ApiKeyError::ScopeNotHeld(_))), "{err:?}");
        let err = keys.create("alice", "", Scopes::new(), None).await;
        assert!(matches!(err, Err(ApiKeyError::BadName)), "{err:?}");
        let err = keys.create("alice", "ci", Scopes::new(), Some(1)).await;
        assert!(matches!(err, Err(ApiKeyError::ExpiryInThePast)), "{err:?}");
    }

    #[rocket::async_test]
    async fn remembered_keys_cost_no_query_and_revocation_here_is_immediate() {
        let (keys, _) = setup(Duration::from_secs(60));
        let key = keys
            .create("alice", "ci", scopes("read"), None)
            .await
            .unwrap();
        keys.authenticate(key.expose()).await.unwrap();
        // Revoked behind the cache's back: still remembered.
        keys.store
            .revoke_api_key(&key.record.id, unix_now())
            .await
            .unwrap();
        assert!(keys.authenticate(key.expose()).await.is_ok());
        // Through the toolkit: forgotten at once.
        let other = keys
            .create("alice", "ci", scopes("read"), None)
            .await
            .unwrap();
        keys.authenticate(other.expose()).await.unwrap();
        assert!(keys.revoke(&other.record.id).await.unwrap());
        assert!(refused(&keys.authenticate(other.expose()).await));
        assert!(!keys.revoke("nope").await.unwrap());
        keys.forget_owner("alice");
        assert!(refused(&keys.authenticate(key.expose()).await));
    }

    #[rocket::async_test]
    async fn malformed_and_unknown_keys_are_refused_and_not_remembered() {
        let (keys, _) = setup(Duration::from_secs(60));
        let unknown = NewApiKey::generate("alice", "x", Scopes::new(), 0, None);
        for key in ["", "ak_", "Bearer x", unknown.expose()] {
            assert!(refused(&keys.authenticate(key).await));
        }
        assert!(keys.cache().is_empty());
    }
}
