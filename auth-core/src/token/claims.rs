//! What an access token says ([`AccessTokenClaims`], RFC 9068 §2.2), what
//! issuing one returns, and why one is refused ([`TokenProblem`]) or cannot
//! be signed ([`SigningError`]).

use serde::{Deserialize, Serialize};

use crate::scopes::Scopes;

/// Why an access token was refused. Each is answered with 401
/// `invalid_token`; the message becomes the `error_description`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenProblem {
    /// Not a `b64token` (RFC 6750 §2.1) or not a well-formed JWT.
    #[error("the access token is malformed")]
    Malformed,
    /// The signature does not match.
    #[error("the access token signature is invalid")]
    BadSignature,
    /// `exp` is in the past (beyond the leeway).
    #[error("the access token expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("the access token is not valid yet")]
    NotYetValid,
    /// `iss` is not this server.
    #[error("the access token was issued by another issuer")]
    WrongIssuer,
    /// `aud` does not name this resource server.
    #[error("the access token is meant for another audience")]
    WrongAudience,
    /// Signed with an algorithm other than the one its key is pinned to.
    #[error("the access token uses an unexpected algorithm")]
    WrongAlgorithm,
    /// The JWT header's `typ` is not `at+jwt` (RFC 9068 §4).
    #[error("the token is not an access token (typ must be at+jwt)")]
    WrongType,
    /// A required claim is missing or has the wrong type.
    #[error("the access token claims are missing or invalid")]
    BadClaims,
    /// The subject no longer exists or is disabled.
    #[error("the access token subject is unknown or disabled")]
    UnknownSubject,
    /// The header's `kid` names no verification key (e.g. a key removed
    /// after a rotation), or a token without `kid` where no key is the
    /// default.
    #[error("the access token was signed with an unknown key")]
    UnknownKey,
    /// The token's session (its `sid`) was ended: logged out, revoked after
    /// a refresh-token replay, or by a password change.
    #[error("the session of the access token has ended")]
    SessionEnded,
    /// The token carries a scope its subject no longer holds (withdrawn
    /// after the token was issued).
    #[error("a scope of the access token was withdrawn from its subject")]
    ScopeWithdrawn,
    /// An API key that is malformed, unknown, revoked or expired, or whose
    /// owner no longer exists or is disabled.
    #[error("the API key is invalid, expired or revoked")]
    InvalidApiKey,
}

impl TokenProblem {
    /// Every problem, in declaration order (`ALL[p as usize] == p`).
    pub(crate) const ALL: [Self; 14] = [
        Self::Malformed,
        Self::BadSignature,
        Self::Expired,
        Self::NotYetValid,
        Self::WrongIssuer,
        Self::WrongAudience,
        Self::WrongAlgorithm,
        Self::WrongType,
        Self::BadClaims,
        Self::UnknownSubject,
        Self::UnknownKey,
        Self::SessionEnded,
        Self::ScopeWithdrawn,
        Self::InvalidApiKey,
    ];
}

/// Signing an access token failed: a broken asymmetric key, or a verifier
/// without a signing key ([`AccessTokens::verifier`](super::AccessTokens::verifier)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("signing the access token failed: {0}")]
pub struct SigningError(pub(super) SigningFailure);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum SigningFailure {
    #[error("{0}")]
    Jwt(jsonwebtoken::errors::Error),
    #[error("this server only verifies tokens (no signing key)")]
    NoSigningKey,
}

/// The claims of an access token (RFC 9068 §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    /// Issuer.
    pub iss: String,
    /// Subject: the username.
    pub sub: String,
    /// Audience: the resource server.
    pub aud: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Issue time, seconds since the Unix epoch.
    pub iat: u64,
    /// Not before, seconds since the Unix epoch (equal to `iat` when issued
    /// here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Unique token id.
    pub jti: String,
    /// The OAuth client the token was issued to.
    pub client_id: String,
    /// The granted scopes, space-separated.
    #[serde(default)]
    pub scope: Scopes,
    /// The session (refresh-token family) the token was issued in: the
    /// password grant starts one, each refresh continues it. A token whose
    /// session was revoked (logout, reuse, "log out everywhere", password
    /// change) is refused within the subject-cache lifetime. Absent from
    /// tokens issued outside a session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The grant the token was issued by, when it was issued to a client
    /// on its own behalf: `client_credentials` ([`CLIENT_CREDENTIALS_GTY`]).
    /// A private claim; absent from tokens issued to users, whose subject
    /// is checked against the user store, where the subject of a client's
    /// token is checked against the client registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gty: Option<String>,
}

/// The `gty` claim of tokens issued by the client-credentials grant.
pub const CLIENT_CREDENTIALS_GTY: &str = "client_credentials";

impl AccessTokenClaims {
    /// Whether the token was issued to a client on its own behalf (the
    /// client-credentials grant): its `sub` is the client, not a user.
    #[must_use]
    pub fn is_client(&self) -> bool {
        self.gty.as_deref() == Some(CLIENT_CREDENTIALS_GTY)
    }
}

/// What [`AccessTokens::issue`](super::AccessTokens::issue) returns.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The compact JWT.
    pub token: String,
    /// Its claims.
    pub claims: AccessTokenClaims,
}
