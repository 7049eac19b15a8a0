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
//! a session id.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// At most this many subjects, and this many sessions, are remembered;
/// past it, expired entries are dropped, and if none are, everything is.
const CAPACITY: usize = 65_536;

/// A session found live, and whose it is (so ending a user ends it here).
#[derive(Debug)]
struct Session {
    expiry: Instant,
    subject: Box<str>,
}

#[derive(Debug, Default)]
struct Entries {
    subjects: HashMap<String, Instant>,
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
    /// the session `sid` live and the subject's) less than the lifetime ago.
    pub(crate) fn is_fresh(&self, subject: &str, sid: Option<&str>) -> bool {
        if self.ttl.is_zero() {
            return false;
        }
        let now = Instant::now();
        let entries = self.entries();
        match sid {
            None => entries
                .subjects
                .get(subject)
                .is_some_and(|expiry| now < *expiry),
            Some(sid) => entries
                .sessions
                .get(sid)
                .is_some_and(|s| now < s.expiry && &*s.subject == subject),
        }
    }

    /// Remembers that `subject` exists and is enabled, and that the session
    /// `sid`, if any, is live and theirs.
    pub(crate) fn remember(&self, subject: &str, sid: Option<&str>) {
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
                    subjects.retain(|_, expiry| now < *expiry);
                    if subjects.len() >= CAPACITY {
                        subjects.clear();
                    }
                }
                subjects.insert(subject.to_owned(), expiry);
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
                sessions.insert(sid.to_owned(), Session { expiry, subject });
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

    #[test]
    fn remembers_until_the_lifetime_ends() {
        let cache = SubjectCache::new(Duration::from_millis(50));
        assert!(!cache.is_fresh("a", None));
        cache.remember("a", None);
        assert!(cache.is_fresh("a", None));
        assert!(!cache.is_fresh("b", None));
        std::thread::sleep(Duration::from_millis(60));
        assert!(!cache.is_fresh("a", None));
    }

    #[test]
    fn forget_and_zero_lifetime() {
        let cache = SubjectCache::new(Duration::from_secs(60));
        cache.remember("a", None);
        cache.forget("a");
        assert!(!cache.is_fresh("a", None));
        let off = SubjectCache::new(Duration::ZERO);
        off.remember("a", None);
        off.remember("a", Some("s"));
        assert!(!off.is_fresh("a", None));
        assert!(!off.is_fresh("a", Some("s")));
    }

    #[test]
    fn a_session_is_fresh_only_for_its_subject_and_apart_from_subjects() {
        let cache = SubjectCache::new(Duration::from_secs(60));
        cache.remember("alice", Some("s1"));
        assert!(cache.is_fresh("alice", Some("s1")));
        assert!(!cache.is_fresh("mallory", Some("s1")), "another subject");
        assert!(!cache.is_fresh("alice", Some("s2")), "another session");
        assert!(!cache.is_fresh("alice", None), "a session is not a subject");
        // A user named like a session id does not make the session fresh.
        cache.remember("s2", None);
        assert!(!cache.is_fresh("s2", Some("s2")));
    }

    #[test]
    fn ending_a_session_or_its_user_forgets_it() {
        let cache = SubjectCache::new(Duration::from_secs(60));
        cache.remember("alice", Some("s1"));
        cache.remember("alice", Some("s2"));
        cache.remember("bob", Some("s3"));
        cache.forget_session("s1");
        assert!(!cache.is_fresh("alice", Some("s1")));
        assert!(cache.is_fresh("alice", Some("s2")));
        cache.forget("alice");
        assert!(!cache.is_fresh("alice", Some("s2")));
        assert!(cache.is_fresh("bob", Some("s3")));
    }

    #[test]
    fn stays_bounded() {
        let cache = SubjectCache::new(Duration::from_secs(60));
        for i in 0..=CAPACITY {
            cache.remember(&i.to_string(), None);
            cache.remember("u", Some(&i.to_string()));
        }
        assert!(cache.entries().subjects.len() <= CAPACITY);
        assert!(cache.entries().sessions.len() <= CAPACITY);
        assert!(cache.is_fresh(&CAPACITY.to_string(), None));
        assert!(cache.is_fresh("u", Some(&CAPACITY.to_string())));
    }
}
