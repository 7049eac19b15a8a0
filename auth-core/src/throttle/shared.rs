//! Per-username throttling counters that several instances share, so that
//! N instances behind a load balancer do not give N times the guesses.
//!
//! A store offers them through [`UserStore::shared_counters`]; the
//! PostgreSQL store does (table `login_throttle`), `SQLite` and memory
//! stores serve one instance and keep them in memory.
//!
//! [`UserStore::shared_counters`]: crate::UserStore::shared_counters

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::store::StoreError;

/// One username's failures as a shared store keeps them. Times are
/// milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SharedCounter {
    /// Failed (or reserved) attempts since the counter last started over.
    pub failures: u64,
    /// No attempt is admitted before this time.
    pub blocked_until: u64,
    /// The last counted attempt.
    pub last_seen: u64,
}

impl SharedCounter {
    /// A counter with these values, e.g. as read from a database row.
    #[must_use]
    pub fn new(failures: u64, blocked_until: u64, last_seen: u64) -> Self {
        Self {
            failures,
            blocked_until,
            last_seen,
        }
    }
}

/// What a [`SharedCounters`] store is asked to do to one counter.
pub type CounterChange<'a> = &'a (dyn Fn(&mut SharedCounter) -> u64 + Send + Sync);

/// Per-username counters several instances share.
///
/// An implementation only loads, changes and stores a counter atomically
/// (a row lock, a compare-and-swap); the throttle decides what changes.
///
/// # Example
///
/// ```rust
/// use std::collections::HashMap;
/// use std::sync::Mutex;
///
/// use auth_core::throttle::{CounterChange, SharedCounter, SharedCounters};
/// use auth_core::StoreError;
///
/// /// One process's counters (a real implementation is a database).
/// #[derive(Default)]
/// struct Local(Mutex<HashMap<String, SharedCounter>>);
///
/// #[rocket::async_trait]
/// impl SharedCounters for Local {
///     async fn update(
///         &self,
///         username: &str,
///         forget_before: u64,
///         change: CounterChange<'_>,
///     ) -> Result<u64, StoreError> {
///         let mut counters = self.0.lock().unwrap();
///         counters.retain(|_, c| c.last_seen >= forget_before);
///         Ok(change(counters.entry(username.to_owned()).or_default()))
///     }
/// }
/// ```
#[rocket::async_trait]
pub trait SharedCounters: Send + Sync + 'static {
    /// Applies `change` to the counter of `username` (a zeroed one if there
    /// is none) atomically with respect to every other instance, stores the
    /// result and returns what `change` returned. Counters last seen before
    /// `forget_before` may be deleted on the way.
    ///
    /// # Errors
    ///
    /// Backend failures; the throttle then relies on its in-memory
    /// counters alone.
    async fn update(
        &self,
        username: &str,
        forget_before: u64,
        change: CounterChange<'_>,
    ) -> Result<u64, StoreError>;
}

/// The rules a shared counter follows: the same as the in-memory one.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rules {
    pub(super) free: u64,
    pub(super) max_delay: Duration,
    pub(super) forget_after: Duration,
}

/// Milliseconds since the Unix epoch.
pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl Rules {
    /// Counts an attempt unless the counter is blocked: 0 when admitted,
    /// else the milliseconds to wait.
    pub(super) fn reserve(&self, counter: &mut SharedCounter, now: u64) -> u64 {
        if counter.blocked_until > now {
            return counter.blocked_until - now;
        }
        if now.saturating_sub(counter.last_seen) > ms(self.forget_after) {
            counter.failures = 0;
        }
        counter.failures = counter.failures.saturating_add(1);
        counter.last_seen = now;
        if counter.failures > self.free {
            let excess = u32::try_from(counter.failures - self.free).unwrap_or(u32::MAX);
            let doubled = 1u64.checked_shl(excess - 1).unwrap_or(u64::MAX);
            let delay = Duration::from_secs(doubled).min(self.max_delay);
            counter.blocked_until = counter.blocked_until.max(now.saturating_add(ms(delay)));
        }
        0
    }

    /// Gives a reserved attempt back (the password was right).
    pub(super) fn give_back(&self, counter: &mut SharedCounter, now: u64) -> u64 {
        counter.failures = counter.failures.saturating_sub(1);
        if counter.failures <= self.free {
            counter.blocked_until = counter.blocked_until.min(now);
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_counters_follow_the_same_rules() {
        let rules = Rules {
            free: 2,
            max_delay: Duration::from_secs(4),
            forget_after: Duration::from_secs(900),
        };
        let mut c = SharedCounter::default();
        let now = 1_000_000;
        assert_eq!(rules.reserve(&mut c, now), 0);
        assert_eq!(rules.reserve(&mut c, now), 0);
        assert_eq!(
            rules.reserve(&mut c, now),
            0,
            "the one that starts the delay"
        );
        assert_eq!(rules.reserve(&mut c, now + 400), 600);
        assert_eq!(rules.reserve(&mut c, now + 1_000), 0);
        assert_eq!(rules.reserve(&mut c, now + 1_000), 2_000);
        rules.give_back(&mut c, now + 1_000);
        assert_eq!(c.failures, 3);
        let later = now + 2_000_000;
        assert_eq!(rules.reserve(&mut c, later), 0);
        assert_eq!(c.failures, 1, "forgotten after the idle time");
    }
}
