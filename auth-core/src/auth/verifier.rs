//! [`Verifier`]: what checks an access token on every request: the keys
//! and token caches, and then either the subject checks against the stores
//! (an issuer) or nothing more (a resource server, whose keys may come from
//! another issuer's JWKS URL).

use std::fmt;
use std::sync::Arc;

use crate::auth::subjects::SubjectCache;
use crate::error::AuthError;
use crate::resource_server::ResourceServer;
use crate::store::{ClientStore, GrantType, RefreshTokenStore, UserStore};
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
        /// The client registry, for tokens of the client-credentials grant.
        clients: Option<Arc<dyn ClientStore>>,
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
        let (users, refresh_tokens, clients, cache) = match &self.subjects {
            Subjects::Remote(resource_server) => {
                return resource_server
                    .verify(&self.tokens, token)
                    .await
                    .map_err(AuthError::InvalidToken);
            }
            Subjects::Stores {
                users,
                refresh_tokens,
                clients,
                cache,
            } => (users, refresh_tokens, clients, cache),
        };
        let claims = self
            .tokens
            .verify_shared(token)
            .map_err(AuthError::InvalidToken)?;
        if claims.is_client() {
            return check_client(clients.as_deref(), cache, claims).await;
        }
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

    /// Makes the next request with a token of the client `client_id`
    /// consult the client registry.
    pub fn forget_client(&self, client_id: &str) {
        if let Subjects::Stores { cache, .. } = &self.subjects {
            cache.forget(&client_cache_key(client_id));
        }
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

/// The subject-cache key of a client: apart from every username (which
/// cannot start with a NUL in the SQL stores), so a user named like a
/// client never passes for it.
fn client_cache_key(client_id: &str) -> String {
    format!("\0client:{client_id}")
}

/// A client-credentials token: its client must still be registered,
/// enabled, allowed that grant and hold the token's scopes. Found so, it
/// is remembered like a user for `auth_subject_cache_ttl`.
async fn check_client(
    clients: Option<&dyn ClientStore>,
    cache: &SubjectCache,
    claims: Arc<AccessTokenClaims>,
) -> Result<Arc<AccessTokenClaims>, AuthError> {
    let key = client_cache_key(&claims.sub);
    if cache.is_fresh(&key, None, &claims.scope) {
        return Ok(claims);
    }
    let Some(clients) = clients else {
        return Err(AuthError::InvalidToken(TokenProblem::UnknownSubject));
    };
    let held = match clients.find_client(&claims.sub).await? {
        Some(client)
            if client.enabled
                && client.is_confidential()
                && client.allows(GrantType::ClientCredentials)
                && claims.client_id == claims.sub =>
        {
            Arc::new(client.scopes)
        }
        _ => {
            cache.forget(&key);
            return Err(AuthError::InvalidToken(TokenProblem::UnknownSubject));
        }
    };
    if !held.contains_all(&claims.scope) {
        return Err(AuthError::InvalidToken(TokenProblem::ScopeWithdrawn));
    }
    cache.remember(&key, None, &held);
    Ok(claims)
}
