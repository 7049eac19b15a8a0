//! The bounded table of failure counters behind [`super::Throttle`], and
//! the bounded set of addresses each username has logged in from.
//!
//! Eviction never hands out guesses: only counters that hold nothing (no
//! failure) or that would start over anyway (idle longer than the forget
//! time) are dropped to make room. When the table is full of live counters,
//! a new (username, address) or address counter is simply not created (the
//! attempt is then judged by the username's counter alone, without the
//! known-address exemption), and a new username shares one overflow
//! counter, which is never evicted.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// How many addresses are remembered per username as known (those it last
/// logged in from successfully).
pub(super) const KNOWN_PER_USER: usize = 8;

/// What a counter counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Key {
    /// Failures for a username from every address.
    User(Box<str>),
    /// Failures for a username from one address (IPv6: one /64).
    Pair(Box<str>, IpAddr),
    /// Failures from one address for every username.
    Address(IpAddr),
    /// The shared counter of usernames that found the table full.
    Overflow,
}

/// One counter.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    /// Failures, counting attempts still in flight.
    pub(super) failures: u32,
    /// Attempts admitted and not yet answered: their failures may still be
    /// given back.
    pub(super) in_flight: u32,
    pub(super) blocked_until: Instant,
    pub(super) last_seen: Instant,
}

impl Entry {
    fn new(now: Instant) -> Self {
        Self {
            failures: 0,
            in_flight: 0,
            blocked_until: now,
            last_seen: now,
        }
    }

    /// Whether dropping the entry gives nobody anything: it holds no
    /// failure, or its failures would be forgotten at the next one anyway.
    fn is_spent(&self, now: Instant, forget_after: Duration) -> bool {
        self.failures == 0 || now.saturating_duration_since(self.last_seen) > forget_after
    }
}

/// The counters, at most `capacity` of them (plus the overflow counter).
#[derive(Debug)]
pub(super) struct Table {
    entries: HashMap<Key, Entry>,
    capacity: usize,
    /// Usernames and the addresses they last logged in from, with when.
    known: HashMap<Box<str>, Vec<(IpAddr, Instant)>>,
}

impl Table {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            capacity,
            known: HashMap::new(),
        }
    }

    /// The key under which `key` is counted, making room for it if needed:
    /// `key` itself if it has an entry or room can be made, else the
    /// overflow counter for a username and `None` for anything else.
    /// Entries named in `keep` (slots taken for the same attempt) are not
    /// evicted.
    pub(super) fn slot(
        &mut self,
        key: Key,
        keep: &[Option<&Key>],
        now: Instant,
        forget_after: Duration,
    ) -> Option<Key> {
        if self.entries.contains_key(&key) {
            return Some(key);
        }
        if key == Key::Overflow {
            self.entries.insert(Key::Overflow, Entry::new(now));
            return Some(key);
        }
        let counted = self.entries.len() - usize::from(self.entries.contains_key(&Key::Overflow));
        if counted >= self.capacity && !self.evict_one_spent(keep, now, forget_after) {
            return matches!(key, Key::User(_))
                .then(|| self.slot(Key::Overflow, keep, now, forget_after))
                .flatten();
        }
        self.entries.insert(key.clone(), Entry::new(now));
        Some(key)
    }

    /// Drops one spent entry, if there is one. Linear, but only when the
    /// table is full, and every counted attempt costs a password hash.
    fn evict_one_spent(
        &mut self,
        keep: &[Option<&Key>],
        now: Instant,
        forget_after: Duration,
    ) -> bool {
        let spent = self
            .entries
            .iter()
            .find(|(key, entry)| {
                **key != Key::Overflow
                    && !keep.contains(&Some(*key))
                    && entry.is_spent(now, forget_after)
            })
            .map(|(key, _)| key.clone());
        spent.is_some_and(|key| self.entries.remove(&key).is_some())
    }

    pub(super) fn get(&self, key: &Key) -> Option<&Entry> {
        self.entries.get(key)
    }

    pub(super) fn get_mut(&mut self, key: &Key) -> Option<&mut Entry> {
        self.entries.get_mut(key)
    }

    pub(super) fn remove(&mut self, key: &Key) {
        self.entries.remove(key);
    }

    /// Whether `username` logged in successfully from `address` before.
    pub(super) fn is_known(&self, username: &str, address: IpAddr) -> bool {
        self.known
            .get(username)
            .is_some_and(|addresses| addresses.iter().any(|(known, _)| *known == address))
    }

    /// Remembers a successful login of `username` from `address`: at most
    /// [`KNOWN_PER_USER`] addresses per username (the oldest goes) and
    /// `capacity` usernames (the one whose last login is oldest goes).
    pub(super) fn remember(&mut self, username: &str, address: IpAddr, now: Instant) {
        if !self.known.contains_key(username) && self.known.len() >= self.capacity {
            let oldest = self
                .known
                .iter()
                .min_by_key(|(_, addresses)| addresses.iter().map(|(_, at)| *at).max())
                .map(|(name, _)| name.clone());
            if let Some(name) = oldest {
                self.known.remove(&name);
            }
        }
        let addresses = self.known.entry(username.into()).or_default();
        addresses.retain(|(known, _)| *known != address);
        if addresses.len() >= KNOWN_PER_USER {
            addresses.remove(0);
        }
        addresses.push((address, now));
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }
}
