//! [`AuthError`]: every way a request can be refused, and its HTTP form.
//!
//! One `match` ([`AuthError::parts`]) decides the status, the RFC error code
//! and whether a `WWW-Authenticate` challenge is sent, so the three never
//! disagree.

use std::fmt::{self, Write as _};

use rocket::http::{Header, Status};
use rocket::response::{self, Responder};
use rocket::{Request, Response};

use crate::scopes::Scopes;
use crate::store::StoreError;

/// Why a request was refused. Rendered as RFC 6750 (protected resources) or
/// RFC 6749 §5.2 (token endpoint) JSON with the matching status.
///
/// `Display` never contains a token, a secret or a password.
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
/// assert_eq!(err.to_string(), "invalid token: the access token expired");
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization` header, or a scheme other than `Bearer`
    /// (401, challenge without an error code).
    #[error("bearer credentials required")]
    MissingCredentials,
    /// A malformed request (400 `invalid_request`).
    #[error("invalid request: {0}")]
    InvalidRequest(RequestProblem),
    /// A token that is malformed or fails verification (401 `invalid_token`).
    #[error("invalid token: {0}")]
    InvalidToken(TokenProblem),
    /// A valid token without every required scope (403 `insufficient_scope`).
    #[error("insufficient scope: requires {required}")]
    InsufficientScope {
        /// Every scope the route requires.
        required: Scopes,
    },
    /// Bad credentials or a bad refresh token at the token endpoint
    /// (400 `invalid_grant`).
    #[error("invalid grant: {0}")]
    InvalidGrant(GrantProblem),
    /// A `grant_type` the endpoint does not support
    /// (400 `unsupported_grant_type`).
    #[error("unsupported grant type")]
    UnsupportedGrantType,
    /// A requested scope that is malformed, unknown or not allowed
    /// (400 `invalid_scope`).
    #[error("invalid scope: {0}")]
    InvalidScope(ScopeProblem),
    /// The store or the password hasher failed (500 `server_error`). The
    /// client sees no detail; the server log does.
    #[error("server error: {0}")]
    Server(ServerProblem),
}

/// Details of [`AuthError::InvalidRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestProblem {
    /// `Authorization: Bearer` with nothing after it.
    EmptyBearerToken,
    /// More than one `Authorization` header.
    SeveralAuthorizationHeaders,
    /// The token request is not `application/x-www-form-urlencoded`.
    NotFormEncoded,
    /// The token request body is larger than the limit.
    BodyTooLarge,
    /// The token request body is not valid percent-encoded UTF-8.
    BadEncoding,
    /// A parameter appears more than once (RFC 6749 §3.2).
    DuplicateParameter(&'static str),
    /// A required parameter is missing or empty.
    MissingParameter(&'static str),
    /// The password is longer than [`crate::MAX_PASSWORD_LEN`] bytes.
    PasswordTooLong,
    /// `Authorization: Basic` that does not decode to `client_id:secret`.
    MalformedClientCredentials,
    /// Client credentials both in the `Authorization` header and the body.
    ClientCredentialsTwice,
}

/// Details of [`AuthError::InvalidToken`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenProblem {
    /// Not a `b64token` (RFC 6750 §2.1) or not a well-formed JWT.
    Malformed,
    /// The signature does not match.
    BadSignature,
    /// `exp` is in the past (beyond the leeway).
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    NotYetValid,
    /// `iss` is not this server.
    WrongIssuer,
    /// `aud` does not name this resource server.
    WrongAudience,
    /// Signed with an algorithm other than the configured one.
    WrongAlgorithm,
    /// The JWT header's `typ` is not `at+jwt` (RFC 9068 §4).
    WrongType,
    /// A required claim is missing or has the wrong type.
    BadClaims,
    /// The subject no longer exists or is disabled.
    UnknownSubject,
}

/// Details of [`AuthError::InvalidGrant`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum GrantProblem {
    /// Unknown user, wrong password or disabled user: one answer for all, so
    /// the endpoint does not reveal which usernames exist.
    InvalidCredentials,
    /// Unknown, expired or revoked refresh token, or issued to another client.
    InvalidRefreshToken,
    /// A refresh token presented a second time: its whole family is revoked
    /// (RFC 9700 §4.14.2).
    RefreshTokenReused,
}

