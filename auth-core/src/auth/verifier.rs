//! [`Verifier`]: what checks an access token on every request: the keys
//! and token caches, and then either the subject checks against the stores
//! (an issuer) or nothing more (a resource server, whose keys may come from
//! another issuer's JWKS URL).

use std::fmt;
use std::sync::Arc;

use crate::auth::subjects::SubjectCache;
use crate::error::AuthError;
use crate::resource_server::ResourceServer;
use crate::store::{RefreshTokenStore, UserStore};
use crate::token::{AccessTokenClaims, AccessTokens, TokenProblem, unix_now};

/// Verifies access tokens. Part of [`Auth`](crate::Auth) in both modes;
/// reach it with [`Auth::verifier`](crate::Auth::verifier).
pub struct Verifier {
    pub(crate) tokens: AccessTokens,
    pub(crate) subjects: Subjects,
}

/// What a verified token is checked against beyond its signature and
/// claims.
pub(crate) enum Subjects {
    /// The issuer's own stores: the user must exist, be enabled and still
    /// hold the token's scopes, and the token's session must be live.
    Stores {
        users: Arc<dyn UserStore>,
        refresh_tokens: Arc<dyn RefreshTokenStore>,
        cache: SubjectCache,
    },
    /// A resource server: nothing (it has no stores); unknown `kid`s make
    /// it fetch the issuer's keys again.
    Remote(ResourceServer),
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("tokens", &self.tokens)
            .field("resource_server", &self.is_resource_server())
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// Issuing (on an issuer) and verifying access tokens.
    #[must_use]
    pub fn tokens(&self) -> &AccessTokens {
        &self.tokens
    }

    /// Whether this verifier belongs to a resource server: no stores, so
    /// tokens are only verified.
    #[must_use]
    pub fn is_resource_server(&self) -> bool {
        matches!(self.subjects, Subjects::Remote(_))
    }

    /// See [`Auth::authenticate`](crate::Auth::authenticate).
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidToken`] for any verification failure,
    /// [`AuthError::Server`] if a store fails.
    pub async fn authenticate(&self, token: &str) -> Result<AccessTokenClaims, AuthError> {
        self.authenticate_shared(token)
            .await
            .map(Arc::unwrap_or_clone)
    }

    /// [`Self::authenticate`], sharing the claims with the verified-token
    /// cache instead of copying them.
    pub(crate) async fn authenticate_shared(
        &self,
        token: &str,
    ) -> Result<Arc<AccessTokenClaims>, AuthError> {
        let (users, refresh_tokens, cache) = match &self.subjects {
            Subjects::Remote(resource_server) => {
                return resource_server
                    .verify(&self.tokens, token)
                    .await
                    .map_err(AuthError::InvalidToken);
            }
            Subjects::Stores {
                users,
                refresh_tokens,
                cache,
            } => (users, refresh_tokens, cache),
        };
        let claims = self
            .tokens
            .verify_shared(token)
            .map_err(AuthError::InvalidToken)?;
        let sid = claims.sid.as_deref();
        if cache.is_fresh(&claims.sub, sid, &claims.scope) {
            return Ok(claims);
        }
        let held = match users.find_user(&claims.sub).await? {
            Some(user) if !user.disabled => Arc::new(user.scopes),
            _ => {
                cache.forget(&claims.sub);
                return Err(AuthError::InvalidToken(TokenProblem::UnknownSubject));
            }
        };
        if !held.contains_all(&claims.scope) {
            return Err(AuthError::InvalidToken(TokenProblem::ScopeWithdrawn));
        }
        if let Some(sid) = sid {
            let family = refresh_tokens.family(sid).await?;
            if !family.is_some_and(|f| f.username == claims.sub && f.is_live(unix_now())) {
                cache.forget_session(sid);
                return Err(AuthError::InvalidToken(TokenProblem::SessionEnded));
            }
        }
        cache.remember(&claims.sub, sid, &held);
        Ok(claims)
    }

    /// Makes the next request of `username` consult the user store; see
    /// [`Auth::forget_subject`](crate::Auth::forget_subject).
    pub fn forget_subject(&self, username: &str) {
        if let Subjects::Stores { cache, .. } = &self.subjects {
            cache.forget(username);
        }
    }

    /// Makes the next request in the session `sid` (a refresh-token family)
    /// consult the store, e.g. right after revoking the family.
    pub(crate) fn forget_session(&self, sid: &str) {
        if let Subjects::Stores { cache, .. } = &self.subjects {
            cache.forget_session(sid);
        }
    }

    /// The resource-server state, in that mode.
    pub(crate) fn resource_server(&self) -> Option<&ResourceServer> {
        match &self.subjects {
            Subjects::Remote(resource_server) => Some(resource_server),
            Subjects::Stores { .. } => None,
        }
    }
}
