//! The verified-token cache: tokens that passed full verification, keyed by
//! their exact bytes.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use super::AccessTokenClaims;

/// Tokens that passed full verification, keyed by their exact bytes, at
/// most `capacity` of them. When full, the whole cache is dropped and
/// refilled: simple, bounded, and only ever holding verified tokens.
///
/// Each entry records the generation of the shared verification keys it
/// was verified under; after the keys are replaced, older entries miss.
pub(super) struct VerifiedCache {
    capacity: usize,
    entries: Mutex<HashMap<Box<str>, Entry>>,
}

struct Entry {
    claims: Arc<AccessTokenClaims>,
    generation: u64,
}

impl fmt::Debug for VerifiedCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedCache")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl VerifiedCache {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Most entries held at once.
    pub(super) fn capacity(&self) -> usize {
        self.capacity
    }

    /// The claims of `token` if it was verified under keys of `generation`.
    pub(super) fn get(&self, token: &str, generation: u64) -> Option<Arc<AccessTokenClaims>> {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(token)
            .filter(|entry| entry.generation == generation)
            .map(|entry| Arc::clone(&entry.claims))
    }

    /// Remembers a token that passed full verification under keys of
    /// `generation`. Never call it with anything else.
    pub(super) fn insert(&self, token: &str, claims: Arc<AccessTokenClaims>, generation: u64) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity && !entries.contains_key(token) {
            entries.clear();
        }
        entries.insert(token.into(), Entry { claims, generation });
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}
