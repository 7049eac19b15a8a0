//! Sets of verification keys selected by `kid` ([`KeySet`]), and a set
//! that can be replaced while the server runs ([`SharedKeys`]).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use super::keys::KeyError;
use super::verification_key::VerificationKey;

/// Verification keys by `kid`. Each key pins its own algorithm.
///
/// Build one from keys ([`Self::insert`], [`Self::with`]) or from a
/// published JWK set ([`Self::from_jwk_set`]); publish the public ones with
/// [`Self::to_jwk_set`].
///
/// # Example
///
/// ```
/// use auth_core::{Algorithm, KeySet, VerificationKey};
///
/// let old = VerificationKey::hmac("2025", Algorithm::HS256, b"0123456789abcdef0123456789abcdef").unwrap();
/// let set = KeySet::new().with(old).unwrap();
/// assert!(set.get("2025").is_some());
/// assert!(set.to_jwk_set().keys.is_empty()); // secrets are never published
/// ```
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: BTreeMap<String, Arc<VerificationKey>>,
}

impl KeySet {
    /// An empty set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key.
    ///
    /// # Errors
    ///
    /// [`KeyError::DuplicateKid`] if the set already has a key with that
    /// `kid`.
    pub fn insert(&mut self, key: VerificationKey) -> Result<(), KeyError> {
        if self.keys.contains_key(key.kid()) {
            return Err(KeyError::DuplicateKid {
                kid: key.kid().to_owned(),
            });
        }
        self.keys.insert(key.kid().to_owned(), Arc::new(key));
        Ok(())
    }

    /// The set with one more key.
    ///
    /// # Errors
    ///
    /// As [`Self::insert`].
    pub fn with(mut self, key: VerificationKey) -> Result<Self, KeyError> {
        self.insert(key)?;
        Ok(self)
    }

    /// Removes the key with this `kid`, returning it.
    pub fn remove(&mut self, kid: &str) -> Option<VerificationKey> {
        self.keys
            .remove(kid)
            .map(|key| Arc::try_unwrap(key).unwrap_or_else(|shared| (*shared).clone()))
    }

    /// The key with this `kid`.
    #[must_use]
    pub fn get(&self, kid: &str) -> Option<&VerificationKey> {
        self.keys.get(kid).map(AsRef::as_ref)
    }

    /// The key with this `kid`, shared.
    pub(super) fn get_shared(&self, kid: &str) -> Option<&Arc<VerificationKey>> {
        self.keys.get(kid)
    }

    /// The only key, if the set holds exactly one.
    pub(super) fn only(&self) -> Option<&Arc<VerificationKey>> {
        let mut keys = self.keys.values();
        match (keys.next(), keys.next()) {
            (Some(key), None) => Some(key),
            _ => None,
        }
    }

    /// The keys, ordered by `kid`.
    pub fn iter(&self) -> impl Iterator<Item = &VerificationKey> {
        self.keys.values().map(AsRef::as_ref)
    }

    /// How many keys the set holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl<'a> IntoIterator for &'a KeySet {
    type Item = &'a VerificationKey;
    type IntoIter = Box<dyn Iterator<Item = &'a VerificationKey> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// A hook called with the `kid` of a token no key matched.
type UnknownKidHook = Box<dyn Fn(&str) + Send + Sync>;

/// A [`KeySet`] shared by everything that verifies tokens, replaceable while
/// the server runs (e.g. by a task that re-reads another issuer's JWKS).
///
/// Cloning shares the set. [`Self::replace`] takes effect for the next
/// verification, and tokens remembered as verified with the old keys are
/// verified again.
///
/// # Example
///
/// ```
/// use auth_core::{KeySet, SharedKeys};
///
/// let shared = SharedKeys::new(KeySet::new());
/// let handle = shared.clone();
/// handle.replace(KeySet::new());
/// assert_eq!(shared.generation(), 1);
/// ```
#[derive(Clone)]
pub struct SharedKeys {
    inner: Arc<Shared>,
}

struct Shared {
    current: RwLock<Arc<KeySet>>,
    generation: AtomicU64,
    on_unknown_kid: OnceLock<UnknownKidHook>,
}

impl fmt::Debug for SharedKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedKeys")
            .field("keys", &self.load())
            .field("generation", &self.generation())
            .finish_non_exhaustive()
    }
}

impl Default for SharedKeys {
    fn default() -> Self {
        Self::new(KeySet::new())
    }
}

impl SharedKeys {
    /// Shares `keys`.
    #[must_use]
    pub fn new(keys: KeySet) -> Self {
        Self {
            inner: Arc::new(Shared {
                current: RwLock::new(Arc::new(keys)),
                generation: AtomicU64::new(0),
                on_unknown_kid: OnceLock::new(),
            }),
        }
    }

    /// The keys now.
    #[must_use]
    pub fn load(&self) -> Arc<KeySet> {
        Arc::clone(
            &self
                .inner
                .current
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// Replaces the keys for every holder of this handle.
    pub fn replace(&self, keys: KeySet) {
        *self
            .inner
            .current
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
        self.inner.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// How many times the keys were replaced.
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::Acquire)
    }

    /// Calls `hook` with the `kid` of every token that names a key this set
    /// does not hold (before the token is refused with
    /// [`TokenProblem::UnknownKey`](crate::TokenProblem::UnknownKey)), e.g.
    /// to wake a task that fetches the issuer's keys again. The hook runs on
    /// the verifying thread: keep it quick and rate-limit the work it
    /// starts. Only one hook can be set; returns `false` if one was.
    pub fn on_unknown_kid(&self, hook: impl Fn(&str) + Send + Sync + 'static) -> bool {
        self.inner.on_unknown_kid.set(Box::new(hook)).is_ok()
    }

    pub(super) fn unknown_kid(&self, kid: &str) {
        if let Some(hook) = self.inner.on_unknown_kid.get() {
            hook(kid);
        }
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::Algorithm;

    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const ED_A_PUB: &str = include_str!("../../tests/fixtures/ed25519-a.pub");

    #[test]
    fn duplicate_kids_are_refused() {
        let a = VerificationKey::hmac("same", Algorithm::HS256, SECRET).unwrap();
        let b = VerificationKey::ed25519_pem(Some("same"), ED_A_PUB.as_bytes()).unwrap();
        assert_eq!(
            KeySet::new().with(a).unwrap().with(b).unwrap_err(),
            KeyError::DuplicateKid { kid: "same".into() }
        );
    }
}
