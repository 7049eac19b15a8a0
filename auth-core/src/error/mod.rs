//! [`AuthError`]: every way a request can be refused, and what it means
//! in HTTP.
//!
//! One `match` ([`AuthError::parts`]) decides the status, the RFC error code
//! and the kind of `WWW-Authenticate` challenge, so the three never
//! disagree. Each message is written once, on its variant; writing the
//! answer into a Rocket response happens in `respond`.

use std::borrow::Cow;
use std::fmt::Write as _;

use rocket::http::Status;

use crate::password::{MAX_PASSWORD_LEN, PasswordError};
use crate::scopes::Scopes;
use crate::store::StoreError;
use crate::token::{SigningError, TokenProblem};

pub(crate) mod answers;

/// Why a request was refused. Rendered as RFC 6750 (protected resources) or
/// RFC 6749 §5.2 (token endpoint) JSON with the matching status.
///
/// `Display` is the `error_description` clients see (for
/// [`AuthError::Server`] it carries the detail for the server log instead),
/// and never contains a token, a secret or a password.
///
/// # Example
///
/// ```
/// use auth_core::{AuthError, TokenProblem};
/// use rocket::http::Status;
///
/// let err = AuthError::InvalidToken(TokenProblem::Expired);
/// assert_eq!(err.status(), Status::Unauthorized);
/// assert_eq!(err.code(), "invalid_token");
/// assert_eq!(err.description(), "the access token expired");
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization` header, or a scheme other than `Bearer`
    /// (401, challenge without an error code).
    #[error("bearer credentials are required")]
    MissingCredentials,
    /// A malformed request (400 `invalid_request`).
    #[error(transparent)]
    InvalidRequest(RequestProblem),
    /// A token that is malformed or fails verification (401 `invalid_token`).
    #[error(transparent)]
    InvalidToken(TokenProblem),
    /// A valid token without every required scope (403 `insufficient_scope`).
    #[error("this resource requires the scope {required}")]
    InsufficientScope {
        /// Every scope the route requires.
        required: Scopes,
    },
    /// A valid token that holds none of a route's alternatives in full
    /// (`#[protected(any(..))]`; 403 `insufficient_scope`).
    ///
    /// RFC 6750 §3 gives the challenge one `scope` list, with no way to say
    /// "or". It names the first alternative, as written in the attribute:
    /// that set suffices, and authors list the least privileged first. The
    /// `error_description` names every alternative.
    #[error("this resource requires {}", describe_alternatives(alternatives))]
    InsufficientScopeAnyOf {
        /// Each set of scopes that would suffice, in the order written.
        alternatives: Vec<Scopes>,
    },
    /// Bad credentials or a bad refresh token at the token endpoint
    /// (400 `invalid_grant`).
    #[error(transparent)]
    InvalidGrant(GrantProblem),
    /// Client authentication failed at the token or revocation endpoint:
    /// an unknown or disabled client, a wrong or missing secret for a
    /// confidential client, a secret for a public one (401
    /// `invalid_client`, `WWW-Authenticate: Basic`, RFC 6749 §5.2). One
    /// message for every cause.
    #[error("client authentication failed")]
    InvalidClient,
    /// An authenticated client asked for a grant it is not allowed
    /// (400 `unauthorized_client`).
    #[error("this client is not allowed the grant type {0}")]
    UnauthorizedClient(&'static str),
    /// A `grant_type` the endpoint does not support
    /// (400 `unsupported_grant_type`).
    #[error("the grant_type is not supported by this endpoint")]
    UnsupportedGrantType,
    /// A requested scope that is malformed, unknown or not allowed
    /// (400 `invalid_scope`).
    #[error(transparent)]
    InvalidScope(ScopeProblem),
    /// Too many failed logins for this username or client address: try
    /// again after `retry_after` seconds (429 `slow_down`, `Retry-After`).
    #[error("too many failed login attempts; retry after {retry_after} seconds")]
    SlowDown {
        /// Seconds until the next attempt is allowed.
        retry_after: u64,
    },
    /// Every password-hashing slot is busy and the wait queue is full
    /// (503 `temporarily_unavailable`, `Retry-After`).
    #[error("the server is busy; retry after {retry_after} seconds")]
    TemporarilyUnavailable {
        /// Seconds after which a retry is reasonable.
        retry_after: u64,
    },
    /// A cookie-authenticated request that changes state without proof that
    /// it comes from the app's own page: a foreign `Origin`, or a missing or
    /// wrong CSRF token (403 `access_denied`). Also a login posted from a
    /// foreign origin.
    #[error(transparent)]
    CrossSite(CsrfProblem),
    /// The store, the password hasher or the signer failed
    /// (500 `server_error`). The client sees no detail; the server log does.
    #[error(transparent)]
    Server(ServerProblem),
}

