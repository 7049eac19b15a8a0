//! A log sink that keeps secrets out of the log.
//!
//! Rocket writes the request line — method, path **and query** — at its
//! default `normal` level before any route or guard runs, so a client that
//! sends `/users/me?access_token=...` or `/token?password=...` would put the
//! secret in the log whatever the application does with the request. Rocket
//! only installs its own logger when no other is installed, so the demo
//! installs this one first: it prints what Rocket's would (without colours)
//! and redacts, in every record,
//!
//! * the query of every path (`/users/me?<redacted>`),
//! * the value of every `name=value` pair whose name is a credential
//!   (`access_token`, `refresh_token`, `password`, `client_secret`, ...),
//!   compared case-insensitively and after percent-decoding,
//! * anything shaped like a JSON Web Token (three base64url segments).
//!
//! The level is Rocket's `log_level` setting, read from the same
//! configuration; hyper's, rustls' and r2d2's records are shown only at the
//! `debug` level, as Rocket does.

use std::borrow::Cow;
use std::io::Write as _;

use log::{Level, LevelFilter, Log, Metadata, Record};
use rocket::config::LogLevel;
use rocket::figment::Figment;

/// What replaces a secret in the log.
pub const REDACTED: &str = "<redacted>";

/// Parameter names whose values are credentials.
const SECRET_NAMES: [&str; 7] = [
    "access_token",
    "refresh_token",
    "password",
    "client_secret",
    "token",
    "id_token",
    "code",
];

/// The redacting logger. Install it with [`install`].
#[derive(Debug)]
pub struct RedactingLogger {
    max: LevelFilter,
}

/// Installs the redacting logger at the `log_level` configured in `figment`
/// (Rocket's default when absent or invalid; an invalid value is still
/// reported by Rocket at launch). Returns false when a logger was already
/// installed, which is then left in place.
#[must_use]
pub fn install(figment: &Figment) -> bool {
    let level =
        figment
            .extract_inner::<LogLevel>("log_level")
            .unwrap_or(if cfg!(debug_assertions) {
                LogLevel::Normal
            } else {
                LogLevel::Critical
            });
    let max = LevelFilter::from(level);
    if log::set_boxed_logger(Box::new(RedactingLogger { max })).is_err() {
        return false;
    }
    log::set_max_level(max);
    true
}

impl Log for RedactingLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.max || is_launch(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if self.max == LevelFilter::Off || !self.enabled(record.metadata()) {
            return;
        }
        let from = |prefix: &str| record.module_path().is_some_and(|m| m.starts_with(prefix));
        if self.max < LevelFilter::Trace && (from("hyper") || from("rustls") || from("r2d2")) {
            return;
        }
        let message = record.args().to_string();
        let message = redact(&message);
        let indented = record.target().ends_with('_');
        // Rocket logs its launch banner at `warn` so that it shows at the
        // `critical` level; it is information.
        let level = if is_launch(record.metadata()) {
            Level::Info
        } else {
            record.level()
        };
        let prefix = match (indented, level) {
            (true, _) => "   >> ",
            (false, Level::Error) => "Error: ",
            (false, Level::Warn) => "Warning: ",
            (false, _) => "",
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{prefix}{message}");
    }

    fn flush(&self) {
        let _ = std::io::stdout().flush();
    }
}

fn is_launch(metadata: &Metadata<'_>) -> bool {
    metadata.target().contains("rocket::launch")
}

/// `line` with every secret it may carry replaced by [`REDACTED`].
///
/// # Example
///
/// ```
/// use demo_app::logging::redact;
///
/// assert_eq!(redact("GET /users/me?access_token=abc:"), "GET /users/me?<redacted>:");
/// assert_eq!(redact("form: password=hunter2&x=1"), "form: password=<redacted>&x=1");
/// assert_eq!(redact("GET /health:"), "GET /health:");
/// ```
#[must_use]
pub fn redact(line: &str) -> Cow<'_, str> {
    // Rocket logs a failing guard's error with `{:?}`; a body that did not
    // parse (JSON, forms) is quoted in it verbatim.
    if line.contains("guard `")
        && let Some(at) = line.find(" failed: ")
        && line[at..].contains('"')
    {
        let head = redact(&line[..at]);
        return Cow::Owned(format!(
            "{head} failed: {REDACTED} (the error quotes request data)."
        ));
    }
    let mut out = String::with_capacity(line.len());
    let mut changed = false;
    for (i, word) in line.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let redacted = redact_word(word);
        changed |= matches!(redacted, Cow::Owned(_));
        out.push_str(&redacted);
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(line)
    }
}

