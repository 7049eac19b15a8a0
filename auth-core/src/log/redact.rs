//! Keeping secrets out of log lines.
//!
//! Rocket writes the request line (method, path **and query**) at its
//! default level before any route or guard runs, so a client that sends
//! `/users/me?access_token=...` or `/token?password=...` would put the secret
//! in the log whatever the application does with the request. The logger of
//! [`crate::install_logger`] passes every line through [`redact`], which
//! replaces
//!
//! * the query of every path (`/users/me?<redacted>`),
//! * the value of every `name=value` pair whose name is a credential
//!   (`access_token`, `refresh_token`, `password`, `client_secret`, ...),
//!   compared case-insensitively and after percent-decoding,
//! * anything shaped like a JSON Web Token (three base64url segments),
//! * a failing guard's error that quotes request data.

use std::borrow::Cow;

/// What replaces a secret in the log.
pub(crate) const REDACTED: &str = "<redacted>";

/// Parameter names whose values are credentials, compared after
/// percent-decoding and lowercasing. Used for `name=value` pairs in log
/// lines and for query parameters in [`url`].
const SECRET_NAMES: [&str; 19] = [
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "password",
    "passwd",
    "pass",
    "pwd",
    "sslpassword",
    "secret",
    "client_secret",
    "code",
    "api_key",
    "apikey",
    "api-key",
    "key",
    "auth",
    "sig",
    "signature",
];

/// Headers whose values are credentials: Rocket logs whole requests and
/// responses, headers included, at `debug` (`received request: ..`).
const SECRET_HEADERS: [&str; 6] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "x-auth-token",
];

/// `line` with every secret it may carry replaced by [`REDACTED`].
#[must_use]
pub(crate) fn redact(line: &str) -> Cow<'_, str> {
    match redact_headers(line) {
        Some(masked) => Cow::Owned(redact_words(&masked).into_owned()),
        None => redact_words(line),
    }
}

