//! Brute-force throttling of the password grant (contract §9).
//!
//! Three kinds of counters, each with free failures and then a growing
//! delay (1 s, 2 s, 4 s, ... up to the configured maximum) during which
//! further attempts are refused with 429 `slow_down` before any password
//! is hashed:
//!
//! * per (username, address): `free_attempts` failures, a hard limit that
//!   applies to every caller;
//! * per address, across usernames: four times as many (several people may
//!   share an address);
//! * per username, across addresses: `free_attempts` failures, so guesses
//!   per username stay bounded however many addresses an attacker has. This
//!   delay is never longer than the maximum, and it does not apply to an
//!   address that logged in successfully as that user before (a known
//!   address), so nobody can keep a user out.
//!
//! An attempt is counted as a failure when it is admitted, before the hash
//! (`Throttle::reserve`); a right password gives the reservation back
//! (`Throttle::succeeded`). So a burst of concurrent guesses gets no more
//! hashes than a sequence would. An attempt refused only because of
//! attempts still in flight waits for them to be answered (at most
//! `IN_FLIGHT_WAIT`) instead of being refused: if they were right
//! passwords it goes ahead, as it would have in a sequence, so a burst of
//! right logins is not throttled.
//!
//! IPv6 addresses count per /64 (one subscriber's prefix). The state is in
//! memory in a bounded table (`table`) whose eviction never gives anyone
//! fresh guesses. Each instance counts on its own, except the per-username
//! counters on PostgreSQL, which several instances share.

#[cfg(all(test, feature = "postgres"))]
mod pg_tests;
mod shared;
mod table;
#[cfg(test)]
mod tests;

use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rocket::tokio::sync::Notify;

pub use crate::store::counters::{CounterChange, SharedCounter, SharedCounters};
use shared::{Rules, now_ms};
use table::{Key, Table};

/// How many counters are kept at most.
pub(crate) const CAPACITY: usize = 10_000;

/// A client address gets this many times the free attempts of a username:
/// several people may share one address (NAT, proxies).
const ADDRESS_FACTOR: u32 = 4;

/// How long an attempt waits for attempts in flight before it is refused.
const IN_FLIGHT_WAIT: Duration = Duration::from_secs(10);

/// Longest username kept as a key, in bytes.
const MAX_KEY_LEN: usize = 256;

/// The address under which a client is counted: IPv4 as is (an IPv4-mapped
/// IPv6 address as its IPv4 address), IPv6 by its /64 prefix, since one
/// subscriber usually holds a whole /64.
#[must_use]
pub(crate) fn address_key(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(prefix.into())
        }
        v4 @ IpAddr::V4(_) => v4,
    }
}

fn username_key(username: &str) -> &str {
    let mut end = username.len().min(MAX_KEY_LEN);
    while !username.is_char_boundary(end) {
        end -= 1;
    }
    &username[..end]
}

/// An admitted attempt, already counted as a failure: give it back with
/// [`Throttle::succeeded`] or [`Throttle::release`]; dropping it keeps it
/// counted.
#[derive(Debug)]
#[must_use = "an attempt stays counted as a failure unless it is given back"]
pub(crate) struct Attempt {
    username: Box<str>,
    address: Option<IpAddr>,
    counted: Vec<Counted>,
    /// Whether the address is known for the username (no username delay).
    known: bool,
    /// Whether the shared counter counted it.
    shared: bool,
    /// Where the attempt is marked in flight, cleared when it is dropped.
    owner: Option<Owner>,
}

/// The table an attempt is in flight in, and whom to wake when it is
/// answered.
#[derive(Debug)]
struct Owner {
    table: Arc<Mutex<Table>>,
    answered: Arc<Notify>,
}

/// Dropping an attempt answers it: its failures stay counted unless given
/// back before, and attempts waiting for it look again.
impl Drop for Attempt {
    fn drop(&mut self) {
        let Some(owner) = self.owner.take() else {
            return;
        };
        {
            let mut table = owner.table.lock().unwrap_or_else(PoisonError::into_inner);
            for counted in &self.counted {
                if let Some(entry) = table.get_mut(&counted.key) {
                    entry.in_flight = entry.in_flight.saturating_sub(1);
                }
            }
        }
        owner.answered.notify_waiters();
    }
}

/// Why an attempt is not admitted now: it must wait this many seconds, or
/// only attempts in flight hold it back (and it may wait for them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Wait(u64),
    InFlight(u64),
}

/// One counter an attempt raised, and the block it had before.
#[derive(Debug)]
struct Counted {
    key: Key,
    blocked_before: Instant,
    blocked_set: Instant,
}

