//! API keys: long-lived credentials a user hands to a script or another
//! service, sent in a header (`X-API-Key` by default) instead of a bearer
//! token.
//!
//! A key is `ak_<id>_<secret>`: a prefix that names it, a public id (16 hex
//! digits) and 256 random bits in base64url. It is shown once, when
//! created; stores keep only its SHA-256 ([`hash_api_key`]), which is
//! enough because the key has full entropy (no password hash is needed, and
//! none would be affordable per request). A key is found by that hash.
//!
//! A key has its owner's username, a label, scopes (a subset of the
//! owner's when created), an optional expiry and a revocation time. When
//! used, it acts with the scopes it has that its owner still holds, and
//! only while the owner exists and is enabled.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

use crate::scopes::{Scope, Scopes};
use crate::store::{StoreError, TokenHash, UserStore};

mod memory;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(test)]
pub(crate) mod suite;

pub use memory::MemoryApiKeyStore;

/// What every API key starts with.
pub const API_KEY_PREFIX: &str = "ak_";

/// Bytes of randomness in a key's id.
const ID_BYTES: usize = 8;
/// Bytes of randomness in a key's secret part.
const SECRET_BYTES: usize = 32;
/// The length of every key this toolkit makes: the prefix, 16 hex digits,
/// `_`, and 43 base64url characters.
pub const API_KEY_LEN: usize = API_KEY_PREFIX.len() + 2 * ID_BYTES + 1 + 43;
/// The longest label a key may have, in bytes.
pub const MAX_API_KEY_NAME_LEN: usize = 128;

/// SHA-256 of an API key: the only form in which a store sees it.
#[must_use]
pub fn hash_api_key(key: &str) -> TokenHash {
    Sha256::digest(key.as_bytes()).into()
}

/// Whether `key` looks like a key this toolkit makes, before any lookup.
#[must_use]
pub(crate) fn is_well_formed(key: &str) -> bool {
    key.len() == API_KEY_LEN
        && key.starts_with(API_KEY_PREFIX)
        && key
            .bytes()
            .skip(API_KEY_PREFIX.len())
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A stored API key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiKeyRecord {
    /// The public id (the part after `ak_`), unique; what `list` shows and
    /// `revoke` takes.
    pub id: String,
    /// SHA-256 of the whole key.
    pub key_hash: TokenHash,
    /// The user the key acts as.
    pub username: String,
    /// A label for people, e.g. "nightly export".
    pub name: String,
    /// The scopes the key was given (a subset of the owner's then).
    pub scopes: Scopes,
    /// Creation time, seconds since the Unix epoch.
    pub created_at: u64,
    /// Expiry, seconds since the Unix epoch; `None` never expires.
    pub expires_at: Option<u64>,
    /// When the key was revoked, seconds since the Unix epoch; a revoked
    /// key never comes back.
    pub revoked_at: Option<u64>,
}

impl ApiKeyRecord {
    /// A record, for store implementations.
    #[must_use]
    #[allow(clippy::too_many_arguments, reason = "one per column")]
    pub fn new(
        id: impl Into<String>,
        key_hash: TokenHash,
        username: impl Into<String>,
        name: impl Into<String>,
        scopes: Scopes,
        created_at: u64,
        expires_at: Option<u64>,
        revoked_at: Option<u64>,
    ) -> Self {
        Self {
            id: id.into(),
            key_hash,
            username: username.into(),
            name: name.into(),
            scopes,
            created_at,
            expires_at,
            revoked_at,
        }
    }

    /// Whether the key can be used at `now`: not revoked, not expired.
    #[must_use]
    pub fn is_live(&self, now: u64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|end| now < end)
    }
}

/// A key just made: the key itself, to show once, and the record to store.
///
/// `Debug` does not show the key.
#[derive(Clone)]
pub struct NewApiKey {
    key: String,
    /// What the store keeps.
    pub record: ApiKeyRecord,
}

impl fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewApiKey")
            .field("key", &"<redacted>")
            .field("record", &self.record)
            .finish()
    }
}

impl NewApiKey {
    /// Makes a key for `username` from fresh randomness. Nothing is
    /// checked or stored; see [`create_api_key`].
    #[must_use]
    pub fn generate(
        username: &str,
        name: &str,
        scopes: Scopes,
        created_at: u64,
        expires_at: Option<u64>,
    ) -> Self {
        let mut id = [0u8; ID_BYTES];
        let mut secret = [0u8; SECRET_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut id);
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let id = format!("{:016x}", u64::from_be_bytes(id));
        let key = format!("{API_KEY_PREFIX}{id}_{}", URL_SAFE_NO_PAD.encode(secret));
        let record = ApiKeyRecord::new(
            id,
            hash_api_key(&key),
            username,
            name,
            scopes,
            created_at,
            expires_at,
            None,
        );
        Self { key, record }
    }

    /// The key. Show it once; never log it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.key
    }
}

