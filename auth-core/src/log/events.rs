//! Auth events for audit trails: each login, failed login, refresh, reuse
//! detection, throttled attempt and revocation is written as one structured
//! log line and passed to the hooks registered with
//! [`AuthFairing::on_event`](crate::AuthFairing::on_event).
//!
//! An event never carries a password or a token.
//!
//! Failures, throttling and reuse are logged at `warn`, one line each.
//! Successes (logins, refreshes, revocations) are logged at `info`, one line
//! each; Rocket's release default level (`critical`) hides `info`, so while
//! it is hidden they are counted instead and summarised at `warn` at most
//! once per [`SUMMARY_INTERVAL`](crate::SUMMARY_INTERVAL)
//! (`auth: 12 logins, 40 refreshes, 1 revocations succeeded in the last
//! 10 s`), like refused requests (see [`crate::install_logger`]). The first
//! success of a process, or the first after a quiet interval, is summarised
//! at once; in a busy interval the summary comes with the first success
//! after it.

use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use crate::log::logger::SUMMARY_INTERVAL;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthEventKind {
    /// A password grant succeeded.
    LoginSucceeded,
    /// A password grant failed (unknown user, wrong password, disabled
    /// user); [`AuthEvent::reason`] says which.
    LoginFailed,
    /// A password grant was refused by brute-force throttling.
    Throttled,
    /// A refresh token was redeemed for a new pair.
    Refreshed,
    /// A used refresh token was presented again; its family was revoked.
    RefreshReused,
    /// A refresh token family was revoked on request.
    Revoked,
}

impl AuthEventKind {
    /// The name used in the log line, e.g. `login_failed`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::Throttled => "throttled",
            Self::Refreshed => "refreshed",
            Self::RefreshReused => "refresh_reused",
            Self::Revoked => "revoked",
        }
    }
}

impl fmt::Display for AuthEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One auth event. `Display` is the structured log line.
///
/// # Example
///
/// ```
/// use auth_core::{AuthEvent, AuthEventKind};
///
/// let event = AuthEvent::new(AuthEventKind::LoginFailed)
///     .subject("bob")
///     .reason("wrong_password");
/// assert_eq!(
///     event.to_string(),
///     r#"auth event=login_failed subject="bob" reason=wrong_password"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthEvent {
    /// What happened.
    pub kind: AuthEventKind,
    /// The username: the one sent, for failed and throttled logins.
    pub subject: Option<String>,
    /// The OAuth2 `client_id`.
    pub client_id: Option<String>,
    /// The client's IP address, when known.
    pub address: Option<IpAddr>,
    /// A short machine-readable reason, e.g. `wrong_password`.
    pub reason: Option<&'static str>,
}

impl AuthEvent {
    /// An event of `kind` with no details.
    #[must_use]
    pub fn new(kind: AuthEventKind) -> Self {
        Self {
            kind,
            subject: None,
            client_id: None,
            address: None,
            reason: None,
        }
    }

    /// With the subject.
    #[must_use]
    pub fn subject(mut self, subject: &str) -> Self {
        self.subject = Some(subject.to_owned());
        self
    }

    /// With the client id.
    #[must_use]
    pub fn client_id(mut self, client_id: &str) -> Self {
        self.client_id = Some(client_id.to_owned());
        self
    }

    /// With the client address.
    #[must_use]
    pub fn address(mut self, address: Option<IpAddr>) -> Self {
        self.address = address;
        self
    }

    /// With the reason.
    #[must_use]
    pub fn reason(mut self, reason: &'static str) -> Self {
        self.reason = Some(reason);
        self
    }

    /// Whether the event is logged as a warning rather than as information.
    #[must_use]
    pub fn is_warning(&self) -> bool {
        !matches!(
            self.kind,
            AuthEventKind::LoginSucceeded | AuthEventKind::Refreshed | AuthEventKind::Revoked
        )
    }
}

/// `auth event=KIND subject="..." client="..." address=IP reason=...`;
/// strings are quoted and escaped (`{:?}`), so a username cannot forge a
/// log line.
impl fmt::Display for AuthEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "auth event={}", self.kind)?;
        if let Some(subject) = &self.subject {
            write!(f, " subject={subject:?}")?;
        }
        if let Some(client) = &self.client_id {
            write!(f, " client={client:?}")?;
        }
        if let Some(address) = &self.address {
            write!(f, " address={address}")?;
        }
        if let Some(reason) = self.reason {
            write!(f, " reason={reason}")?;
        }
        Ok(())
    }
}

/// A subscriber to auth events.
pub(crate) type EventHook = Arc<dyn Fn(&AuthEvent) + Send + Sync>;

