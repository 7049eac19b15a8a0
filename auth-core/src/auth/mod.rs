//! [`Auth`]: the state every guard and the token endpoint read (keys,
//! stores, hasher, declared scopes, settings), and authentication of a
//! bearer token.
//!
//! The token endpoint's methods live in `grant`; the fairing that builds
//! and installs `Auth` lives in `fairing`.

use std::fmt;
use std::sync::Arc;

use crate::auth::subjects::SubjectCache;
use crate::error::AuthError;
use crate::log::events::{AuthEvent, EventHook};
use crate::password::PasswordHasher;
use crate::resource_server::ResourceServer;
use crate::scopes::ScopeRegistry;
use crate::store::{RefreshTokenStore, UserStore};
use crate::throttle::Throttle;

pub(crate) mod subjects;
use crate::token::{AccessTokenClaims, AccessTokens, TokenProblem, unix_now};

/// Everything the guards and the token endpoint need: keys, stores, hasher,
/// declared scopes and settings. Managed as Rocket state by
/// [`AuthFairing`](crate::AuthFairing); handlers can take `&Auth` (or `&State<Auth>`) as a guard.
///
/// # Example
///
/// ```
/// use auth_core::{Auth, MemoryUserStore, PasswordHasher, Scopes};
/// use rocket::{get, routes};
///
/// #[get("/")]
/// fn index() -> &'static str { "hi" }
///
/// let users = MemoryUserStore::new();
/// let hash = PasswordHasher::new().hash_blocking("secret").unwrap();
/// users.insert_hashed("johndoe", &hash, Scopes::parse("read:items").unwrap(), false);
///
/// let rocket = rocket::build()
///     .attach(Auth::fairing().users(users).scope("read:items", "Read items"))
///     .mount("/", routes![index]);
/// # let _ = rocket;
/// ```
pub struct Auth {
    pub(crate) tokens: AccessTokens,
    pub(crate) hasher: PasswordHasher,
    pub(crate) users: Arc<dyn UserStore>,
    pub(crate) refresh_tokens: Arc<dyn RefreshTokenStore>,
    pub(crate) scopes: ScopeRegistry,
    pub(crate) realm: String,
    /// The answers to common refusals, written once for the realm.
    pub(crate) answers: crate::error::answers::Answers,
    pub(crate) default_client_id: String,
    pub(crate) refresh_ttl: u64,
    pub(crate) refresh_max_age: u64,
    /// Live sessions a user may have; a login beyond ends the oldest.
    pub(crate) max_sessions_per_user: usize,
    pub(crate) subjects: SubjectCache,
    pub(crate) throttle: Throttle,
    /// The header a trusted proxy puts the client's address in, if any.
    pub(crate) trusted_proxy_header: Option<String>,
    pub(crate) event_hooks: Vec<EventHook>,
    /// Set in resource-server mode ([`Auth::resource_server`]): tokens are
    /// only verified, and the user store is never asked.
    pub(crate) resource_server: Option<ResourceServer>,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("tokens", &self.tokens)
            .field("scopes", &self.scopes)
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// Issuing and verifying access tokens.
    #[must_use]
    pub fn tokens(&self) -> &AccessTokens {
        &self.tokens
    }

    /// The password hasher (use it to create users).
    #[must_use]
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// The declared scopes.
    #[must_use]
    pub fn scopes(&self) -> &ScopeRegistry {
        &self.scopes
    }

    /// The user store (in a [resource server](Auth::resource_server), an
    /// empty one that is never consulted).
    #[must_use]
    pub fn users(&self) -> &dyn UserStore {
        self.users.as_ref()
    }

    /// The `realm` of `WWW-Authenticate` challenges.
    #[must_use]
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// Verifies an access token and checks that its subject still exists and
    /// is enabled; returns the token's claims. This is what
    /// [`AuthUser`](crate::AuthUser) runs.
    ///
    /// A token issued in a session (its `sid` claim: the refresh-token
    /// family of a login) also needs the session to be live: after a logout,
    /// a detected refresh-token replay, "log out everywhere" or a password
    /// change, the session's access tokens are refused with
    /// [`TokenProblem::SessionEnded`]; a token carrying a scope the user no
    /// longer holds is refused with [`TokenProblem::ScopeWithdrawn`].
    ///
    /// A subject found enabled, and a session found live, are remembered for
    /// `auth_subject_cache_ttl` seconds (5 by default, 0 to ask the stores on
    /// every request), so the stores are asked once per session per that
    /// time, not once per request: a user disabled or a session ended
    /// elsewhere (another instance, the CLI) loses access within it. What
    /// this instance ends itself (revocation, reuse, logout) takes effect at
    /// once; call [`Auth::forget_subject`] after changing a user outside the
    /// toolkit.
    ///
    /// A [resource server](Auth::resource_server) has no user store: it
    /// verifies the token only (fetching the issuer's keys again when the
    /// token names an unknown `kid`), so a disabled user keeps access there
    /// until the access token expires.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidToken`] for any verification failure,
    /// [`AuthError::Server`] if the user store fails.
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
        if let Some(resource_server) = &self.resource_server {
            return resource_server
                .verify(&self.tokens, token)
                .await
                .map_err(AuthError::InvalidToken);
        }
        let claims = self
            .tokens
            .verify_shared(token)
            .map_err(AuthError::InvalidToken)?;
        let sid = claims.sid.as_deref();
        if self.subjects.is_fresh(&claims.sub, sid, &claims.scope) {
            return Ok(claims);
        }
        let held = match self.users.find_user(&claims.sub).await? {
            Some(user) if !user.disabled => Arc::new(user.scopes),
            _ => {
                self.subjects.forget(&claims.sub);
                return Err(AuthError::InvalidToken(TokenProblem::UnknownSubject));
            }
        };
        if !held.contains_all(&claims.scope) {
            return Err(AuthError::InvalidToken(TokenProblem::ScopeWithdrawn));
        }
        if let Some(sid) = sid {
            let family = self.refresh_tokens.family(sid).await?;
            if !family.is_some_and(|f| f.username == claims.sub && f.is_live(unix_now())) {
                self.subjects.forget_session(sid);
                return Err(AuthError::InvalidToken(TokenProblem::SessionEnded));
            }
        }
        self.subjects.remember(&claims.sub, sid, &held);
        Ok(claims)
    }

    /// Makes the next request of `username` consult the user store, e.g.
    /// right after disabling or deleting the user; their sessions are asked
    /// about again too.
    pub fn forget_subject(&self, username: &str) {
        self.subjects.forget(username);
    }

    /// Makes the next request in the session `sid` (a refresh-token family)
    /// consult the store, e.g. right after revoking the family.
    pub(crate) fn forget_session(&self, sid: &str) {
        self.subjects.forget_session(sid);
    }

    /// Logs `event` as one structured line and passes it to the hooks
    /// registered with [`AuthFairing::on_event`](crate::AuthFairing::on_event).
    pub fn emit(&self, event: &AuthEvent) {
        crate::log::events::emit(&self.event_hooks, event);
    }

    /// Whether this is a resource server ([`Auth::resource_server`]): tokens
    /// are only verified, never issued, and no user store is consulted.
    #[must_use]
    pub fn is_resource_server(&self) -> bool {
        self.resource_server.is_some()
    }
}
