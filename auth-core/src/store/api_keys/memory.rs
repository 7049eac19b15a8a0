//! [`MemoryApiKeyStore`]: API keys in memory, for tests and small apps.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::{ApiKeyRecord, ApiKeyStore};
use crate::store::{StoreError, TokenHash};

/// API keys in memory. Clones share the keys.
///
/// Unlike the SQL stores, it does not know the users: deleting a user
/// leaves their keys, which are refused while no enabled user of that name
/// exists.
#[derive(Debug, Clone, Default)]
pub struct MemoryApiKeyStore {
    keys: Arc<Mutex<Keys>>,
}

#[derive(Debug, Default)]
struct Keys {
    by_hash: HashMap<TokenHash, ApiKeyRecord>,
    /// Id to hash.
    ids: HashMap<String, TokenHash>,
}

impl MemoryApiKeyStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn keys(&self) -> MutexGuard<'_, Keys> {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[rocket::async_trait]
impl ApiKeyStore for MemoryApiKeyStore {
    async fn insert_api_key(&self, record: ApiKeyRecord) -> Result<(), StoreError> {
        let mut keys = self.keys();
        if keys.ids.contains_key(&record.id) || keys.by_hash.contains_key(&record.key_hash) {
            return Err(StoreError::Conflict {
                what: format!("API key {:?}", record.id),
            });
        }
        keys.ids.insert(record.id.clone(), record.key_hash);
        keys.by_hash.insert(record.key_hash, record);
        Ok(())
    }

    async fn find_api_key(&self, key_hash: &TokenHash) -> Result<Option<ApiKeyRecord>, StoreError> {
        Ok(self.keys().by_hash.get(key_hash).cloned())
    }

    async fn list_api_keys(&self, username: Option<&str>) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let mut list: Vec<ApiKeyRecord> = self
            .keys()
            .by_hash
            .values()
            .filter(|r| username.is_none_or(|u| r.username == u))
            .cloned()
            .collect();
        list.sort_by(|a, b| {
            (a.username.as_bytes(), a.created_at, &a.id).cmp(&(
                b.username.as_bytes(),
                b.created_at,
                &b.id,
            ))
        });
        Ok(list)
    }

    async fn revoke_api_key(&self, id: &str, now: u64) -> Result<Option<ApiKeyRecord>, StoreError> {
        let mut keys = self.keys();
        let Some(hash) = keys.ids.get(id).copied() else {
            return Ok(None);
        };
        Ok(keys.by_hash.get_mut(&hash).map(|record| {
            record.revoked_at.get_or_insert(now);
            record.clone()
        }))
    }
}