/// Details of [`AuthError::InvalidRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestProblem {
    /// `Authorization: Bearer` with nothing after it.
    #[error("the bearer token is empty")]
    EmptyBearerToken,
    /// More than one `Authorization` header.
    #[error("more than one Authorization header was sent")]
    SeveralAuthorizationHeaders,
    /// Both an `Authorization` header and the session cookie (RFC 6750
    /// §2: one method per request).
    #[error("send either the Authorization header or the session cookie, not both")]
    TwoCredentials,
    /// An API key and also an `Authorization` header or the session
    /// cookie: one credential per request.
    #[error("send either the API key or the Authorization header or session cookie, not both")]
    ApiKeyAndOtherCredential,
    /// The API-key header empty, or sent more than once.
    #[error("the API key header is empty or was sent more than once")]
    MalformedApiKeyHeader,
    /// The token request is not `application/x-www-form-urlencoded`.
    #[error("the body must be application/x-www-form-urlencoded")]
    NotFormEncoded,
    /// The token request body is larger than the limit.
    #[error("the request body is too large")]
    BodyTooLarge,
    /// The token request body is not valid percent-encoded UTF-8.
    #[error("the body is not valid percent-encoded UTF-8")]
    BadEncoding,
    /// A parameter appears more than once (RFC 6749 §3.2).
    #[error("the parameter {0} was sent more than once")]
    DuplicateParameter(&'static str),
    /// A required parameter is missing or empty.
    #[error("the parameter {0} is required")]
    MissingParameter(&'static str),
    /// The password is longer than [`crate::password::MAX_PASSWORD_LEN`] bytes.
    #[error("the password is longer than {MAX_PASSWORD_LEN} bytes")]
    PasswordTooLong,
    /// `Authorization: Basic` that does not decode to `client_id:secret`.
    #[error("the Authorization header is not valid Basic client credentials")]
    MalformedClientCredentials,
    /// Client credentials both in the `Authorization` header and the body.
    #[error("client credentials were sent both in the Authorization header and in the body")]
    ClientCredentialsTwice,
    /// A parameter longer than the toolkit stores (`username`, `client_id`,
    /// `scope`; see [`crate::grant::MAX_CLIENT_ID_LEN`] and its siblings).
    #[error("the parameter {parameter} is longer than {max} bytes")]
    TooLong {
        /// The parameter.
        parameter: &'static str,
        /// Its limit in bytes.
        max: usize,
    },
}

/// Details of [`AuthError::InvalidGrant`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GrantProblem {
    /// Unknown user, wrong password or disabled user: one answer for all, so
    /// the endpoint does not reveal which usernames exist.
    #[error("incorrect username or password")]
    InvalidCredentials,
    /// Unknown, expired or revoked refresh token, or issued to another client.
    #[error("the refresh token is invalid, expired or revoked")]
    InvalidRefreshToken,
    /// No refresh cookie on `POST /session/refresh`.
    #[error("there is no session to refresh; log in again")]
    NoSession,
    /// A refresh token presented a second time: its whole family is revoked
    /// (RFC 9700 §4.14.2).
    #[error("the refresh token was already used; every token of its family is revoked")]
    RefreshTokenReused,
}