/// Details of [`AuthError::InvalidScope`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScopeProblem {
    /// Not a space-separated list of RFC 6749 §3.3 scope-tokens.
    Malformed,
    /// Not declared by the application, or not allowed for this user.
    NotAllowed,
    /// A refresh asked for more than the original grant.
    BeyondOriginalGrant,
}

/// Details of [`AuthError::Server`]. Never shown to clients.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ServerProblem {
    /// The user or refresh-token store failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// Hashing or verifying a password failed.
    #[error("password hashing failed: {0}")]
    Hashing(String),
    /// Signing an access token failed.
    #[error("signing the access token failed: {0}")]
    Signing(String),
    /// The [`crate::Auth`] fairing was not attached to this Rocket instance.
    #[error("the Auth fairing is not attached; add .attach(Auth::fairing())")]
    NotConfigured,
}

impl From<StoreError> for AuthError {
    fn from(e: StoreError) -> Self {
        Self::Server(ServerProblem::Store(e))
    }
}

impl fmt::Display for RequestProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyBearerToken => f.write_str("the bearer token is empty"),
            Self::SeveralAuthorizationHeaders => {
                f.write_str("more than one Authorization header was sent")
            }
            Self::NotFormEncoded => {
                f.write_str("the body must be application/x-www-form-urlencoded")
            }
            Self::BodyTooLarge => f.write_str("the request body is too large"),
            Self::BadEncoding => f.write_str("the body is not valid percent-encoded UTF-8"),
            Self::DuplicateParameter(name) => {
                write!(f, "the parameter {name} was sent more than once")
            }
            Self::MissingParameter(name) => write!(f, "the parameter {name} is required"),
            Self::MalformedClientCredentials => {
                f.write_str("the Authorization header is not valid Basic client credentials")
            }
            Self::ClientCredentialsTwice => f.write_str(
                "client credentials were sent both in the Authorization header and in the body",
            ),
            Self::PasswordTooLong => write!(
                f,
                "the password is longer than {} bytes",
                crate::password::MAX_PASSWORD_LEN
            ),
        }
    }
}

impl fmt::Display for TokenProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "the access token is malformed",
            Self::BadSignature => "the access token signature is invalid",
            Self::Expired => "the access token expired",
            Self::NotYetValid => "the access token is not valid yet",
            Self::WrongIssuer => "the access token was issued by another issuer",
            Self::WrongAudience => "the access token is meant for another audience",
            Self::WrongAlgorithm => "the access token uses an unexpected algorithm",
            Self::WrongType => "the token is not an access token (typ must be at+jwt)",
            Self::BadClaims => "the access token claims are missing or invalid",
            Self::UnknownSubject => "the access token subject is unknown or disabled",
        })
    }
}

impl fmt::Display for GrantProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidCredentials => "incorrect username or password",
            Self::InvalidRefreshToken => "the refresh token is invalid, expired or revoked",
            Self::RefreshTokenReused => {
                "the refresh token was already used; every token of its family is revoked"
            }
        })
    }
}

impl fmt::Display for ScopeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "the scope parameter is not a list of valid scope tokens",
            Self::NotAllowed => "a requested scope is unknown or not allowed for this user",
            Self::BeyondOriginalGrant => "a refresh cannot add scopes beyond the original grant",
        })
    }
}

/// How an error appears on the wire.
struct Parts {
    status: Status,
    code: &'static str,
    /// Whether to send a `WWW-Authenticate: Bearer` challenge (RFC 6750 §3).
    challenge: bool,
    /// Whether the challenge carries `error=`: not for missing credentials
    /// (RFC 6750 §3.1).
    challenge_code: bool,
}