/// Logs `event` and passes it to every hook.
pub(crate) fn emit(hooks: &[EventHook], event: &AuthEvent) {
    if event.is_warning() {
        log::warn!("{event}");
    } else if log::max_level() >= log::LevelFilter::Info {
        log::info!("{event}");
    } else if let Some(summary) = SUCCESSES.count(event.kind) {
        log::warn!("{summary}");
    }
    for hook in hooks {
        hook(event);
    }
}

/// The successes of this process not yet summarised.
static SUCCESSES: LazyLock<Successes> = LazyLock::new(Successes::new);

/// Counts successful events without a lock, for a summary at most once per
/// [`SUMMARY_INTERVAL`].
struct Successes {
    /// When the counter was made; times below are milliseconds since then.
    epoch: Instant,
    /// When the last summary was written; [`Self::NEVER`] before the first.
    summarised_ms: AtomicU64,
    logins: AtomicU64,
    refreshes: AtomicU64,
    revocations: AtomicU64,
}

impl Successes {
    /// No summary written yet: the next success is summarised at once.
    const NEVER: u64 = u64::MAX;

    fn new() -> Self {
        Self {
            epoch: Instant::now(),
            summarised_ms: AtomicU64::new(Self::NEVER),
            logins: AtomicU64::new(0),
            refreshes: AtomicU64::new(0),
            revocations: AtomicU64::new(0),
        }
    }

    /// Counts a success of `kind`; returns the summary to log when the
    /// interval since the last one is over. Of several threads finding it
    /// over at once, one writes the summary.
    fn count(&self, kind: AuthEventKind) -> Option<String> {
        match kind {
            AuthEventKind::LoginSucceeded => &self.logins,
            AuthEventKind::Refreshed => &self.refreshes,
            AuthEventKind::Revoked => &self.revocations,
            _ => return None,
        }
        .fetch_add(1, Ordering::Relaxed);
        let last = self.summarised_ms.load(Ordering::Relaxed);
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        let interval = u64::try_from(SUMMARY_INTERVAL.as_millis()).unwrap_or(u64::MAX);
        if last != Self::NEVER && now.saturating_sub(last) < interval {
            return None;
        }
        self.summarised_ms
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .ok()?;
        let logins = self.logins.swap(0, Ordering::Relaxed);
        let refreshes = self.refreshes.swap(0, Ordering::Relaxed);
        let revocations = self.revocations.swap(0, Ordering::Relaxed);
        let since = if last == Self::NEVER {
            "since the start".to_owned()
        } else {
            format!("in the last {} s", (now - last) / 1000)
        };
        Some(format!(
            "auth: {logins} logins, {refreshes} refreshes, {revocations} revocations succeeded \
             {since} (one line each at log level normal)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn log_line_escapes_what_clients_send() {
        let event = AuthEvent::new(AuthEventKind::Throttled)
            .subject("eve\" reason=forged\n")
            .client_id("web")
            .address(Some("192.0.2.7".parse().unwrap()))
            .reason("slow_down");
        assert_eq!(
            event.to_string(),
            r#"auth event=throttled subject="eve\" reason=forged\n" client="web" address=192.0.2.7 reason=slow_down"#
        );
        assert!(event.is_warning());
        assert!(!AuthEvent::new(AuthEventKind::LoginSucceeded).is_warning());
    }

    #[test]
    fn successes_are_summarised_at_once_then_at_most_once_per_interval() {
        let mut successes = Successes::new();
        let first = successes
            .count(AuthEventKind::LoginSucceeded)
            .expect("the first success is summarised at once");
        assert!(
            first.starts_with("auth: 1 logins, 0 refreshes, 0 revocations succeeded since"),
            "{first}"
        );
        for _ in 0..50 {
            assert!(successes.count(AuthEventKind::Refreshed).is_none());
        }
        assert!(successes.count(AuthEventKind::Revoked).is_none());
        // Failures are logged one by one, never counted here.
        assert!(successes.count(AuthEventKind::LoginFailed).is_none());
        // Move the last summary back by the interval.
        successes.epoch = Instant::now()
            .checked_sub(SUMMARY_INTERVAL)
            .expect("a monotonic clock past the interval");
        successes.summarised_ms.store(0, Ordering::Relaxed);
        let summary = successes
            .count(AuthEventKind::LoginSucceeded)
            .expect("interval over");
        assert!(
            summary
                .starts_with("auth: 1 logins, 50 refreshes, 1 revocations succeeded in the last"),
            "{summary}"
        );
        assert!(successes.count(AuthEventKind::Refreshed).is_none());
    }

    #[test]
    fn hooks_receive_every_event() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let hook: EventHook = {
            let seen = Arc::clone(&seen);
            Arc::new(move |e: &AuthEvent| seen.lock().unwrap().push(e.kind))
        };
        emit(
            &[hook.clone(), hook],
            &AuthEvent::new(AuthEventKind::Revoked),
        );
        assert_eq!(
            *seen.lock().unwrap(),
            [AuthEventKind::Revoked, AuthEventKind::Revoked]
        );
    }
}
