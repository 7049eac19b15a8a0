//! A short-lived memory of subjects known to exist and be enabled, so that
//! authenticated requests need not ask the user store every time.
//!
//! Only positive answers are kept: an unknown or disabled subject is asked
//! about on every request. An entry lives for the configured lifetime
//! (`auth_subject_cache_ttl`, 5 s by default); [`crate::Auth::forget_subject`]
//! drops one at once.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// At most this many subjects are remembered; past it, expired entries are
/// dropped, and if none are, everything is.
const CAPACITY: usize = 65_536;

#[derive(Debug)]
pub(crate) struct SubjectCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, Instant>>,
}

impl SubjectCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `subject` was seen enabled less than the lifetime ago.
    pub(crate) fn is_fresh(&self, subject: &str) -> bool {
        !self.ttl.is_zero()
            && self
                .entries()
                .get(subject)
                .is_some_and(|expiry| Instant::now() < *expiry)
    }

    /// Remembers that `subject` exists and is enabled.
    pub(crate) fn remember(&self, subject: &str) {
        if self.ttl.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut entries = self.entries();
        if entries.len() >= CAPACITY && !entries.contains_key(subject) {
            entries.retain(|_, expiry| now < *expiry);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(subject.to_owned(), now + self.ttl);
    }

    /// Forgets `subject`.
    pub(crate) fn forget(&self, subject: &str) {
        self.entries().remove(subject);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_until_the_lifetime_ends() {
        let cache = SubjectCache::new(Duration::from_millis(50));
        assert!(!cache.is_fresh("a"));
        cache.remember("a");
        assert!(cache.is_fresh("a"));
        assert!(!cache.is_fresh("b"));
        std::thread::sleep(Duration::from_millis(60));
        assert!(!cache.is_fresh("a"));
    }

    #[test]
    fn forget_and_zero_lifetime() {
        let cache = SubjectCache::new(Duration::from_secs(60));
        cache.remember("a");
        cache.forget("a");
        assert!(!cache.is_fresh("a"));
        let off = SubjectCache::new(Duration::ZERO);
        off.remember("a");
        assert!(!off.is_fresh("a"));
    }

    #[test]
    fn stays_bounded() {
        let cache = SubjectCache::new(Duration::from_secs(60));
        for i in 0..=CAPACITY {
            cache.remember(&i.to_string());
        }
        assert!(cache.entries().len() <= CAPACITY);
        assert!(cache.is_fresh(&CAPACITY.to_string()));
    }
}
