//! Per-username throttling counters that several instances share, so that
//! N instances behind a load balancer do not give N times the guesses.
//!
//! A store offers them through [`UserStore::shared_counters`]; the
//! PostgreSQL store does (table `login_throttle`), `SQLite` and memory
//! stores serve one instance and keep them in memory.
//!
//! [`UserStore::shared_counters`]: crate::UserStore::shared_counters

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::store::counters::SharedCounter;

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
