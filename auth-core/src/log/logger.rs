//! [`install_logger`]: a logger that keeps secrets out of the log and
//! keeps refused requests from writing a log line each.
//!
//! Rocket logs every failed request guard at `warn` ("Request guard `..`
//! failed: ..") and every catcher it runs ("Responding with registered ..
//! catcher"), even at its default release level `critical`. For an auth
//! guard that is one or two lines per refused request: a client sending
//! forged tokens fills the disk, and the writes cost more than the refusal
//! itself.
//!
//! Rocket installs its own logger only when none is installed yet, and its
//! logger cannot be wrapped. So [`install_logger`] installs a small
//! logger of its own, before Rocket is built: it writes records like
//! Rocket's (`Error: ..`, `Warning: ..`, indented `>> ..`, without colours),
//! with every secret redacted (query strings, credential parameters,
//! JWT-shaped text: see `redact`), drops exactly those two kinds of
//! per-request lines for auth errors, and
//! counts them instead. The counts are logged at `warn` at most once per
//! [`SUMMARY_INTERVAL`] ("auth: 1234 requests refused by auth guards ..."),
//! with the next refusal after the interval. The [`crate::Auth`] fairing
//! applies Rocket's configured `log_level` to it at ignition.

use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::log::redact::redact;

/// Shortest time between two summaries of dropped lines.
pub const SUMMARY_INTERVAL: Duration = Duration::from_secs(10);

static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Installs the logger that keeps refused requests out of the log (see the
/// module documentation). Call it before `rocket::build()`; it returns
/// `false`, and changes nothing, when a logger is already installed.
///
/// # Example
///
/// ```
/// let first = auth_core::install_logger();
/// assert!(!auth_core::install_logger() || !first);
/// let rocket = rocket::build().attach(auth_core::Auth::fairing());
/// # let _ = rocket;
/// ```
#[must_use = "false means another logger was installed first and nothing changed"]
pub fn install_logger() -> bool {
    if log::set_boxed_logger(Box::new(QuietLogger::new())).is_err() {
        return false;
    }
    // Rocket's own default before ignition; the fairing applies the
    // configured level.
    log::set_max_level(log::LevelFilter::Info);
    INSTALLED.store(true, Ordering::Release);
    true
}

/// Applies Rocket's `log_level` when [`install_logger`] installed the
/// logger (Rocket only sets the level of its own logger).
pub(crate) fn apply_level(figment: &rocket::figment::Figment) {
    if INSTALLED.load(Ordering::Acquire) {
        let level = figment
            .extract_inner::<rocket::config::LogLevel>("log_level")
            .unwrap_or(if cfg!(debug_assertions) {
                rocket::config::LogLevel::Normal
            } else {
                rocket::config::LogLevel::Critical
            });
        log::set_max_level(level.into());
    }
}

/// Counts dropped lines without a lock: refused requests arrive on every
/// worker at once, and the count must cost less than the line it saves.
struct QuietLogger {
    /// When the logger was made; times below are milliseconds since then.
    epoch: Instant,
    /// When the current window of dropped lines started.
    window_started_ms: AtomicU64,
    refused: AtomicU64,
    caught: AtomicU64,
}

/// What a record is, as far as this logger cares.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    /// "Request guard `..` failed: <AuthError>." or the data guard version.
    AuthRefusal,
    /// "Responding with registered .. catcher."
    Catcher,
    Other,
}

/// The `Debug` forms of [`crate::AuthError`] start with one of these.
const AUTH_ERRORS: &[&str] = &[
    "MissingCredentials",
    "InvalidRequest(",
    "InvalidToken(",
    "InsufficientScope {",
    "InsufficientScopeAnyOf {",
    "InvalidGrant(",
    "UnsupportedGrantType",
    "InvalidScope(",
    "Server(",
];

/// The start of Rocket's "Responding with registered <catcher> catcher."
const CATCHER_LINE: &[u8] = b"Responding with registered ";

/// The starts of Rocket's "Request guard `<type>` failed: <error>." and its
/// data guard version.
const GUARD_LINES: [&[u8]; 2] = [b"Request guard `", b"Data guard `"];

/// What follows the guard's type in those lines.
const FAILED: &[u8] = b"` failed: ";

/// The kind of a message that starts with `text`, or `None` while more of
/// it is needed to tell. Called again as each piece of the message arrives.
/// The guard's type is Rust source, which holds no backtick, so the first
/// backtick after the line's start closes it: one scan for a byte instead
/// of a search for the whole failure marker at every position.
fn decide(text: &[u8]) -> Option<Kind> {
    let could_be = |line: &[u8]| {
        let n = text.len().min(line.len());
        text[..n] == line[..n]
    };
    if text.starts_with(CATCHER_LINE) {
        return Some(Kind::Catcher);
    }
    if could_be(CATCHER_LINE) {
        return None;
    }
    let Some(start) = GUARD_LINES.into_iter().find(|line| text.starts_with(line)) else {
        return if GUARD_LINES.into_iter().any(could_be) {
            None
        } else {
            Some(Kind::Other)
        };
    };
    let rest = &text[start.len()..];
    let tick = rest.iter().position(|&b| b == b'`')?;
    let after = &rest[tick..];
    if !after.starts_with(FAILED) {
        let n = after.len().min(FAILED.len());
        return (after[..n] != FAILED[..n]).then_some(Kind::Other);
    }
    let error = &after[FAILED.len()..];
    if AUTH_ERRORS
        .iter()
        .any(|name| error.starts_with(name.as_bytes()))
    {
        Some(Kind::AuthRefusal)
    } else if AUTH_ERRORS
        .iter()
        .any(|name| name.as_bytes().starts_with(error))
    {
        None
    } else {
        Some(Kind::Other)
    }
}