/// Details of [`AuthError::CrossSite`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CsrfProblem {
    /// `Origin` or `Sec-Fetch-Site` names another site, or `Origin` is
    /// `null`.
    #[error("the request comes from another origin")]
    ForeignOrigin,
    /// Neither `Origin` nor `Sec-Fetch-Site`: nothing shows the request
    /// comes from the app's own page.
    #[error("the request carries no Origin or Sec-Fetch-Site header")]
    NoOrigin,
    /// No `X-CSRF-Token` header, or several.
    #[error("the X-CSRF-Token header is missing")]
    MissingToken,
    /// An `X-CSRF-Token` that is not the session's.
    #[error("the X-CSRF-Token header does not match the session")]
    WrongToken,
}

/// Details of [`AuthError::InvalidScope`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeProblem {
    /// Not a space-separated list of RFC 6749 §3.3 scope-tokens.
    #[error("the scope parameter is not a list of valid scope tokens")]
    Malformed,
    /// Not declared by the application, or not allowed for this user.
    #[error("a requested scope is unknown or not allowed for this user")]
    NotAllowed,
    /// A refresh asked for more than the original grant.
    #[error("a refresh cannot add scopes beyond the original grant")]
    BeyondOriginalGrant,
}

/// Details of [`AuthError::Server`]. Never shown to clients.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ServerProblem {
    /// The user or refresh-token store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing or verifying a password failed.
    #[error(transparent)]
    Hashing(#[from] PasswordError),
    /// Signing an access token failed.
    #[error(transparent)]
    Signing(#[from] SigningError),
    /// A grant was asked of a resource server, which only verifies tokens.
    #[error("this server only verifies tokens; it has no token endpoint")]
    NotAnIssuer,
    /// The [`crate::Auth`] fairing was not attached to this Rocket instance.
    #[error("the Auth fairing is not attached; add .attach(Auth::fairing())")]
    NotConfigured,
}

impl From<StoreError> for AuthError {
    fn from(e: StoreError) -> Self {
        Self::Server(e.into())
    }
}

impl From<PasswordError> for AuthError {
    fn from(e: PasswordError) -> Self {
        match e {
            PasswordError::Busy => Self::TemporarilyUnavailable { retry_after: 1 },
            other => Self::Server(other.into()),
        }
    }
}

impl From<SigningError> for AuthError {
    fn from(e: SigningError) -> Self {
        Self::Server(e.into())
    }
}

/// Which `WWW-Authenticate` challenge an error carries (RFC 6750 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Challenge {
    /// None: token endpoint errors (RFC 6749 §5.2) and server errors.
    None,
    /// `Bearer realm=".."` alone: no credentials were sent (RFC 6750 §3.1).
    Bare,
    /// `Bearer realm="..", error="..", error_description=".."`.
    WithError,
    /// `Basic realm=".."`: a client failed authentication at the token
    /// endpoint (RFC 6749 §5.2, `invalid_client`).
    Basic,
}

/// How an error appears on the wire.
struct Parts {
    status: Status,
    code: &'static str,
    challenge: Challenge,
}

/// "the scope a, or the scopes b c".
fn describe_alternatives(alternatives: &[Scopes]) -> String {
    let described: Vec<String> = alternatives
        .iter()
        .map(|scopes| {
            let noun = if scopes.len() == 1 { "scope" } else { "scopes" };
            format!("the {noun} {scopes}")
        })
        .collect();
    described.join(", or ")
}

