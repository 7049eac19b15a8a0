//! Parsing `Authorization: Bearer <token>` (RFC 6750 §2.1).
//!
//! Free of Rocket types: it works on the header values as strings.

use crate::error::{AuthError, RequestProblem, TokenProblem};

/// Longest bearer token accepted; anything longer is malformed. Access
/// tokens issued by this crate are a few hundred bytes.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Extracts the bearer token from the `Authorization` header values of a
/// request.
///
/// * no header, or a scheme other than `Bearer`: `Ok(None)` (anonymous);
/// * the scheme is matched case-insensitively (`bearer`, `BEARER`);
/// * more than one header, or `Bearer` with an empty token:
///   [`RequestProblem`] (400 `invalid_request`);
/// * a token outside the `b64token` syntax: [`TokenProblem::Malformed`]
///   (401 `invalid_token`).
///
/// # Example
///
/// ```
/// use auth_core::extract_bearer;
///
/// assert_eq!(extract_bearer(["Bearer abc.def-ghi"]).unwrap(), Some("abc.def-ghi"));
/// assert_eq!(extract_bearer(["bearer abc"]).unwrap(), Some("abc"));
/// assert_eq!(extract_bearer(["Basic dXNlcjpwYXNz"]).unwrap(), None);
/// assert_eq!(extract_bearer(std::iter::empty::<&str>()).unwrap(), None);
/// assert!(extract_bearer(["Bearer "]).is_err());
/// assert!(extract_bearer(["Bearer a", "Bearer b"]).is_err());
/// ```
///
/// # Errors
///
/// As listed above.
pub fn extract_bearer<'a, I>(values: I) -> Result<Option<&'a str>, AuthError>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut values = values.into_iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(AuthError::InvalidRequest(
            RequestProblem::SeveralAuthorizationHeaders,
        ));
    }
    let value = value.trim_matches(is_http_whitespace);
    let (scheme, rest) = value.split_once(is_http_whitespace).unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = rest.trim_start_matches(is_http_whitespace);
    if token.is_empty() {
        return Err(AuthError::InvalidRequest(RequestProblem::EmptyBearerToken));
    }
    if !is_b64token(token) {
        return Err(AuthError::InvalidToken(TokenProblem::Malformed));
    }
    Ok(Some(token))
}

fn is_http_whitespace(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Whether `token` matches `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" /
/// "~" / "+" / "/" ) *"="` (RFC 6750 §2.1), within [`MAX_TOKEN_LEN`].
///
/// # Example
///
/// ```
/// use auth_core::is_b64token;
///
/// assert!(is_b64token("eyJh.eyJz.c2ln"));
/// assert!(is_b64token("abc=="));
/// assert!(!is_b64token("a=b"));
/// assert!(!is_b64token("=="));
/// assert!(!is_b64token("a b"));
/// ```
#[must_use]
pub fn is_b64token(token: &str) -> bool {
    if token.len() > MAX_TOKEN_LEN {
        return false;
    }
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(value: &str) -> Result<Option<&str>, AuthError> {
        extract_bearer([value])
    }

    #[test]
    fn scheme_is_case_insensitive() {
        for value in [
            "Bearer t0k",
            "bearer t0k",
            "BEARER t0k",
            "bEaReR   t0k",
            " Bearer t0k ",
        ] {
            assert_eq!(one(value).unwrap(), Some("t0k"), "{value:?}");
        }
    }

    #[test]
    fn other_schemes_are_anonymous() {
        for value in ["Basic dXNlcg==", "Token abc", "Bearerabc", "Digest x", ""] {
            assert_eq!(one(value).unwrap(), None, "{value:?}");
        }
    }

    #[test]
    fn empty_token_is_invalid_request() {
        for value in ["Bearer", "Bearer ", "bearer    ", "Bearer\t"] {
            let err = one(value).unwrap_err();
            assert_eq!(err.code(), "invalid_request", "{value:?}");
            assert_eq!(err.status().code, 400);
        }
    }

    #[test]
    fn several_headers_are_invalid_request_even_if_one_is_fine() {
        let err = extract_bearer(["Bearer a", "Basic b"]).unwrap_err();
        assert!(matches!(
            err,
            AuthError::InvalidRequest(RequestProblem::SeveralAuthorizationHeaders)
        ));
    }

    #[test]
    fn tokens_outside_b64token_are_invalid_token() {
        for value in [
            "Bearer a b",
            "Bearer a\"b",
            "Bearer tok=en",
            "Bearer ===",
            "Bearer caf\u{e9}",
            "Bearer a,b",
        ] {
            let err = one(value).unwrap_err();
            assert_eq!(err.code(), "invalid_token", "{value:?}");
        }
        let huge = format!("Bearer {}", "a".repeat(MAX_TOKEN_LEN + 1));
        assert_eq!(one(&huge).unwrap_err().code(), "invalid_token");
    }

    #[test]
    fn b64token_accepts_all_allowed_characters() {
        assert!(is_b64token("AZaz09-._~+/=="));
        assert!(!is_b64token(""));
    }
}