/// Why [`create_api_key`] made no key.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ApiKeyError {
    /// The owner does not exist or is disabled.
    #[error("no enabled user named {0:?}")]
    UnknownOwner(String),
    /// A scope the owner does not hold.
    #[error("the user does not hold the scope {0:?}; a key gets a subset of its owner's scopes")]
    ScopeNotHeld(Scope),
    /// An empty label, or one longer than [`MAX_API_KEY_NAME_LEN`] bytes.
    #[error("the key's name must be 1 to {MAX_API_KEY_NAME_LEN} bytes")]
    BadName,
    /// The expiry is not after the creation time.
    #[error("the expiry must be in the future")]
    ExpiryInThePast,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Makes and stores a key for `owner`, who must exist and be enabled and
/// hold every scope of `scopes`; returns it to be shown once.
///
/// # Errors
///
/// See [`ApiKeyError`].
pub async fn create_api_key(
    users: &dyn UserStore,
    keys: &dyn ApiKeyStore,
    owner: &str,
    name: &str,
    scopes: Scopes,
    now: u64,
    expires_at: Option<u64>,
) -> Result<NewApiKey, ApiKeyError> {
    if name.is_empty() || name.len() > MAX_API_KEY_NAME_LEN {
        return Err(ApiKeyError::BadName);
    }
    if expires_at.is_some_and(|end| end <= now) {
        return Err(ApiKeyError::ExpiryInThePast);
    }
    let user = match users.find_user(owner).await? {
        Some(user) if !user.disabled => user,
        _ => return Err(ApiKeyError::UnknownOwner(owner.to_owned())),
    };
    if let Some(missing) = scopes.iter().find(|s| !user.scopes.contains(s.as_str())) {
        return Err(ApiKeyError::ScopeNotHeld(missing.clone()));
    }
    let key = NewApiKey::generate(owner, name, scopes, now, expires_at);
    keys.insert_api_key(key.record.clone()).await?;
    Ok(key)
}

/// Where API keys are kept, only ever by hash.
#[rocket::async_trait]
pub trait ApiKeyStore: Send + Sync + 'static {
    /// Stores a new key.
    ///
    /// # Errors
    ///
    /// [`StoreError::Conflict`] if the id or the hash exists; backend
    /// failures (an SQL store also refuses a key of an unknown user).
    async fn insert_api_key(&self, record: ApiKeyRecord) -> Result<(), StoreError>;

    /// The key whose SHA-256 is `key_hash`, revoked or not.
    ///
    /// # Errors
    ///
    /// Backend failures; an unknown key is `Ok(None)`.
    async fn find_api_key(&self, key_hash: &TokenHash) -> Result<Option<ApiKeyRecord>, StoreError>;

    /// The keys of `username`, or of everyone for `None`, ordered by owner
    /// and then creation (oldest first).
    ///
    /// # Errors
    ///
    /// Backend failures.
    async fn list_api_keys(&self, username: Option<&str>) -> Result<Vec<ApiKeyRecord>, StoreError>;

    /// Revokes the key `id` at `now` (a key revoked already keeps its first
    /// revocation time); returns the key as stored afterwards, or `None` if
    /// there is no such key.
    ///
    /// # Errors
    ///
    /// Backend failures.
    async fn revoke_api_key(&self, id: &str, now: u64) -> Result<Option<ApiKeyRecord>, StoreError>;
}

#[rocket::async_trait]
impl<S: ApiKeyStore + ?Sized> ApiKeyStore for std::sync::Arc<S> {
    async fn insert_api_key(&self, record: ApiKeyRecord) -> Result<(), StoreError> {
        (**self).insert_api_key(record).await
    }
    async fn find_api_key(&self, key_hash: &TokenHash) -> Result<Option<ApiKeyRecord>, StoreError> {
        (**self).find_api_key(key_hash).await
    }
    async fn list_api_keys(&self, username: Option<&str>) -> Result<Vec<ApiKeyRecord>, StoreError> {
        (**self).list_api_keys(username).await
    }
    async fn revoke_api_key(&self, id: &str, now: u64) -> Result<Option<ApiKeyRecord>, StoreError> {
        (**self).revoke_api_key(id, now).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_well_formed_unique_and_hashed() {
        let scopes = Scopes::parse("read").unwrap();
        let a = NewApiKey::generate("alice", "ci", scopes.clone(), 10, None);
        let b = NewApiKey::generate("alice", "ci", scopes, 10, Some(20));
        assert_ne!(a.expose(), b.expose());
        assert_ne!(a.record.id, b.record.id);
        for key in [&a, &b] {
            assert_eq!(key.expose().len(), API_KEY_LEN);
            assert!(is_well_formed(key.expose()));
            assert!(key.expose().contains(&key.record.id));
            assert_eq!(key.record.key_hash, hash_api_key(key.expose()));
            assert!(!format!("{key:?}").contains(key.expose()));
        }
        assert!(!is_well_formed("ak_short"));
        assert!(!is_well_formed(&a.expose().replacen("ak_", "xx_", 1)));
        assert!(!is_well_formed(&a.expose().replace('_', " ")));
    }

    #[test]
    fn liveness() {
        let mut record = NewApiKey::generate("a", "n", Scopes::new(), 10, Some(20)).record;
        assert!(record.is_live(19));
        assert!(!record.is_live(20));
        record.expires_at = None;
        assert!(record.is_live(u64::MAX));
        record.revoked_at = Some(15);
        assert!(!record.is_live(11));
    }
}