/// Redacts one space-free word of a log line.
fn redact_word(word: &str) -> Cow<'_, str> {
    // A path or URL with a query: keep the path, drop the query. A trailing
    // colon is Rocket's ("GET /path?query:").
    if let Some(q) = word.find('?') {
        let path = &word[..q];
        if path.starts_with('/') || path.contains("://") {
            let tail = if word.ends_with(':') { ":" } else { "" };
            return Cow::Owned(format!("{path}?{REDACTED}{tail}"));
        }
    }
    let mut word = Cow::Borrowed(word);
    if let Some(redacted) = redact_pairs(&word) {
        word = Cow::Owned(redacted);
    }
    if let Some(redacted) = redact_jwts(&word) {
        word = Cow::Owned(redacted);
    }
    word
}

/// Replaces the value of every `secret_name=value` in `word` (pairs split
/// by `&`, `;` or `,`). `None` when there is nothing to redact.
fn redact_pairs(word: &str) -> Option<String> {
    let lower = word.to_ascii_lowercase();
    if !lower.contains('=') {
        return None;
    }
    let mut out = String::with_capacity(word.len());
    let mut changed = false;
    let mut rest = word;
    while let Some(eq) = rest.find('=') {
        let (before, after) = rest.split_at(eq);
        let name_start = before
            .rfind(['&', ';', ',', '"', '\'', '(', '[', '{'])
            .map_or(0, |i| i + 1);
        let name = &before[name_start..];
        out.push_str(before);
        out.push('=');
        let after = &after[1..];
        let value_end = after
            .find(['&', ';', ',', '"', '\'', ')', ']', '}'])
            .unwrap_or(after.len());
        if is_secret_name(name) && value_end > 0 {
            out.push_str(REDACTED);
            changed = true;
        } else {
            out.push_str(&after[..value_end]);
        }
        rest = &after[value_end..];
        // Copy the separator so the next name starts after it.
        if let Some(c) = rest.chars().next() {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// Whether `name`, percent-decoded and compared case-insensitively, names a
/// credential.
fn is_secret_name(name: &str) -> bool {
    let decoded = rocket::http::RawStr::new(name).url_decode_lossy();
    let decoded = decoded.trim().to_ascii_lowercase();
    SECRET_NAMES.iter().any(|secret| decoded == *secret)
}

/// Replaces every JWT-shaped run (three or more base64url segments joined by
/// dots, each at least 8 characters) in `word`.
fn redact_jwts(word: &str) -> Option<String> {
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(word.len());
    let mut changed = false;
    let mut run_start = None;
    let flush = |out: &mut String, run: &str, changed: &mut bool| {
        let core = run.trim_matches('.');
        let segments: Vec<&str> = core.split('.').collect();
        if segments.len() >= 3 && segments.iter().all(|s| s.len() >= 8) {
            let lead = run.len() - run.trim_start_matches('.').len();
            let trail = run.len() - run.trim_end_matches('.').len();
            out.push_str(&run[..lead]);
            out.push_str(REDACTED);
            out.push_str(&run[run.len() - trail..]);
            *changed = true;
        } else {
            out.push_str(run);
        }
    };
    for (i, c) in word.char_indices() {
        if is_b64(c) || c == '.' {
            run_start.get_or_insert(i);
        } else {
            if let Some(start) = run_start.take() {
                flush(&mut out, &word[start..i], &mut changed);
            }
            out.push(c);
        }
    }
    if let Some(start) = run_start {
        flush(&mut out, &word[start..], &mut changed);
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn queries_are_dropped_from_paths() {
        assert_eq!(
            redact("GET /token?password=hunter2&username=bob:"),
            "GET /token?<redacted>:"
        );
        assert_eq!(
            redact("Dispatching salvaged request to catcher: GET /x?y=z."),
            "Dispatching salvaged request to catcher: GET /x?<redacted>"
        );
        assert_eq!(
            redact("Matched: (me) GET /users/me"),
            "Matched: (me) GET /users/me"
        );
    }

    #[test]
    fn secret_pairs_are_redacted_whatever_their_spelling() {
        assert_eq!(redact("Password=x&a=b"), "Password=<redacted>&a=b");
        assert_eq!(
            redact("access%5Ftoken=abc;client_secret=s"),
            "access%5Ftoken=<redacted>;client_secret=<redacted>"
        );
        assert_eq!(redact("scope=read:items"), "scope=read:items");
        assert_eq!(redact("a == b"), "a == b");
    }

    #[test]
    fn guard_errors_quoting_request_data_are_redacted() {
        assert_eq!(
            redact(r#"Data guard `Json<Item>` failed: Parse("{\"password\": \"x", Error)."#),
            "Data guard `Json<Item>` failed: <redacted> (the error quotes request data)."
        );
        assert_eq!(
            redact("Request guard `AuthUser` failed: InvalidToken(Expired)."),
            "Request guard `AuthUser` failed: InvalidToken(Expired)."
        );
    }

    #[test]
    fn jwts_are_redacted() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqb2huIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
        assert_eq!(
            redact(&format!("bad token {jwt}.")),
            "bad token <redacted>."
        );
        assert_eq!(
            redact("version 0.5.1 of rocket.rs"),
            "version 0.5.1 of rocket.rs"
        );
    }
}
