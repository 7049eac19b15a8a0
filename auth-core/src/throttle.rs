//! Brute-force throttling of the password grant: per username and per
//! client address, failed logins beyond a few free ones impose a growing
//! delay (1 s, 2 s, 4 s, ... up to a configured maximum) during which further
//! attempts are refused with 429 `slow_down` before any password is hashed.
//!
//! The state is in memory, in a map of bounded size: when it is full, the
//! entry seen least recently is dropped, so an attacker rotating usernames
//! cannot grow it. Each instance of a service counts on its own.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How many usernames and addresses are tracked at most.
pub(crate) const CAPACITY: usize = 10_000;

/// A client address gets this many times the free attempts of a username:
/// several people may share one address (NAT, proxies).
const ADDRESS_FACTOR: u32 = 4;

/// Longest username kept as a key, in bytes.
const MAX_KEY_LEN: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    User(String),
    Address(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    blocked_until: Instant,
    last_seen: Instant,
}

/// The settings and the counters.
#[derive(Debug)]
pub(crate) struct Throttle {
    enabled: bool,
    free_attempts: u32,
    max_delay: Duration,
    capacity: usize,
    entries: Mutex<HashMap<Key, Entry>>,
}

impl Throttle {
    /// `free_attempts` failures per username (four times that per address)
    /// before delays start; no delay longer than `max_delay`.
    pub(crate) fn new(enabled: bool, free_attempts: u32, max_delay: Duration) -> Self {
        Self::with_capacity(enabled, free_attempts, max_delay, CAPACITY)
    }