/// The settings and the counters.
pub(crate) struct Throttle {
    enabled: bool,
    free_attempts: u32,
    max_delay: Duration,
    table: Arc<Mutex<Table>>,
    /// Woken whenever an attempt is answered.
    answered: Arc<Notify>,
    /// Per-username counters shared with other instances, if the store
    /// has them.
    shared: Option<Arc<dyn SharedCounters>>,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("enabled", &self.enabled)
            .field("free_attempts", &self.free_attempts)
            .field("max_delay", &self.max_delay)
            .field("shared", &self.shared.is_some())
            .finish_non_exhaustive()
    }
}

impl Throttle {
    /// `free_attempts` failures per username and per (username, address)
    /// (four times that per address) before delays start; no delay longer
    /// than `max_delay`.
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
            table: Arc::new(Mutex::new(Table::new(capacity.max(2)))),
            answered: Arc::new(Notify::new()),
            shared: None,
        }
    }

    /// Also counts failures per username in `shared`, across instances.
    pub(crate) fn with_shared(mut self, shared: Option<Arc<dyn SharedCounters>>) -> Self {
        self.shared = shared;
        self
    }

    fn rules(&self) -> Rules {
        Rules {
            free: u64::from(self.free_attempts),
            max_delay: self.max_delay,
            forget_after: self.forget_after(),
        }
    }

    fn forget_before(&self, now: u64) -> u64 {
        let forget = u64::try_from(self.forget_after().as_millis()).unwrap_or(u64::MAX);
        now.saturating_sub(forget)
    }

    /// After this long without a failure, a counter starts over.
    fn forget_after(&self) -> Duration {
        (self.max_delay * 2).max(Duration::from_secs(15 * 60))
    }

    fn free(&self, key: &Key) -> u32 {
        match key {
            Key::Address(_) => self.free_attempts.saturating_mul(ADDRESS_FACTOR),
            Key::User(_) | Key::Pair(..) | Key::Overflow => self.free_attempts,
        }
    }

    /// The delay after the `excess`-th failure beyond the free ones: 1 s,
    /// doubling, at most `max_delay`.
    fn delay(&self, excess: u32) -> Duration {
        let doubled = 1u64
            .checked_shl(excess.saturating_sub(1))
            .unwrap_or(u64::MAX);
        Duration::from_secs(doubled).min(self.max_delay)
    }

    /// Admits an attempt and counts it as a failure, atomically (in memory
    /// and, unless the address is known, in the shared counters); or
    /// `Err(seconds)` if the caller must wait that long first.
    pub(crate) async fn reserve(
        &self,
        username: &str,
        address: Option<IpAddr>,
    ) -> Result<Attempt, u64> {
        let mut attempt = self.admit(username, address).await?;
        let Some(shared) = self
            .shared
            .as_ref()
            .filter(|_| self.enabled && !attempt.known)
        else {
            return Ok(attempt);
        };
        let rules = self.rules();
        let now = now_ms();
        let change = move |counter: &mut SharedCounter| rules.reserve(counter, now);
        match shared
            .update(&attempt.username, self.forget_before(now), &change)
            .await
        {
            Ok(0) => {
                attempt.shared = true;
                Ok(attempt)
            }
            Ok(wait_ms) => {
                self.release_local(&attempt);
                Err(wait_ms.div_ceil(1000))
            }
            Err(e) => {
                log::warn!("auth: shared login throttle unavailable, counting in memory: {e}");
                Ok(attempt)
            }
        }
    }

    /// Gives the shared counter's reservation back.
    async fn give_back_shared(&self, attempt: &Attempt) {
        let Some(shared) = self.shared.as_ref().filter(|_| attempt.shared) else {
            return;
        };
        let rules = self.rules();
        let now = now_ms();
        let change = move |counter: &mut SharedCounter| rules.give_back(counter, now);
        if let Err(e) = shared
            .update(&attempt.username, self.forget_before(now), &change)
            .await
        {
            log::warn!("auth: shared login throttle unavailable: {e}");
        }
    }

    /// Admits an attempt in memory, waiting while only attempts in flight
    /// hold it back.
    async fn admit(&self, username: &str, address: Option<IpAddr>) -> Result<Attempt, u64> {
        let deadline = rocket::tokio::time::Instant::now() + IN_FLIGHT_WAIT;
        loop {
            // Registered before looking, so no answer is missed in between.
            let answered = self.answered.notified();
            let mut answered = std::pin::pin!(answered);
            answered.as_mut().enable();
            match self.try_reserve_at(username, address, Instant::now()) {
                Ok(attempt) => return Ok(attempt),
                Err(Refusal::Wait(seconds)) => return Err(seconds),
                Err(Refusal::InFlight(seconds)) => {
                    if rocket::tokio::time::timeout_at(deadline, answered)
                        .await
                        .is_err()
                    {
                        return Err(seconds);
                    }
                }
            }
        }
    }

    /// [`Self::try_reserve_at`] without waiting for attempts in flight.
    #[cfg(test)]
    fn reserve_at(
        &self,
        username: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<Attempt, u64> {
        self.try_reserve_at(username, address, now)
            .map_err(|(Refusal::Wait(s) | Refusal::InFlight(s))| s)
    }

    fn try_reserve_at(
        &self,
        username: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<Attempt, Refusal> {
        let username = username_key(username);
        let address = address.map(address_key);
        let mut attempt = Attempt {
            username: username.into(),
            address,
            counted: Vec::new(),
            known: false,
            shared: false,
            owner: None,
        };
        if !self.enabled {
            return Ok(attempt);
        }
        let forget_after = self.forget_after();
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        let user = table.slot(Key::User(username.into()), &[], now, forget_after);
        let pair = address.and_then(|a| {
            table.slot(
                Key::Pair(username.into(), a),
                &[user.as_ref()],
                now,
                forget_after,
            )
        });
        let by_address = address.and_then(|a| {
            table.slot(
                Key::Address(a),
                &[user.as_ref(), pair.as_ref()],
                now,
                forget_after,
            )
        });
        // A known address skips the username's delay, but only while its own
        // (username, address) counter holds it to the hard limit.
        let known = pair.is_some() && address.is_some_and(|a| table.is_known(username, a));
        attempt.known = known;
        let judged = [
            pair.as_ref(),
            by_address.as_ref(),
            user.as_ref().filter(|_| !known),
        ];
        let mut wait = Duration::ZERO;
        let mut settled_block = false;
        for key in judged.into_iter().flatten() {
            let Some(entry) = table.get(key) else {
                continue;
            };
            let left = entry.blocked_until.saturating_duration_since(now);
            if !left.is_zero() {
                wait = wait.max(left);
                // Blocked by answered failures, not only by attempts that
                // may still turn out right.
                settled_block |=
                    entry.failures - entry.in_flight.min(entry.failures) > self.free(key);
            }
        }
        if !wait.is_zero() {
            // Whole seconds, rounded up: never tell a client to come back early.
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            return Err(if settled_block {
                Refusal::Wait(seconds)
            } else {
                Refusal::InFlight(seconds)
            });
        }
        for key in [user, pair, by_address].into_iter().flatten() {
            let free = self.free(&key);
            let Some(entry) = table.get_mut(&key) else {
                continue;
            };
            if now.saturating_duration_since(entry.last_seen) > forget_after {
                entry.failures = 0;
            }
            entry.failures = entry.failures.saturating_add(1);
            entry.in_flight = entry.in_flight.saturating_add(1);
            entry.last_seen = now;
            let blocked_before = entry.blocked_until;
            if entry.failures > free {
                let until = now + self.delay(entry.failures - free);
                entry.blocked_until = entry.blocked_until.max(until);
            }
            attempt.counted.push(Counted {
                key,
                blocked_before,
                blocked_set: entry.blocked_until,
            });
        }
        attempt.owner = Some(Owner {
            table: Arc::clone(&self.table),
            answered: Arc::clone(&self.answered),
        });
        Ok(attempt)
    }

    /// The password was right: the attempt is no failure, the (username,
    /// address) counter starts over and the address becomes known for the
    /// username.
    pub(crate) async fn succeeded(&self, attempt: Attempt) {
        self.succeeded_at(&attempt, Instant::now());
        self.give_back_shared(&attempt).await;
    }

    fn succeeded_at(&self, attempt: &Attempt, now: Instant) {
        if !self.enabled {
            return;
        }
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        self.give_back(&mut table, attempt, now);
        if let Some(address) = attempt.address {
            table.remove(&Key::Pair(attempt.username.clone(), address));
            table.remember(&attempt.username, address, now);
        }
    }

    /// The attempt was not answered (a store or hashing failure): it is no
    /// failure.
    pub(crate) async fn release(&self, attempt: Attempt) {
        self.release_local(&attempt);
        self.give_back_shared(&attempt).await;
    }

    fn release_local(&self, attempt: &Attempt) {
        if !self.enabled {
            return;
        }
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        self.give_back(&mut table, attempt, Instant::now());
    }

    fn give_back(&self, table: &mut Table, attempt: &Attempt, now: Instant) {
        for counted in &attempt.counted {
            let free = self.free(&counted.key);
            let Some(entry) = table.get_mut(&counted.key) else {
                continue;
            };
            entry.failures = entry.failures.saturating_sub(1);
            // Undo the block this attempt set, unless a later one moved it.
            if entry.blocked_until == counted.blocked_set {
                entry.blocked_until = counted.blocked_before;
            }
            if entry.failures <= free {
                entry.blocked_until = entry.blocked_until.min(now);
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.table
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}
