//! The token caches, keyed by a token's exact bytes: tokens that passed
//! full verification, and tokens refused for a reason that cannot change.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

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

/// At most `capacity` tokens of at most `max_token_len` bytes, keyed by
/// their exact bytes. When full, the whole cache is dropped and refilled:
/// simple and bounded.
///
/// Each entry records the generation of the shared verification keys it
/// was decided under; after the keys are replaced, older entries miss.
pub(super) struct TokenCache<V> {
    capacity: usize,
    max_token_len: usize,
    entries: Mutex<HashMap<Box<str>, Entry<V>>>,
}

struct Entry<V> {
    value: V,
    generation: u64,
}

impl<V> fmt::Debug for TokenCache<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("capacity", &self.capacity)
            .field("max_token_len", &self.max_token_len)
            .finish_non_exhaustive()
    }
}

impl<V: Clone> TokenCache<V> {
    pub(super) fn new(capacity: usize, max_token_len: usize) -> Self {
        Self {
            capacity,
            max_token_len,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// An empty cache with the same bounds.
    pub(super) fn empty_like(&self) -> Self {
        Self::new(self.capacity, self.max_token_len)
    }

    /// What was recorded for `token` under keys of `generation`.
    pub(super) fn get(&self, token: &str, generation: u64) -> Option<V> {
        if token.len() > self.max_token_len {
            return None;
        }
        self.lock()
            .get(token)
            .filter(|entry| entry.generation == generation)
            .map(|entry| entry.value.clone())
    }

    /// Records `value` for `token` under keys of `generation`.
    pub(super) fn insert(&self, token: &str, value: V, generation: u64) {
        if self.capacity == 0 || token.len() > self.max_token_len {
            return;
        }
        let mut entries = self.lock();
        if entries.len() >= self.capacity && !entries.contains_key(token) {
            entries.clear();
        }
        entries.insert(token.into(), Entry { value, generation });
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Entry<V>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