    pub(crate) fn with_capacity(
        enabled: bool,
        free_attempts: u32,
        max_delay: Duration,
        capacity: usize,
    ) -> Self {
        Self {
            enabled,
            free_attempts: free_attempts.max(1),
            max_delay: max_delay.max(Duration::from_secs(1)),
            capacity: capacity.max(2),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// After this long without a failure, an entry's count starts over.
    fn forget_after(&self) -> Duration {
        (self.max_delay * 2).max(Duration::from_secs(15 * 60))
    }

    fn keys(username: &str, address: Option<IpAddr>) -> [Option<Key>; 2] {
        let name = username.get(..MAX_KEY_LEN).unwrap_or(username);
        [Some(Key::User(name.to_owned())), address.map(Key::Address)]
    }

    /// `Err(seconds)` if the username or the address must wait that long.
    pub(crate) fn check(&self, username: &str, address: Option<IpAddr>) -> Result<(), u64> {
        self.check_at(username, address, Instant::now())
    }

    fn check_at(&self, username: &str, address: Option<IpAddr>, now: Instant) -> Result<(), u64> {
        if !self.enabled {
            return Ok(());
        }
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let wait = Self::keys(username, address)
            .iter()
            .flatten()
            .filter_map(|key| entries.get(key))
            .map(|entry| entry.blocked_until.saturating_duration_since(now))
            .max()
            .unwrap_or_default();
        if wait.is_zero() {
            Ok(())
        } else {
            // Whole seconds, rounded up: never tell a client to come back early.
            Err(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
        }
    }

    /// Counts a failed login for the username and the address.
    pub(crate) fn failed(&self, username: &str, address: Option<IpAddr>) {
        self.failed_at(username, address, Instant::now());
    }

    fn failed_at(&self, username: &str, address: Option<IpAddr>, now: Instant) {
        if !self.enabled {
            return;
        }
        let forget_after = self.forget_after();
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        for key in Self::keys(username, address).into_iter().flatten() {
            let free = match key {
                Key::User(_) => self.free_attempts,
                Key::Address(_) => self.free_attempts.saturating_mul(ADDRESS_FACTOR),
            };
            if !entries.contains_key(&key) && entries.len() >= self.capacity {
                evict_least_recent(&mut entries);
            }
            let entry = entries.entry(key).or_insert(Entry {
                failures: 0,
                blocked_until: now,
                last_seen: now,
            });
            if now.saturating_duration_since(entry.last_seen) > forget_after {
                entry.failures = 0;
            }
            entry.failures = entry.failures.saturating_add(1);
            entry.last_seen = now;
            if entry.failures > free {
                entry.blocked_until = now + self.delay(entry.failures - free);
            }
        }
    }

    /// The delay after the `excess`-th failure beyond the free ones: 1 s,
    /// doubling, at most `max_delay`.
    fn delay(&self, excess: u32) -> Duration {
        let doubled = 1u64.checked_shl(excess - 1).unwrap_or(u64::MAX);
        Duration::from_secs(doubled).min(self.max_delay)
    }

    /// A successful login: the username's count starts over.
    pub(crate) fn succeeded(&self, username: &str) {
        if !self.enabled {
            return;
        }
        let name = username.get(..MAX_KEY_LEN).unwrap_or(username);
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&Key::User(name.to_owned()));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// Drops the entry seen least recently. Linear, but only when the map is
/// full, and each failed login has already cost a password hash.
fn evict_least_recent(entries: &mut HashMap<Key, Entry>) {
    let oldest = entries
        .iter()
        .min_by_key(|(_, entry)| entry.last_seen)
        .map(|(key, _)| key.clone());
    if let Some(key) = oldest {
        entries.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const ADDR: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));

    fn throttle() -> Throttle {
        Throttle::new(true, 3, Duration::from_secs(60))
    }

    #[test]
    fn free_attempts_then_doubling_delays_up_to_the_maximum() {
        let t = throttle();
        let now = Instant::now();
        for _ in 0..3 {
            assert_eq!(t.check_at("bob", None, now), Ok(()));
            t.failed_at("bob", None, now);
        }
        assert_eq!(t.check_at("bob", None, now), Ok(()), "three free failures");
        let mut expected = Vec::new();
        let mut seen = Vec::new();
        let mut at = now;
        for i in 0..9u32 {
            t.failed_at("bob", None, at);
            let wait = t.check_at("bob", None, at).unwrap_err();
            seen.push(wait);
            expected.push((1u64 << i).min(60));
            at += Duration::from_secs(wait);
            assert_eq!(
                t.check_at("bob", None, at),
                Ok(()),
                "free again after the wait"
            );
        }
        assert_eq!(seen, expected);
        assert_eq!(*seen.last().unwrap(), 60, "bounded by the maximum");
    }

    #[test]
    fn success_resets_the_username_but_not_the_address() {
        let t = Throttle::new(true, 1, Duration::from_secs(60));
        let now = Instant::now();
        for _ in 0..5 {
            t.failed_at("bob", ADDR, now);
        }
        assert!(t.check_at("bob", None, now).is_err());
        t.succeeded("bob");
        assert_eq!(t.check_at("bob", None, now), Ok(()));
        // The address had 4 free failures and used 5.
        assert_eq!(t.check_at("carol", ADDR, now), Err(1));
    }

    #[test]
    fn an_address_is_throttled_across_usernames() {
        let t = Throttle::new(true, 2, Duration::from_secs(60));
        let now = Instant::now();
        for i in 0..8 {
            assert_eq!(t.check_at(&format!("user{i}"), ADDR, now), Ok(()));
            t.failed_at(&format!("user{i}"), ADDR, now);
        }
        assert_eq!(
            t.check_at("someone", ADDR, now),
            Ok(()),
            "8 free per address"
        );
        t.failed_at("user8", ADDR, now);
        assert_eq!(t.check_at("someone", ADDR, now), Err(1));
        assert_eq!(t.check_at("someone", None, now), Ok(()));
    }

    #[test]
    fn old_failures_are_forgotten() {
        let t = Throttle::new(true, 1, Duration::from_secs(10));
        let now = Instant::now();
        t.failed_at("bob", None, now);
        t.failed_at("bob", None, now);
        assert!(t.check_at("bob", None, now).is_err());
        let later = now + Duration::from_secs(16 * 60);
        t.failed_at("bob", None, later);
        assert_eq!(t.check_at("bob", None, later), Ok(()), "count started over");
    }

    #[test]
    fn the_map_stays_bounded_when_usernames_rotate() {
        let t = Throttle::with_capacity(true, 1, Duration::from_secs(60), 100);
        let now = Instant::now();
        t.failed_at("victim", None, now);
        t.failed_at("victim", None, now);
        for i in 0..1000 {
            t.failed_at(&format!("u{i}"), ADDR, now + Duration::from_millis(i + 1));
            assert!(t.len() <= 100);
        }
        // The least recently seen entries went first.
        assert_eq!(t.check_at("victim", None, now), Ok(()));
        assert!(
            t.check_at("anyone", ADDR, now + Duration::from_secs(1))
                .is_err()
        );
    }

    #[test]
    fn disabled_throttle_never_refuses() {
        let t = Throttle::new(false, 1, Duration::from_secs(60));
        for _ in 0..50 {
            t.failed("bob", ADDR);
        }
        assert_eq!(t.check("bob", ADDR), Ok(()));
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn long_usernames_share_a_bounded_key() {
        let t = Throttle::new(true, 1, Duration::from_secs(60));
        let long = "x".repeat(10_000);
        t.failed(&long, None);
        t.failed(&long, None);
        assert!(t.check(&"x".repeat(MAX_KEY_LEN), None).is_err());
    }
}
