//! [`Auth`]: the state every guard and the token endpoint read. Two halves:
//! a [`Verifier`] (keys, token caches, subject checks; every server has one)
//! and an optional [`Issuer`] (stores, hasher, throttling; a resource server
//! has none), plus what both share (declared scopes, realm, event hooks).
//!
//! The token endpoint's methods live in `grant`; the fairing that builds
//! and installs `Auth` lives in `http::fairing`.

use std::fmt;
use std::sync::Arc;

use crate::error::{AuthError, ServerProblem};
use crate::log::events::{AuthEvent, EventHook};
use crate::scopes::{ScopeRegistry, Scopes};
use crate::store::StoreError;
use crate::store::api_keys::{ApiKeyError, ApiKeyRecord, NewApiKey};
use crate::token::{AccessTokenClaims, AccessTokens};

pub(crate) mod api_keys;
pub(crate) mod browser;
mod issuer;
pub(crate) mod subjects;
mod verifier;

use browser::BrowserSessions;
pub use issuer::Issuer;
pub(crate) use verifier::Subjects;
pub use verifier::Verifier;

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
    pub(crate) verifier: Verifier,
    /// `None` on a resource server.
    pub(crate) issuer: Option<Issuer>,
    pub(crate) scopes: ScopeRegistry,
    pub(crate) realm: String,
    /// The answers to common refusals, written once for the realm.
    pub(crate) answers: crate::error::answers::Answers,
    /// The header a trusted proxy puts the client's address in, if any.
    pub(crate) trusted_proxy_header: Option<String>,
    pub(crate) event_hooks: Vec<EventHook>,
    /// Cookie sessions, when enabled (`auth_cookie_sessions`).
    pub(crate) browser: Option<BrowserSessions>,
    /// API keys, when a store for them was given.
    pub(crate) api_keys: Option<api_keys::ApiKeys>,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("verifier", &self.verifier)
            .field("issuer", &self.issuer)
            .field("scopes", &self.scopes)
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// What verifies access tokens (both modes).
    #[must_use]
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// What issues them: stores, hasher, throttling. `None` on a
    /// [resource server](Auth::resource_server).
    #[must_use]
    pub fn issuer(&self) -> Option<&Issuer> {
        self.issuer.as_ref()
    }

    /// The issuer, or the refusal a resource server gives a grant.
    pub(crate) fn issuing(&self) -> Result<&Issuer, AuthError> {
        self.issuer
            .as_ref()
            .ok_or(AuthError::Server(ServerProblem::NotAnIssuer))
    }

    /// Issuing and verifying access tokens.
    #[must_use]
    pub fn tokens(&self) -> &AccessTokens {
        &self.verifier.tokens
    }

    /// The declared scopes.
    #[must_use]
    pub fn scopes(&self) -> &ScopeRegistry {
        &self.scopes
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
    /// [`TokenProblem::SessionEnded`](crate::TokenProblem::SessionEnded); a token carrying a scope the user no
    /// longer holds is refused with [`TokenProblem::ScopeWithdrawn`](crate::TokenProblem::ScopeWithdrawn).
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
        self.verifier.authenticate(token).await
    }

    /// [`Self::authenticate`], sharing the claims with the verified-token
    /// cache instead of copying them.
    pub(crate) async fn authenticate_shared(
        &self,
        token: &str,
    ) -> Result<Arc<AccessTokenClaims>, AuthError> {
        self.verifier.authenticate_shared(token).await
    }

    /// Makes the next request of `username` consult the user store, e.g.
    /// right after disabling or deleting the user; their sessions are asked
    /// about again too.
    pub fn forget_subject(&self, username: &str) {
        self.verifier.forget_subject(username);
        if let Some(keys) = &self.api_keys {
            keys.forget_owner(username);
        }
    }

    /// Makes the next request in the session `sid` (a refresh-token family)
    /// consult the store, e.g. right after revoking the family.
    pub(crate) fn forget_session(&self, sid: &str) {
        self.verifier.forget_session(sid);
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
        self.issuer.is_none()
    }

    /// Creates an API key for `owner`, who must exist, be enabled and hold
    /// every scope in `scopes`; `expires_at` is in seconds since the Unix
    /// epoch (`None`: never). Show [`NewApiKey::expose`] to its owner once;
    /// only its hash is stored.
    ///
    /// # Errors
    ///
    /// [`ApiKeyError`], and [`ApiKeyError::Store`] with
    /// [`StoreError::Backend`] when API keys are not enabled (see
    /// [`AuthFairing::api_keys`](crate::AuthFairing::api_keys)).
    pub async fn create_api_key(
        &self,
        owner: &str,
        name: &str,
        scopes: Scopes,
        expires_at: Option<u64>,
    ) -> Result<NewApiKey, ApiKeyError> {
        self.api_keys()?
            .create(owner, name, scopes, expires_at)
            .await
    }

    /// Revokes the API key `id`; this instance refuses it from the next
    /// request on, other instances within `auth_subject_cache_ttl`.
    /// Returns whether the key exists.
    ///
    /// # Errors
    ///
    /// Backend failures, or API keys not enabled.
    pub async fn revoke_api_key(&self, id: &str) -> Result<bool, StoreError> {
        self.api_keys()?.revoke(id).await
    }

    /// The keys of `username` (`None`: everyone's), never the keys
    /// themselves.
    ///
    /// # Errors
    ///
    /// Backend failures, or API keys not enabled.
    pub async fn list_api_keys(
        &self,
        username: Option<&str>,
    ) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.api_keys()?.store().list_api_keys(username).await
    }

    /// The name of the request header API keys are sent in, when they are
    /// enabled.
    #[must_use]
    pub fn api_key_header(&self) -> Option<&str> {
        self.api_keys.as_ref().map(|keys| keys.header.as_str())
    }

    fn api_keys(&self) -> Result<&api_keys::ApiKeys, StoreError> {
        self.api_keys.as_ref().ok_or_else(|| {
            StoreError::backend(std::io::Error::other(
                "API keys are not enabled: give the fairing an API-key store",
            ))
        })
    }
}
