//! A short-lived memory of what the stores last said about the callers:
//! subjects known to exist and be enabled, and sessions (refresh-token
//! families, the `sid` of access tokens) known to be live, so that
//! authenticated requests need not ask a store every time.
//!
//! Only positive answers are kept: an unknown or disabled subject, or an
//! ended session, is asked about on every request. An entry lives for the
//! configured lifetime (`auth_subject_cache_ttl`, 5 s by default); ending a
//! session or a user here drops its entries at once
//! ([`crate::Auth::forget_subject`]), and other instances see the store's
//! answer once their entry expires.
//!
//! Subjects and sessions are kept apart, so a username can never pass for
//! a session id. Each entry keeps the scopes the subject held, so a token
//! carrying a scope withdrawn since is not taken as fresh.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::scopes::Scopes;

/// At most this many subjects, and this many sessions, are remembered;
/// past it, expired entries are dropped, and if none are, everything is.
const CAPACITY: usize = 65_536;

/// A subject found enabled, with the scopes it held then.
#[derive(Debug)]
struct Subject {
    expiry: Instant,
    scopes: Arc<Scopes>,
}

/// A session found live, whose it is (so ending a user ends it here), and
/// the scopes its subject held then.
#[derive(Debug)]
struct Session {
    expiry: Instant,
    subject: Box<str>,
    scopes: Arc<Scopes>,
}

#[derive(Debug, Default)]
struct Entries {
    subjects: HashMap<String, Subject>,
    sessions: HashMap<String, Session>,
}

#[derive(Debug)]
pub(crate) struct SubjectCache {
    ttl: Duration,
    entries: Mutex<Entries>,
}

