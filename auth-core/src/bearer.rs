//! The `Authorization` request header, parsed in one place: Bearer
//! credentials for protected routes (RFC 6750 §2.1) and Basic client
//! credentials for the token endpoint (RFC 6749 §2.3.1).
//!
//! Free of Rocket types: it works on the header values as strings.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::{AuthError, RequestProblem};
use crate::token::TokenProblem;

/// Longest bearer token accepted; anything longer is malformed. Access
/// tokens issued by this crate are a few hundred bytes.
pub(crate) const MAX_TOKEN_LEN: usize = 8 * 1024;

/// The one `Authorization` header of a request, split into its scheme and
/// what follows it. `None` without the header.
///
/// Several headers are refused whatever their schemes: a request must not
/// leave the server to choose (RFC 6750 §3.1 `invalid_request`).
fn single<'a, I>(values: I) -> Result<Option<(&'a str, &'a str)>, AuthError>
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
    Ok(Some((scheme, rest.trim_start_matches(is_http_whitespace))))
}

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
    let Some((scheme, token)) = single(values)? else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    if token.is_empty() {
        return Err(AuthError::InvalidRequest(RequestProblem::EmptyBearerToken));
    }
    if !is_b64token(token) {
        return Err(AuthError::InvalidToken(TokenProblem::Malformed));
    }
    Ok(Some(token))
}

/// The client id and secret of `Authorization: Basic` (RFC 6749 §2.3.1):
/// base64 of `id:secret`, each still form-urlencoded. `None` without the
/// header, with another scheme, or with empty credentials (`Basic Og==`,
/// what Swagger UI sends when no client is configured): those name no
/// client.
///
/// # Errors
///
/// Several `Authorization` headers, or Basic credentials that do not decode
/// to `id:secret` with a non-empty id:
/// [`RequestProblem::MalformedClientCredentials`].
pub(crate) fn basic_credentials<'a, I>(values: I) -> Result<Option<(String, String)>, AuthError>
where
    I: IntoIterator<Item = &'a str>,
{
    let malformed = || AuthError::InvalidRequest(RequestProblem::MalformedClientCredentials);
    let Some((scheme, encoded)) = single(values)? else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = STANDARD.decode(encoded).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    match (id.is_empty(), secret.is_empty()) {
        (true, true) => Ok(None),
        (true, false) => Err(malformed()),
        (false, _) => Ok(Some((id.to_owned(), secret.to_owned()))),
    }
}

fn is_http_whitespace(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Whether `token` matches `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" /
/// "~" / "+" / "/" ) *"="` (RFC 6750 §2.1), within [`MAX_TOKEN_LEN`].
#[must_use]
pub(crate) fn is_b64token(token: &str) -> bool {
    if token.len() > MAX_TOKEN_LEN {
        return false;
    }
    let body = token.trim_end_matches('=');
    // Every byte is checked, without an early exit or a branch, so that the
    // loop runs on 16 bytes at a time: this runs on every authenticated
    // request.
    let refused = body
        .bytes()
        .fold(0u8, |refused, b| refused | u8::from(!is_b64token_byte(b)));
    !body.is_empty() && refused == 0
}

/// A byte of a `b64token` before its `=` padding: `ALPHA / DIGIT / "-" /
/// "." / "_" / "~" / "+" / "/"`. Written with `|` rather than `||` or
/// `matches!` so that it compiles to comparisons the loop can vectorise.
#[allow(
    clippy::needless_bitwise_bool,
    reason = "branch-free on purpose: the loop over a token vectorises"
)]
const fn is_b64token_byte(b: u8) -> bool {
    let letter = (b | 0x20).wrapping_sub(b'a') < 26;
    let digit = b.wrapping_sub(b'0') < 10;
    // '-', '.' and '/' are 0x2d, 0x2e and 0x2f.
    let dash_dot_slash = b.wrapping_sub(b'-') < 3;
    letter | digit | dash_dot_slash | (b == b'_') | (b == b'~') | (b == b'+')
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
    fn b64token_bytes_are_exactly_rfc_6750s() {
        for b in 0..=u8::MAX {
            let rfc = b.is_ascii_alphanumeric() || b"-._~+/".contains(&b);
            assert_eq!(is_b64token_byte(b), rfc, "byte {b:#04x}");
        }
    }

    #[test]
    fn b64token_accepts_all_allowed_characters() {
        assert!(is_b64token("AZaz09-._~+/=="));
        assert!(is_b64token("eyJh.eyJz.c2ln"));
        assert!(!is_b64token(""));
        assert!(!is_b64token("a=b"));
        assert!(!is_b64token("=="));
        assert!(!is_b64token("a b"));
    }

    fn basic(value: &str) -> Result<Option<(String, String)>, AuthError> {
        basic_credentials([value])
    }

    #[test]
    fn basic_credentials_decode_id_and_secret() {
        // "cli:s3cret"
        assert_eq!(
            basic("Basic Y2xpOnMzY3JldA==").unwrap(),
            Some(("cli".to_owned(), "s3cret".to_owned()))
        );
        // The scheme is case-insensitive and the whitespace rules are those
        // of Bearer.
        assert!(basic("basic\tY2xpOnMzY3JldA==").unwrap().is_some());
        // "cli:" has an empty secret.
        assert_eq!(
            basic("Basic Y2xpOg==").unwrap(),
            Some(("cli".to_owned(), String::new()))
        );
    }

    #[test]
    fn empty_basic_credentials_name_no_client() {
        // ":" is what Swagger UI's password flow sends without a client id.
        assert_eq!(basic("Basic Og==").unwrap(), None);
    }

    #[test]
    fn other_schemes_carry_no_client_credentials() {
        for value in ["Bearer abc", "Bearer a b", "Digest x", ""] {
            assert_eq!(basic(value).unwrap(), None, "{value:?}");
        }
        assert!(
            basic_credentials(std::iter::empty::<&str>())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn malformed_basic_credentials_are_invalid_request() {
        // not base64, no colon ("cli"), an empty id with a secret (":x")
        for value in ["Basic !!!", "Basic Y2xp", "Basic Ong=", "Basic"] {
            let err = basic(value).unwrap_err();
            assert!(
                matches!(
                    err,
                    AuthError::InvalidRequest(RequestProblem::MalformedClientCredentials)
                ),
                "{value:?}: {err:?}"
            );
        }
        assert!(matches!(
            basic_credentials(["Basic Y2xpOg==", "Basic Y2xpOg=="]).unwrap_err(),
            AuthError::InvalidRequest(RequestProblem::SeveralAuthorizationHeaders)
        ));
    }
}
