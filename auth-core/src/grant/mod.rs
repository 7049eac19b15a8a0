//! The token endpoint (RFC 6749 §4.3, §5, §6) and revocation (RFC 7009), as
//! methods of [`Auth`], so an app's `/token` route is one line.
//!
//! * `password`: the password grant and the credential check;
//! * `refresh`: the refresh grant with rotation and reuse
//!   detection, and revocation;
//! * `client`: client authentication, the
//!   client-credentials grant and client-bound revocation;
//! * here: the request dispatch, the response, the field limits and the
//!   one scope rule both grants share.

use std::fmt;

use rocket::Request;
use rocket::http::Header;
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::auth::{Auth, Issuer};
use crate::error::{AuthError, GrantProblem, RequestProblem, ScopeProblem};
use crate::scopes::Scopes;
use crate::store::{RefreshState, RefreshTokenRecord, TokenHash};
use crate::token::IssuedToken;
use family::Family;

mod client;
mod family;
mod password;
mod refresh;
pub(crate) mod request;

pub use request::{
    ClientCredentialsRequest, PasswordRequestForm, PasswordRequestFormStrict, RefreshRequestForm,
    RevocationRequest, TokenRequest,
};
#[cfg(test)]
mod client_tests;
#[cfg(test)]
mod session_tests;
#[cfg(test)]
mod tests;

/// The longest `client_id` accepted, in bytes (it is stored with every
/// refresh token); longer is `invalid_request`.
pub const MAX_CLIENT_ID_LEN: usize = 128;
/// The longest `username` accepted, in bytes; longer is `invalid_request`.
pub const MAX_USERNAME_LEN: usize = 256;
/// The longest `scope` accepted, in bytes of its space-separated form;
/// longer is `invalid_request`.
pub const MAX_SCOPE_LEN: usize = 1024;

/// `invalid_request` when `value` is longer than `max` bytes.
fn check_len(parameter: &'static str, value: Option<&str>, max: usize) -> Result<(), AuthError> {
    if value.is_some_and(|v| v.len() > max) {
        return Err(AuthError::InvalidRequest(RequestProblem::TooLong {
            parameter,
            max,
        }));
    }
    Ok(())
}

/// The length of a scope list in its space-separated form.
fn scope_len(scopes: &Scopes) -> usize {
    scopes
        .iter()
        .map(|s| s.as_str().len() + 1)
        .sum::<usize>()
        .saturating_sub(1)
}

fn check_scope_len(scopes: Option<&Scopes>) -> Result<(), AuthError> {
    if scopes.is_some_and(|s| scope_len(s) > MAX_SCOPE_LEN) {
        return Err(AuthError::InvalidRequest(RequestProblem::TooLong {
            parameter: "scope",
            max: MAX_SCOPE_LEN,
        }));
    }
    Ok(())
}

/// A successful token response (RFC 6749 §5.1), sent with
/// `Cache-Control: no-store` and `Pragma: no-cache`.
///
/// `Debug` does not show the tokens.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TokenResponse {
    /// The JWT access token.
    pub access_token: String,
    /// Always `"bearer"`.
    pub token_type: &'static str,
    /// Lifetime of the access token, in seconds.
    pub expires_in: u64,
    /// The opaque, single-use refresh token; empty, and not sent, for the
    /// client-credentials grant (RFC 6749 §4.4.3).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub refresh_token: String,
    /// The granted scopes, space-separated.
    pub scope: Scopes,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl<'r> Responder<'r, 'static> for TokenResponse {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let mut response = Json(self).respond_to(request)?;
        response.set_header(Header::new("Cache-Control", "no-store"));
        response.set_header(Header::new("Pragma", "no-cache"));
        Ok(response)
    }
}

/// SHA-256 of a refresh token: what stores keep instead of the token.
#[must_use]
pub fn hash_refresh_token(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

fn invalid_credentials() -> AuthError {
    AuthError::InvalidGrant(GrantProblem::InvalidCredentials)
}

fn invalid_refresh() -> AuthError {
    AuthError::InvalidGrant(GrantProblem::InvalidRefreshToken)
}

impl Auth {
    /// Answers a [`TokenRequest`]: the password, refresh or
    /// client-credentials grant.
    ///
    /// # Errors
    ///
    /// See [`Auth::password_grant`], [`Auth::refresh_grant`] and
    /// [`Auth::client_credentials_grant`].
    pub async fn grant(&self, request: TokenRequest) -> Result<TokenResponse, AuthError> {
        match request {
            TokenRequest::Password(form) => self.password_grant(form).await,
            TokenRequest::Refresh(form) => self.refresh_grant(form).await,
            TokenRequest::ClientCredentials(form) => self.client_credentials_grant(form).await,
        }
    }
    /// The scope rule, in one sentence: a token carries the requested
    /// scopes (by default, every scope the user holds) that the app declared
    /// and the user holds; asking for any other scope is `invalid_scope`.
    fn negotiate(&self, held: &Scopes, requested: &Scopes) -> Result<Scopes, AuthError> {
        let grantable = self.scopes.declared_of(held);
        if requested.is_empty() {
            Ok(grantable)
        } else if grantable.contains_all(requested) {
            Ok(requested.clone())
        } else {
            Err(AuthError::InvalidScope(ScopeProblem::NotAllowed))
        }
    }
    fn token_response(
        &self,
        issued: IssuedToken,
        refresh_token: String,
        scope: Scopes,
    ) -> TokenResponse {
        TokenResponse {
            access_token: issued.token,
            token_type: "bearer",
            expires_in: self.verifier.tokens.ttl(),
            refresh_token,
            scope,
        }
    }
}

impl Issuer {
    /// A new refresh token and the record to store for it.
    fn new_refresh_token(
        &self,
        username: &str,
        client_id: &str,
        scopes: &Scopes,
        family: &Family,
        now: u64,
        family_expires_at: u64,
    ) -> (String, RefreshTokenRecord) {
        let refresh_token = family.new_token();
        let record = RefreshTokenRecord {
            token_hash: hash_refresh_token(&refresh_token),
            family_id: family.id().to_owned(),
            username: username.to_owned(),
            client_id: client_id.to_owned(),
            scopes: scopes.clone(),
            issued_at: now,
            expires_at: now.saturating_add(self.refresh_ttl).min(family_expires_at),
            family_expires_at,
            state: RefreshState::Active,
        };
        (refresh_token, record)
    }
}
