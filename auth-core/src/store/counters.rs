//! Per-username throttling counters that several instances share, kept by
//! a store, so that N instances behind a load balancer do not give N times
//! the guesses. The PostgreSQL store offers them (table `login_throttle`);
//! `SQLite` and memory stores serve one instance, and the throttle keeps
//! their counters in memory. The rules the counters follow are the
//! throttle's ([`crate::throttle`]).

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