impl AuthError {
    fn parts(&self) -> Parts {
        let (status, code, challenge, challenge_code) = match self {
            Self::MissingCredentials => (Status::Unauthorized, "unauthorized", true, false),
            Self::InvalidRequest(
                RequestProblem::EmptyBearerToken | RequestProblem::SeveralAuthorizationHeaders,
            ) => (Status::BadRequest, "invalid_request", true, true),
            Self::InvalidRequest(_) => (Status::BadRequest, "invalid_request", false, false),
            Self::InvalidToken(_) => (Status::Unauthorized, "invalid_token", true, true),
            Self::InsufficientScope { .. } => (Status::Forbidden, "insufficient_scope", true, true),
            Self::InvalidGrant(_) => (Status::BadRequest, "invalid_grant", false, false),
            Self::UnsupportedGrantType => {
                (Status::BadRequest, "unsupported_grant_type", false, false)
            }
            Self::InvalidScope(_) => (Status::BadRequest, "invalid_scope", false, false),
            Self::Server(_) => (Status::InternalServerError, "server_error", false, false),
        };
        Parts {
            status,
            code,
            challenge,
            challenge_code,
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
    /// to the characters RFC 6749 allows there (no `"` or `\`).
    #[must_use]
    pub fn description(&self) -> String {
        match self {
            Self::MissingCredentials => "bearer credentials are required".to_owned(),
            Self::InvalidRequest(p) => p.to_string(),
            Self::InvalidToken(p) => p.to_string(),
            Self::InsufficientScope { required } => {
                format!("this resource requires the scope {required}")
            }
            Self::InvalidGrant(p) => p.to_string(),
            Self::UnsupportedGrantType => {
                "the grant_type is not supported by this endpoint".to_owned()
            }
            Self::InvalidScope(p) => p.to_string(),
            Self::Server(_) => "the server could not complete the request".to_owned(),
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
        let parts = self.parts();
        if !parts.challenge {
            return None;
        }
        let mut value = format!("Bearer realm=\"{}\"", quoted_safe(realm));
        if parts.challenge_code {
            let _ = write!(
                value,
                ", error=\"{}\", error_description=\"{}\"",
                parts.code,
                quoted_safe(&self.description())
            );
        }
        if let Self::InsufficientScope { required } = self {
            let _ = write!(value, ", scope=\"{required}\"");
        }
        Some(value)
    }

    /// The JSON body: `{"error": ..., "error_description": ...}`.
    #[must_use]
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "error": self.code(), "error_description": self.description() })
    }

    /// Writes this error into `response`: status, JSON body, the challenge
    /// when there is one, and `Cache-Control: no-store`.
    pub(crate) fn render_into(&self, response: &mut Response<'_>, realm: &str) {
        let body = self.body().to_string();
        response.set_status(self.status());
        response.set_header(rocket::http::ContentType::JSON);
        response.set_header(Header::new("Cache-Control", "no-store"));
        response.set_header(Header::new("Pragma", "no-cache"));
        if let Some(challenge) = self.challenge(realm) {
            response.set_header(Header::new("WWW-Authenticate", challenge));
        } else {
            response.remove_header("WWW-Authenticate");
        }
        response.set_sized_body(body.len(), std::io::Cursor::new(body));
    }
}

/// Drops the characters a quoted-string attribute cannot hold unescaped
/// (RFC 6750 §3 limits `error_description` to %x20-21 / %x23-5B / %x5D-7E).
fn quoted_safe(text: &str) -> String {
    text.chars()
        .filter(|&c| matches!(c, '\x20'..='\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E'))
        .collect()
}

/// Answers with the RFC-shaped JSON error, the challenge and
/// `Cache-Control: no-store`. The realm comes from the [`crate::Auth`] state.
impl<'r> Responder<'r, 'static> for AuthError {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        if let Self::Server(problem) = &self {
            log::error!("auth: {problem}");
        }
        let mut response = Response::new();
        self.render_into(&mut response, crate::guard::realm_of(request));
        Ok(response)
    }
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
        ];
        for (err, status, code) in cases {
            assert_eq!(err.status().code, status, "{err}");
            assert_eq!(err.code(), code);
            assert_eq!(err.body()["error"], code);
        }
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
        assert!(
            AuthError::InvalidRequest(RequestProblem::NotFormEncoded)
                .challenge("r")
                .is_none()
        );
    }

    #[test]
    fn challenge_strips_characters_a_quoted_string_cannot_hold() {
        let value = AuthError::MissingCredentials
            .challenge("my \"realm\\")
            .unwrap();
        assert_eq!(value, "Bearer realm=\"my realm\"");
    }
}