/// Receives a message as it is formatted, and stops the formatting as soon
/// as its kind is known (or after the first bytes, which always tell).
struct Classifier {
    buf: [u8; 160],
    len: usize,
    kind: Option<Kind>,
}

impl fmt::Write for Classifier {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let take = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        self.kind = decide(&self.buf[..self.len]);
        if self.kind.is_some() || take < s.len() {
            Err(fmt::Error)
        } else {
            Ok(())
        }
    }
}

fn classify(record: &log::Record<'_>) -> Kind {
    // Both lines come from Rocket's `warn_!`, whose target is the calling
    // module's path with `::_` appended (Rocket's mark for indentation).
    if record.level() != log::Level::Warn || !record.target().ends_with("::_") {
        return Kind::Other;
    }
    let mut classifier = Classifier {
        buf: [0; 160],
        len: 0,
        kind: None,
    };
    let _ = classifier.write_fmt(*record.args());
    classifier.kind.unwrap_or(Kind::Other)
}

#[cfg(test)]
fn classify_text(text: &str) -> Kind {
    decide(text.as_bytes()).unwrap_or(Kind::Other)
}

impl QuietLogger {
    fn new() -> Self {
        Self {
            epoch: Instant::now(),
            window_started_ms: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            caught: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Counts a dropped line; returns the summary to log when the interval
    /// is over. Of several threads finding the interval over at once, one
    /// writes the summary.
    fn count(&self, kind: &Kind) -> Option<String> {
        match kind {
            Kind::AuthRefusal => self.refused.fetch_add(1, Ordering::Relaxed),
            Kind::Catcher => self.caught.fetch_add(1, Ordering::Relaxed),
            Kind::Other => return None,
        };
        let started = self.window_started_ms.load(Ordering::Relaxed);
        let now = self.now_ms();
        let interval = u64::try_from(SUMMARY_INTERVAL.as_millis()).unwrap_or(u64::MAX);
        if now.saturating_sub(started) < interval {
            return None;
        }
        self.window_started_ms
            .compare_exchange(started, now, Ordering::Relaxed, Ordering::Relaxed)
            .ok()?;
        let refused = self.refused.swap(0, Ordering::Relaxed);
        let caught = self.caught.swap(0, Ordering::Relaxed);
        Some(format!(
            "auth: {refused} requests refused by auth guards, {caught} answered by a catcher in \
             the last {} s (per-request lines suppressed)",
            (now - started) / 1000
        ))
    }
}

fn write_line(level: log::Level, indented: bool, message: &dyn fmt::Display) {
    let mut out = std::io::stdout().lock();
    let _ = match (level, indented) {
        (_, true) => writeln!(out, "   >> {message}"),
        (log::Level::Error, false) => writeln!(out, "Error: {message}"),
        (log::Level::Warn, false) => writeln!(out, "Warning: {message}"),
        _ => writeln!(out, "{message}"),
    };
}

impl log::Log for QuietLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level() || metadata.target().contains("rocket::launch")
    }

    fn log(&self, record: &log::Record<'_>) {
        // Rocket's per-refusal lines first: this is the path every refused
        // request takes.
        let kind = classify(record);
        if kind != Kind::Other {
            if record.level() <= log::max_level()
                && let Some(summary) = self.count(&kind)
            {
                write_line(log::Level::Warn, false, &summary);
            }
            return;
        }
        if !self.enabled(record.metadata()) {
            return;
        }
        let from = |path: &str| record.module_path().is_some_and(|m| m.starts_with(path));
        if log::max_level() < log::LevelFilter::Debug
            && (from("hyper") || from("rustls") || from("r2d2"))
        {
            return;
        }
        let launch = record.target().contains("rocket::launch");
        let indented = record.target().ends_with('_');
        let level = if launch {
            log::Level::Info
        } else {
            record.level()
        };
        let message = record.args().to_string();
        write_line(level, indented, &redact(&message));
    }