impl AuthError {
    /// The one place that maps an error to its status, code and challenge.
    fn parts(&self) -> Parts {
        let (status, code, challenge) = match self {
            Self::MissingCredentials => (Status::Unauthorized, "unauthorized", Challenge::Bare),
            Self::InvalidRequest(
                RequestProblem::EmptyBearerToken
                | RequestProblem::SeveralAuthorizationHeaders
                | RequestProblem::TwoCredentials
                | RequestProblem::ApiKeyAndOtherCredential
                | RequestProblem::MalformedApiKeyHeader,
            ) => (Status::BadRequest, "invalid_request", Challenge::WithError),
            Self::InvalidRequest(_) => (Status::BadRequest, "invalid_request", Challenge::None),
            Self::InvalidToken(_) => (Status::Unauthorized, "invalid_token", Challenge::WithError),
            Self::InsufficientScope { .. } | Self::InsufficientScopeAnyOf { .. } => (
                Status::Forbidden,
                "insufficient_scope",
                Challenge::WithError,
            ),
            Self::InvalidGrant(_) => (Status::BadRequest, "invalid_grant", Challenge::None),
            Self::InvalidClient => (Status::Unauthorized, "invalid_client", Challenge::Basic),
            Self::UnauthorizedClient(_) => {
                (Status::BadRequest, "unauthorized_client", Challenge::None)
            }
            Self::UnsupportedGrantType => (
                Status::BadRequest,
                "unsupported_grant_type",
                Challenge::None,
            ),
            Self::InvalidScope(_) => (Status::BadRequest, "invalid_scope", Challenge::None),
            Self::SlowDown { .. } => (Status::TooManyRequests, "slow_down", Challenge::None),
            Self::TemporarilyUnavailable { .. } => (
                Status::ServiceUnavailable,
                "temporarily_unavailable",
                Challenge::None,
            ),
            Self::CrossSite(_) => (Status::Forbidden, "access_denied", Challenge::None),
            Self::Server(_) => (Status::InternalServerError, "server_error", Challenge::None),
        };
        Parts {
            status,
            code,
            challenge,
        }
    }

    /// The HTTP status this error is answered with.
    #[must_use]
    pub fn status(&self) -> Status {
        self.parts().status
    }

    /// The `error` value of the JSON body: an RFC 6749 §5.2 or RFC 6750 §3.1
    /// code, or `unauthorized` when no credentials were sent.
    #[must_use]
    pub fn code(&self) -> &'static str {
        self.parts().code
    }

    /// The `error_description`: human-readable, free of secrets, and limited
    /// to the characters RFC 6749 allows there (no `"` or `\`). It is the
    /// `Display` text, except that server errors hide their detail.
    #[must_use]
    pub fn description(&self) -> Cow<'static, str> {
        match self {
            Self::Server(_) => Cow::Borrowed("the server could not complete the request"),
            other => Cow::Owned(other.to_string()),
        }
    }

    /// The `WWW-Authenticate` value for this error, if it carries one
    /// (RFC 6750 §3): errors of protected resources do, token endpoint
    /// errors do not.
    ///
    /// # Example
    ///
    /// ```
    /// use auth_core::AuthError;
    ///
    /// assert_eq!(
    ///     AuthError::MissingCredentials.challenge("api").as_deref(),
    ///     Some(r#"Bearer realm="api""#),
    /// );
    /// ```
    #[must_use]
    pub fn challenge(&self, realm: &str) -> Option<String> {
        self.challenge_from(&challenge_prefix(realm))
    }

    /// The challenge, from the prebuilt `Bearer realm=".."` prefix (see
    /// [`challenge_prefix`]): one allocation, no reformatting of the realm.
    pub(crate) fn challenge_from(&self, prefix: &str) -> Option<String> {
        let parts = self.parts();
        if parts.challenge == Challenge::None {
            return None;
        }
        if parts.challenge == Challenge::Basic {
            let realm = prefix.strip_prefix("Bearer ").unwrap_or(prefix);
            return Some(format!("Basic {realm}"));
        }
        let mut value = String::with_capacity(prefix.len() + 128);
        value.push_str(prefix);
        if parts.challenge == Challenge::WithError {
            value.push_str(", error=\"");
            value.push_str(parts.code);
            value.push_str("\", error_description=\"");
            push_quoted_safe(&mut value, &self.description());
            value.push('"');
        }
        match self {
            Self::InsufficientScope { required } => {
                let _ = write!(value, ", scope=\"{required}\"");
            }
            Self::InsufficientScopeAnyOf { alternatives } => {
                if let Some(first) = alternatives.first() {
                    let _ = write!(value, ", scope=\"{first}\"");
                }
            }
            _ => {}
        }
        Some(value)
    }

    /// The `Retry-After` value, in seconds, for errors that carry one.
    #[must_use]
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::SlowDown { retry_after } | Self::TemporarilyUnavailable { retry_after } => {
                Some(*retry_after)
            }
            _ => None,
        }
    }

    /// The JSON body as text, written directly (the same document as
    /// [`Self::body`]).
    pub(crate) fn body_text(&self) -> String {
        let code = self.code();
        let description = self.description();
        let mut text = String::with_capacity(40 + code.len() + description.len());
        text.push_str("{\"error\":\"");
        text.push_str(code);
        text.push_str("\",\"error_description\":");
        // Descriptions hold no `"` or `\`, but escape anyway.
        text.push_str(&serde_json::to_string(description.as_ref()).unwrap_or_default());
        text.push('}');
        text
    }

    /// The JSON body: `{"error": ..., "error_description": ...}`.
    #[must_use]
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "error": self.code(), "error_description": self.description() })
    }
}

