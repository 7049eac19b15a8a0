//! The token caches, keyed by a token's exact bytes: tokens that passed
//! full verification, and tokens refused for a reason that cannot change.
//!
//! A token is hashed once per verification ([`CacheKeys::key`]) and the
//! same key looks it up in both caches. Each entry keeps its hash, so a
//! growing table never hashes a token again.

use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, PoisonError};

use hashbrown::HashTable;

use super::{AccessTokenClaims, TokenProblem};

/// Tokens that passed full verification, with their claims.
pub(super) type VerifiedCache = TokenCache<Arc<AccessTokenClaims>>;

/// Tokens refused for a reason that holds for good under the same keys.
pub(super) type RefusedCache = TokenCache<Refusal>;

/// Why a token was refused, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Refusal {
    pub(super) problem: TokenProblem,
    /// The verification time: an expired token stays expired from then on,
    /// not before.
    pub(super) at: u64,
}

impl Refusal {
    /// Whether `problem` holds for good for the same bytes under the same
    /// keys. Not: `NotYetValid` (time passes), `UnknownKey` (keys arrive),
    /// `UnknownSubject` (not a property of the token).
    pub(super) fn is_lasting(problem: TokenProblem) -> bool {
        matches!(
            problem,
            TokenProblem::Malformed
                | TokenProblem::BadSignature
                | TokenProblem::Expired
                | TokenProblem::WrongIssuer
                | TokenProblem::WrongAudience
                | TokenProblem::WrongAlgorithm
                | TokenProblem::WrongType
                | TokenProblem::BadClaims
        )
    }
}

/// Makes the cache keys of tokens: `SipHash` with keys random per process,
/// so that nobody can choose tokens that collide. Clones hash alike.
#[derive(Clone, Default)]
pub(super) struct CacheKeys {
    hasher: RandomState,
    max_token_len: usize,
}

impl fmt::Debug for CacheKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheKeys")
            .field("max_token_len", &self.max_token_len)
            .finish_non_exhaustive()
    }
}

impl CacheKeys {
    /// Keys for tokens of at most `max_token_len` bytes.
    pub(super) fn new(max_token_len: usize) -> Self {
        Self {
            hasher: RandomState::new(),
            max_token_len,
        }
    }

    /// The key of `token`; `None` if it is too long to be cached.
    pub(super) fn key<'t>(&self, token: &'t str) -> Option<CacheKey<'t>> {
        (token.len() <= self.max_token_len).then(|| CacheKey {
            token,
            hash: self.hasher.hash_one(token),
        })
    }
}

/// A token with its hash, for looking it up in either cache. Only the hash
/// narrows the search: a hit needs the exact bytes.
#[derive(Debug, Clone, Copy)]
pub(super) struct CacheKey<'t> {
    token: &'t str,
    hash: u64,
}

/// At most `capacity` tokens. When full, the whole cache is dropped and
/// refilled: simple and bounded.
///
/// Each entry records the generation of the shared verification keys it
/// was decided under; after the keys are replaced, older entries miss.
pub(super) struct TokenCache<V> {
    capacity: usize,
    entries: Mutex<HashTable<Entry<V>>>,
}

struct Entry<V> {
    token: Box<str>,
    hash: u64,
    value: V,
    generation: u64,
}

impl<V> fmt::Debug for TokenCache<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl<V: Clone> TokenCache<V> {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(HashTable::new()),
        }
    }

    /// An empty cache with the same bound.
    pub(super) fn empty_like(&self) -> Self {
        Self::new(self.capacity)
    }

    /// What was recorded for the key's token under keys of `generation`.
    pub(super) fn get(&self, key: &CacheKey<'_>, generation: u64) -> Option<V> {
        self.lock()
            .find(key.hash, |entry| *entry.token == *key.token)
            .filter(|entry| entry.generation == generation)
            .map(|entry| entry.value.clone())
    }

    /// Records `value` for the key's token under keys of `generation`.
    pub(super) fn insert(&self, key: &CacheKey<'_>, value: V, generation: u64) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.lock();
        if let Some(entry) = entries.find_mut(key.hash, |entry| *entry.token == *key.token) {
            entry.value = value;
            entry.generation = generation;
            return;
        }
        if entries.len() >= self.capacity {
            entries.clear();
        }
        let entry = Entry {
            token: key.token.into(),
            hash: key.hash,
            value,
            generation,
        };
        entries.insert_unique(key.hash, entry, |entry| entry.hash);
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashTable<Entry<V>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hit_needs_the_exact_bytes_not_only_the_hash() {
        let keys = CacheKeys::new(64);
        let cache = TokenCache::<u32>::new(4);
        let a = keys.key("token-a").unwrap();
        cache.insert(&a, 1, 0);
        // Another token forced onto the same hash still misses.
        let forged = CacheKey {
            token: "token-b",
            hash: a.hash,
        };
        assert_eq!(cache.get(&forged, 0), None);
        assert_eq!(cache.get(&a, 0), Some(1));
        assert_eq!(cache.get(&a, 1), None, "another key generation misses");
    }

    #[test]
    fn both_caches_share_one_key_and_clones_hash_alike() {
        let keys = CacheKeys::new(64);
        let verified = TokenCache::<&str>::new(4);
        let refused = TokenCache::<&str>::new(4);
        let key = keys.key("t").unwrap();
        verified.insert(&key, "ok", 0);
        refused.insert(&key, "no", 0);
        let again = keys.clone().key("t").unwrap();
        assert_eq!(verified.get(&again, 0), Some("ok"));
        assert_eq!(refused.get(&again, 0), Some("no"));
        assert!(keys.key(&"x".repeat(65)).is_none(), "too long to cache");
    }

    #[test]
    fn stays_bounded_and_replaces_in_place() {
        let keys = CacheKeys::new(64);
        let cache = TokenCache::<usize>::new(3);
        let tokens: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
        for (i, token) in tokens.iter().enumerate() {
            cache.insert(&keys.key(token).unwrap(), i, 0);
            assert!(cache.len() <= 3);
        }
        let last = keys.key(&tokens[9]).unwrap();
        cache.insert(&last, 99, 1);
        assert_eq!(cache.get(&last, 1), Some(99));
        assert!(cache.len() <= 3);
    }
}