    fn flush(&self) {
        let _ = std::io::stdout().flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_refusals_and_catcher_lines_are_recognised() {
        let error = crate::AuthError::InvalidToken(crate::TokenProblem::BadSignature);
        let line = format!("Request guard `__auth_guard_me` failed: {error:?}.");
        assert_eq!(classify_text(&line), Kind::AuthRefusal);
        let line = format!(
            "Data guard `TokenRequest` failed: {:?}.",
            crate::AuthError::UnsupportedGrantType
        );
        assert_eq!(classify_text(&line), Kind::AuthRefusal);
        assert_eq!(
            classify_text("Responding with registered (default_catcher) catcher."),
            Kind::Catcher
        );
        // Other guards' failures and other warnings are kept.
        assert_eq!(
            classify_text("Request guard `Json<Item>` failed: Parse(..)."),
            Kind::Other
        );
        assert_eq!(classify_text("auth: something else"), Kind::Other);
    }

    #[test]
    fn lines_are_told_apart_piece_by_piece() {
        // `None` while a prefix could still become either kind of line.
        for partial in [
            "Request guard `",
            "Request guard `AuthUser",
            "Request guard `AuthUser`",
            "Request guard `AuthUser` fai",
            "Request guard `AuthUser` failed: ",
            "Request guard `AuthUser` failed: Invalid",
            "Responding with regis",
            "Data gua",
        ] {
            assert_eq!(decide(partial.as_bytes()), None, "{partial:?}");
        }
        for (line, kind) in [
            (
                "Request guard `AuthUser` failed: InvalidToken(",
                Kind::AuthRefusal,
            ),
            (
                "Request guard `AuthUser` failed: MissingCredentials",
                Kind::AuthRefusal,
            ),
            ("Request guard `AuthUser` failed: NotOurs", Kind::Other),
            ("Request guard `AuthUser` passed", Kind::Other),
            ("Request guard `A` `B` failed: InvalidToken(", Kind::Other),
            ("Request guards", Kind::Other),
        ] {
            assert_eq!(decide(line.as_bytes()), Some(kind), "{line:?}");
        }
    }

    /// Fails the test if formatted: the classifier must stop before it.
    struct NotFormatted;

    impl fmt::Display for NotFormatted {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            panic!("formatted after the kind was known");
        }
    }

    fn warn_record(args: fmt::Arguments<'_>, check: impl FnOnce(&log::Record<'_>)) {
        check(
            &log::Record::builder()
                .level(log::Level::Warn)
                .target("rocket::server::_")
                .args(args)
                .build(),
        );
    }

    #[test]
    fn formatting_stops_as_soon_as_the_kind_is_known() {
        let error = crate::AuthError::InvalidToken(crate::TokenProblem::BadSignature);
        warn_record(
            format_args!(
                "Request guard `{}` failed: {error:?}{}",
                "AuthUser", NotFormatted
            ),
            |record| assert_eq!(classify(record), Kind::AuthRefusal),
        );
        warn_record(
            format_args!("Responding with registered {NotFormatted} catcher."),
            |record| assert_eq!(classify(record), Kind::Catcher),
        );
        warn_record(format_args!("Something else {NotFormatted}"), |record| {
            assert_eq!(classify(record), Kind::Other);
        });
        // A guard whose type name fills the buffer is not ours to drop.
        let long = "T".repeat(500);
        warn_record(
            format_args!("Request guard `{long}` failed: {error:?}."),
            |record| assert_eq!(classify(record), Kind::Other),
        );
    }

    #[test]
    fn counts_are_summarised_at_most_once_per_interval() {
        let mut logger = QuietLogger::new();
        for _ in 0..100 {
            assert!(logger.count(&Kind::AuthRefusal).is_none());
        }
        assert!(logger.count(&Kind::Catcher).is_none());
        assert!(logger.count(&Kind::Other).is_none());
        // Move the window's start back by the interval.
        let interval = u64::try_from(SUMMARY_INTERVAL.as_millis()).unwrap();
        logger.epoch = Instant::now()
            .checked_sub(SUMMARY_INTERVAL)
            .expect("a monotonic clock past the interval");
        let summary = logger.count(&Kind::AuthRefusal).expect("interval over");
        assert!(
            summary.starts_with("auth: 101 requests refused"),
            "{summary}"
        );
        assert!(summary.contains("1 answered by a catcher"), "{summary}");
        assert!(
            summary.contains(&format!("last {} s", interval / 1000)),
            "{summary}"
        );
        assert!(logger.count(&Kind::AuthRefusal).is_none());
    }

    #[test]
    fn one_thread_writes_the_summary_of_a_window() {
        let mut logger = QuietLogger::new();
        logger.epoch = Instant::now()
            .checked_sub(SUMMARY_INTERVAL * 2)
            .expect("a monotonic clock past the interval");
        let summaries = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        (0..1000)
                            .filter(|_| logger.count(&Kind::AuthRefusal).is_some())
                            .count()
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().unwrap())
                .sum::<usize>()
        });
        assert_eq!(summaries, 1);
    }

    #[test]
    fn records_of_other_targets_are_not_formatted() {
        let args = format_args!("Responding with registered (x) catcher.");
        let record = |target| {
            log::Record::builder()
                .level(log::Level::Warn)
                .target(target)
                .args(args)
                .build()
        };
        assert_eq!(classify(&record("rocket::server")), Kind::Other);
        // What Rocket's `warn_!` gives, in Rocket and in a route's module.
        assert_eq!(classify(&record("rocket::server::_")), Kind::Catcher);
        assert_eq!(classify(&record("my_app::routes::_")), Kind::Catcher);
    }
}
