//! [`MemoryClientStore`]: clients in memory, for tests and small apps.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::{ClientRecord, ClientStore};
use crate::store::StoreError;

/// Clients in memory, lost on restart. Clones share the clients.
///
/// Deleting a client does not touch refresh tokens (this store does not
/// know them): revoke its users' sessions as well if that matters.
#[derive(Debug, Default, Clone)]
pub struct MemoryClientStore {
    clients: Arc<Mutex<BTreeMap<String, ClientRecord>>>,
}

impl MemoryClientStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `record`, replacing a client of the same id (a
    /// synchronous shortcut for setting up tests).
    pub fn insert(&self, record: ClientRecord) {
        self.lock().insert(record.client_id.clone(), record);
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, ClientRecord>> {
        self.clients.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[rocket::async_trait]
impl ClientStore for MemoryClientStore {
    async fn find_client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        Ok(self.lock().get(client_id).cloned())
    }

    async fn create_client(&self, record: ClientRecord) -> Result<(), StoreError> {
        let mut clients = self.lock();
        if clients.contains_key(&record.client_id) {
            return Err(StoreError::Conflict {
                what: format!("client {:?}", record.client_id),
            });
        }
        clients.insert(record.client_id.clone(), record);
        Ok(())
    }

    async fn list_clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        Ok(self.lock().values().cloned().collect())
    }

    async fn set_client_enabled(&self, client_id: &str, enabled: bool) -> Result<bool, StoreError> {
        Ok(self
            .lock()
            .get_mut(client_id)
            .map(|client| client.enabled = enabled)
            .is_some())
    }

    async fn delete_client(&self, client_id: &str) -> Result<bool, StoreError> {
        Ok(self.lock().remove(client_id).is_some())
    }
}