/// Replaces the value of every credential header in `text`, in the form
/// `Debug` gives (`"authorization": "Basic ..."`, as in Rocket's debug
/// lines) and in the form `Display` gives (`Authorization: Basic ...`, to
/// the end of the line). `None` when there is nothing to redact.
fn redact_headers(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    if !SECRET_HEADERS.iter().any(|name| lower.contains(name)) {
        return None;
    }
    // Byte ranges of the values to replace; header names are ASCII, so
    // positions in `lower` are positions in `text`.
    let mut values: Vec<(usize, usize)> = Vec::new();
    for name in SECRET_HEADERS {
        let mut from = 0;
        while let Some(found) = lower[from..].find(name) {
            let at = from + found;
            from = at + name.len();
            let before = lower[..at].chars().next_back();
            let after = &lower[at + name.len()..];
            if let Some(value) = after.strip_prefix("\": \"")
                && before == Some('"')
            {
                let start = at + name.len() + 4;
                let end = closing_quote(value).map_or(text.len(), |i| start + i);
                values.push((start, end));
            } else if let Some(value) = after.strip_prefix(": ")
                && before.is_none_or(|c| c.is_whitespace() || matches!(c, '{' | ',' | '['))
            {
                let start = at + name.len() + 2;
                let end = value.find(['\n', '\r']).map_or(text.len(), |i| start + i);
                values.push((start, end));
            }
        }
    }
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (start, end) in values {
        if start < copied {
            continue;
        }
        out.push_str(&text[copied..start]);
        out.push_str(REDACTED);
        copied = end;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// The index of the first `"` in `s` that no backslash escapes.
fn closing_quote(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

/// [`redact`] past the headers: word by word.
fn redact_words(line: &str) -> Cow<'_, str> {
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

/// `url` safe to log: the password of its user information replaced by
/// `***` (`postgres://app:***@db/app`), and so is the value of every query
/// parameter whose name is a credential ([`SECRET_NAMES`], any case,
/// percent-decoded: `?password=***&page=2`). Other parameters, the path and
/// the fragment are kept.
pub(crate) fn url(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        // No authority (`sqlite::memory:`, `sqlite:demo.db?mode=rwc`).
        return mask_query(url);
    };
    let authority_end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    let authority = &url[start..authority_end];
    let rest = mask_query(&url[authority_end..]);
    let masked_authority = match authority.rfind('@') {
        Some(at) => match authority[..at].find(':') {
            Some(colon) => format!("{}:***{}", &authority[..colon], &authority[at..]),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    format!("{}{masked_authority}{rest}", &url[..start])
}

/// `tail` (path, query and fragment) with the values of credential query
/// parameters replaced by `***`.
fn mask_query(tail: &str) -> String {
    let Some(q) = tail.find('?') else {
        return tail.to_owned();
    };
    let fragment_at = tail[q..].find('#').map_or(tail.len(), |i| q + i);
    let query = &tail[q + 1..fragment_at];
    let masked: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret_name(name) => format!("{name}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!(
        "{}?{}{}",
        &tail[..q],
        masked.join("&"),
        &tail[fragment_at..]
    )
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
    fn urls_keep_no_password_in_user_information_or_query() {
        for (raw, shown) in [
            (
                "postgres://u:secret@h:5432/db?x=1",
                "postgres://u:***@h:5432/db?x=1",
            ),
            (
                "postgres://u@h/db?password=hunter2&sslmode=require",
                "postgres://u@h/db?password=***&sslmode=require",
            ),
            (
                "https://auth.example/jwks?PassWord=a&Token=b&page=2&access%5Ftoken=c#frag",
                "https://auth.example/jwks?PassWord=***&Token=***&page=2&access%5Ftoken=***#frag",
            ),
            (
                "https://h/?pwd=1&pass=2&secret=3&client_secret=4&code=5&api_key=6&refresh_token=7",
                "https://h/?pwd=***&pass=***&secret=***&client_secret=***&code=***&api_key=***&refresh_token=***",
            ),
            ("sqlite:demo.db?mode=rwc", "sqlite:demo.db?mode=rwc"),
            ("https://h/a?flag&mode=x", "https://h/a?flag&mode=x"),
            ("postgres://u:p@ss@h/db", "postgres://u:***@h/db"),
        ] {
            assert_eq!(super::url(raw), shown, "{raw}");
        }
    }

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
    fn credential_headers_are_redacted_in_debug_and_display_forms() {
        // Rocket's `received request: {:#?}` at debug level.
        let request = "received request: Request {\n    method: GET,\n    headers: {\n        \
             \"host\": \"127.0.0.1:8000\",\n        \"authorization\": \"Basic am9objpzZWNyZXQ=\",\n        \
             \"cookie\": \"sid=Opaque-Cookie-Value; theme=dark\",\n        \
             \"x-trace\": \"keep-me\",\n    },\n}";
        let shown = redact(request);
        assert!(!shown.contains("am9objpzZWNyZXQ"), "{shown}");
        assert!(!shown.contains("Opaque-Cookie-Value"), "{shown}");
        assert!(
            shown.contains("\"authorization\": \"<redacted>\","),
            "{shown}"
        );
        assert!(shown.contains("\"cookie\": \"<redacted>\","), "{shown}");
        assert!(shown.contains("\"host\": \"127.0.0.1:8000\""), "{shown}");
        assert!(shown.contains("keep-me"), "{shown}");
        // `Debug` of one header map on one line, an escaped quote inside.
        assert_eq!(
            redact(r#"{"Set-Cookie": "a=\"b\"; HttpOnly", "accept": "*/*"}"#),
            r#"{"Set-Cookie": "<redacted>", "accept": "*/*"}"#
        );
        // `Display` of a header.
        assert_eq!(
            redact("Authorization: Basic am9objpzZWNyZXQ=\nnext"),
            "Authorization: <redacted>\nnext"
        );
        assert_eq!(
            redact("header Proxy-Authorization: Bearer opaque"),
            "header Proxy-Authorization: <redacted>"
        );
        // Words that only contain a header's name are left alone.
        assert_eq!(
            redact("no authorization header: refused"),
            "no authorization header: refused"
        );
        assert_eq!(redact("cookies: 3"), "cookies: 3");
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