impl SubjectCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(Entries::default()),
        }
    }

    fn entries(&self) -> MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `subject` was seen enabled (and, for a token of a session,
    /// the session `sid` live and the subject's) less than the lifetime ago,
    /// holding every scope in `scopes`.
    pub(crate) fn is_fresh(&self, subject: &str, sid: Option<&str>, scopes: &Scopes) -> bool {
        if self.ttl.is_zero() {
            return false;
        }
        let now = Instant::now();
        let entries = self.entries();
        match sid {
            None => entries
                .subjects
                .get(subject)
                .is_some_and(|s| now < s.expiry && s.scopes.contains_all(scopes)),
            Some(sid) => entries.sessions.get(sid).is_some_and(|s| {
                now < s.expiry && &*s.subject == subject && s.scopes.contains_all(scopes)
            }),
        }
    }

    /// Remembers that `subject` exists, is enabled and holds `scopes`, and
    /// that the session `sid`, if any, is live and theirs.
    pub(crate) fn remember(&self, subject: &str, sid: Option<&str>, scopes: &Arc<Scopes>) {
        if self.ttl.is_zero() {
            return;
        }
        let now = Instant::now();
        let expiry = now + self.ttl;
        let mut entries = self.entries();
        match sid {
            None => {
                let subjects = &mut entries.subjects;
                if subjects.len() >= CAPACITY && !subjects.contains_key(subject) {
                    subjects.retain(|_, s| now < s.expiry);
                    if subjects.len() >= CAPACITY {
                        subjects.clear();
                    }
                }
                let scopes = Arc::clone(scopes);
                subjects.insert(subject.to_owned(), Subject { expiry, scopes });
            }
            Some(sid) => {
                let sessions = &mut entries.sessions;
                if sessions.len() >= CAPACITY && !sessions.contains_key(sid) {
                    sessions.retain(|_, s| now < s.expiry);
                    if sessions.len() >= CAPACITY {
                        sessions.clear();
                    }
                }
                let subject = subject.into();
                let scopes = Arc::clone(scopes);
                sessions.insert(
                    sid.to_owned(),
                    Session {
                        expiry,
                        subject,
                        scopes,
                    },
                );
            }
        }
    }

    /// Forgets `subject` and every session of theirs.
    pub(crate) fn forget(&self, subject: &str) {
        let mut entries = self.entries();
        entries.subjects.remove(subject);
        if !entries.sessions.is_empty() {
            entries.sessions.retain(|_, s| &*s.subject != subject);
        }
    }

    /// Forgets the session `sid`.
    pub(crate) fn forget_session(&self, sid: &str) {
        self.entries().sessions.remove(sid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> Scopes {
        Scopes::default()
    }

    fn all() -> Arc<Scopes> {
        Arc::new("read write".parse().unwrap())
    }

    #[test]
    fn remembers_until_the_lifetime_ends() {
        let cache = SubjectCache::new(Duration::from_millis(50));
        assert!(!cache.is_fresh("a", None, &none()));
        cache.remember("a", None, &all());
        assert!(cache.is_fresh("a", None, &none()));
        assert!(!cache.is_fresh("b", None, &none()));
        std::thread::sleep(Duration::from_millis(60));
        assert!(!cache.is_fresh("a", None, &none()));
    }

    #[test]
    fn forget_and_zero_lifetime() {
        let cache = SubjectCache::new(Duration::from_secs(60));
        cache.remember("a", None, &all());
        cache.forget("a");
        assert!(!cache.is_fresh("a", None, &none()));
        let off = SubjectCache::new(Duration::ZERO);
        off.remember("a", None, &all());
        off.remember("a", Some("s"), &all());
        assert!(!off.is_fresh("a", None, &none()));
        assert!(!off.is_fresh("a", Some("s"), &none()));
    }

    #[test]
    fn a_session_is_fresh_only_for_its_subject_and_apart_from_subjects() {
        let cache = SubjectCache::new(Duration::from_secs(60));
        cache.remember("alice", Some("s1"), &all());
        assert!(cache.is_fresh("alice", Some("s1"), &none()));
        assert!(
            !cache.is_fresh("mallory", Some("s1"), &none()),
            "another subject"
        );
        assert!(
            !cache.is_fresh("alice", Some("s2"), &none()),
            "another session"
        );
        assert!(
            !cache.is_fresh("alice", None, &none()),
            "a session is not a subject"
        );
        // A user named like a session id does not make the session fresh.
        cache.remember("s2", None, &all());
        assert!(!cache.is_fresh("s2", Some("s2"), &none()));
    }

    #[test]
    fn ending_a_session_or_its_user_forgets_it() {
        let cache = SubjectCache::new(Duration::from_secs(60));
        cache.remember("alice", Some("s1"), &all());
        cache.remember("alice", Some("s2"), &all());
        cache.remember("bob", Some("s3"), &all());
        cache.forget_session("s1");
        assert!(!cache.is_fresh("alice", Some("s1"), &none()));
        assert!(cache.is_fresh("alice", Some("s2"), &none()));
        cache.forget("alice");
        assert!(!cache.is_fresh("alice", Some("s2"), &none()));
        assert!(cache.is_fresh("bob", Some("s3"), &none()));
    }

    #[test]
    fn a_token_with_a_scope_the_subject_no_longer_held_is_not_fresh() {
        let cache = SubjectCache::new(Duration::from_secs(60));
        let read: Arc<Scopes> = Arc::new("read".parse().unwrap());
        cache.remember("alice", None, &read);
        cache.remember("alice", Some("s1"), &read);
        for sid in [None, Some("s1")] {
            assert!(cache.is_fresh("alice", sid, &"read".parse().unwrap()));
            assert!(cache.is_fresh("alice", sid, &none()));
            assert!(!cache.is_fresh("alice", sid, &"read write".parse().unwrap()));
        }
    }

    #[test]
    fn stays_bounded() {
        let cache = SubjectCache::new(Duration::from_secs(60));
        for i in 0..=CAPACITY {
            cache.remember(&i.to_string(), None, &all());
            cache.remember("u", Some(&i.to_string()), &all());
        }
        assert!(cache.entries().subjects.len() <= CAPACITY);
        assert!(cache.entries().sessions.len() <= CAPACITY);
        assert!(cache.is_fresh(&CAPACITY.to_string(), None, &none()));
        assert!(cache.is_fresh("u", Some(&CAPACITY.to_string()), &none()));
    }
}