/// Drops the characters a quoted-string attribute cannot hold unescaped
/// (RFC 6750 §3 limits `error_description` to %x20-21 / %x23-5B / %x5D-7E).
fn quoted_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_quoted_safe(&mut out, text);
    out
}

/// Appends `text` to `out` without the characters a quoted-string cannot
/// hold.
fn push_quoted_safe(out: &mut String, text: &str) {
    out.extend(
        text.chars()
            .filter(|&c| matches!(c, '\x20'..='\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')),
    );
}

/// `Bearer realm=".."` for `realm`, built once per realm.
pub(crate) fn challenge_prefix(realm: &str) -> String {
    challenge_prefix_with(realm, None)
}

/// `Bearer realm=".."`, plus `resource_metadata=".."` (RFC 9728 §5.1: where
/// the protected resource's metadata is) when the app has a public base
/// URL. Built once, when [`crate::Auth`] is.
pub(crate) fn challenge_prefix_with(realm: &str, resource_metadata: Option<&str>) -> String {
    let mut prefix = format!("Bearer realm=\"{}\"", quoted_safe(realm));
    if let Some(url) = resource_metadata {
        prefix.push_str(", resource_metadata=\"");
        push_quoted_safe(&mut prefix, url);
        prefix.push('"');
    }
    prefix
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6750_statuses_and_codes() {
        let cases = [
            (AuthError::MissingCredentials, 401, "unauthorized"),
            (
                AuthError::InvalidRequest(RequestProblem::EmptyBearerToken),
                400,
                "invalid_request",
            ),
            (
                AuthError::InvalidToken(TokenProblem::Malformed),
                401,
                "invalid_token",
            ),
            (
                AuthError::InsufficientScope {
                    required: Scopes::parse("a").unwrap(),
                },
                403,
                "insufficient_scope",
            ),
            (
                AuthError::InvalidGrant(GrantProblem::InvalidCredentials),
                400,
                "invalid_grant",
            ),
            (
                AuthError::UnsupportedGrantType,
                400,
                "unsupported_grant_type",
            ),
            (
                AuthError::InvalidScope(ScopeProblem::NotAllowed),
                400,
                "invalid_scope",
            ),
            (AuthError::InvalidClient, 401, "invalid_client"),
            (
                AuthError::UnauthorizedClient("password"),
                400,
                "unauthorized_client",
            ),
            (AuthError::SlowDown { retry_after: 3 }, 429, "slow_down"),
            (
                AuthError::TemporarilyUnavailable { retry_after: 1 },
                503,
                "temporarily_unavailable",
            ),
        ];
        for (err, status, code) in cases {
            assert_eq!(err.status().code, status, "{err}");
            assert_eq!(err.code(), code);
            assert_eq!(err.body()["error"], code);
        }
        assert_eq!(
            AuthError::SlowDown { retry_after: 3 }.retry_after(),
            Some(3)
        );
        assert_eq!(AuthError::from(PasswordError::Busy).retry_after(), Some(1));
        assert_eq!(AuthError::UnsupportedGrantType.retry_after(), None);
    }

    #[test]
    fn challenges_follow_rfc_6750_section_3() {
        assert_eq!(
            AuthError::MissingCredentials.challenge("r").unwrap(),
            "Bearer realm=\"r\""
        );
        assert_eq!(
            AuthError::InvalidToken(TokenProblem::Expired)
                .challenge("r")
                .unwrap(),
            "Bearer realm=\"r\", error=\"invalid_token\", error_description=\"the access token expired\""
        );
        let scope = AuthError::InsufficientScope {
            required: Scopes::parse("write:items read:items").unwrap(),
        }
        .challenge("r")
        .unwrap();
        assert!(scope.contains("error=\"insufficient_scope\""));
        assert!(scope.ends_with("scope=\"read:items write:items\""));
        assert!(
            AuthError::InvalidGrant(GrantProblem::InvalidCredentials)
                .challenge("r")
                .is_none()
        );
        assert_eq!(
            AuthError::InvalidClient.challenge("r").as_deref(),
            Some("Basic realm=\"r\"")
        );
        assert!(
            AuthError::InvalidRequest(RequestProblem::NotFormEncoded)
                .challenge("r")
                .is_none()
        );
    }

    #[test]
    fn body_text_is_the_json_body() {
        let errors = [
            AuthError::MissingCredentials,
            AuthError::InvalidToken(TokenProblem::Expired),
            AuthError::InvalidRequest(RequestProblem::MissingParameter("username")),
            AuthError::InsufficientScope {
                required: Scopes::parse("write:items read:items").unwrap(),
            },
            AuthError::Server(ServerProblem::NotConfigured),
        ];
        for error in errors {
            let text: serde_json::Value = serde_json::from_str(&error.body_text()).unwrap();
            assert_eq!(text, error.body(), "{error:?}");
            assert_eq!(
                error.challenge_from(&challenge_prefix("r")),
                error.challenge("r")
            );
        }
    }

    #[test]
    fn the_resource_metadata_follows_the_realm_in_every_challenge() {
        let prefix = challenge_prefix_with(
            "api",
            Some("https://example.com/.well-known/oauth-protected-resource/auth"),
        );
        let metadata =
            "resource_metadata=\"https://example.com/.well-known/oauth-protected-resource/auth\"";
        assert_eq!(
            AuthError::MissingCredentials
                .challenge_from(&prefix)
                .unwrap(),
            format!("Bearer realm=\"api\", {metadata}")
        );
        assert_eq!(
            AuthError::InvalidToken(TokenProblem::Expired)
                .challenge_from(&prefix)
                .unwrap(),
            format!(
                "Bearer realm=\"api\", {metadata}, error=\"invalid_token\", \
                 error_description=\"the access token expired\""
            )
        );
        assert_eq!(challenge_prefix_with("api", None), challenge_prefix("api"));
    }

    #[test]
    fn challenge_strips_characters_a_quoted_string_cannot_hold() {
        let value = AuthError::MissingCredentials
            .challenge("my \"realm\\")
            .unwrap();
        assert_eq!(value, "Bearer realm=\"my realm\"");
    }
}
