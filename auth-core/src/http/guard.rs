//! Request guards: [`AuthUser`], [`MaybeUser`], [`BearerToken`], and the
//! guard `#[protected]` injects.
//!
//! A request's `Authorization` header is parsed and its token verified at
//! most once, whatever number of guards ask; the result is kept in the
//! request's local cache.
//!
//! A failing guard records its [`AuthError`] on the request (see
//! `respond`), and the [`crate::Auth`] fairing renders it (status,
//! `WWW-Authenticate`, JSON body) on the way out, so an app needs no
//! catchers of its own.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use rocket::Request;
use rocket::http::Header;
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest};

use crate::auth::Auth;
use crate::bearer::extract_bearer;
use crate::error::{AuthError, RequestProblem, ServerProblem};
use crate::http::cookies;
use crate::http::respond::fail;
use crate::scopes::{Scope, Scopes};
use crate::token::AccessTokenClaims;

/// The authenticated caller: a request guard that requires a valid access
/// token whose subject still exists and is enabled.
///
/// | request | outcome |
/// |---|---|
/// | no `Authorization` header, or not `Bearer` | 401, `WWW-Authenticate: Bearer realm=".."` |
/// | `Bearer` with an empty token, several `Authorization` headers | 400 `invalid_request` |
/// | malformed, forged, expired or otherwise invalid token | 401 `invalid_token` |
/// | valid token | the handler runs with the caller |
/// | with [cookie sessions](crate::AuthFairing::cookie_sessions): the access cookie instead of the header | as the header; an unsafe method (not GET, HEAD, OPTIONS) also needs a same-origin `Origin` and the session's `X-CSRF-Token`, else 403 `access_denied` |
/// | the header and the access cookie | 400 `invalid_request` |
/// | with [API keys](crate::AuthFairing::api_keys): a key in `X-API-Key` (`auth_api_key_header`) | as a token of the key's owner with the key's scopes the owner still holds; no CSRF check; a bad, revoked or expired key is 401 `invalid_token` |
/// | a key and the `Authorization` header or the access cookie, an empty key, several key headers | 400 `invalid_request` |
///
/// Scopes are not checked here: use `#[protected(scopes = "...")]`, or
/// [`AuthUser::require`].
///
/// For optional authentication take [`MaybeUser`], not `Option<AuthUser>`:
/// Rocket turns every failure of an `Option` guard into `None`, so a forged
/// or expired token would silently become an anonymous request.
///
/// # Example
///
/// ```
/// use auth_core::AuthUser;
/// use rocket::get;
///
/// #[get("/whoami")]
/// fn whoami(user: AuthUser) -> String {
///     format!("{} with {}", user.subject(), user.scopes())
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    /// Shared: every guard of a request clones the cached user.
    claims: Arc<AccessTokenClaims>,
    /// Whether the caller sent an API key rather than a token.
    api_key: bool,
}

impl AuthUser {
    pub(crate) fn new(claims: Arc<AccessTokenClaims>) -> Self {
        Self {
            claims,
            api_key: false,
        }
    }

    /// The caller of an API key: claims made from the key (see the
    /// crate's "API keys" section).
    pub(crate) fn from_api_key(claims: Arc<AccessTokenClaims>) -> Self {
        Self {
            claims,
            api_key: true,
        }
    }

    /// The id of the API key the caller sent, or `None` for a token.
    #[must_use]
    pub fn api_key_id(&self) -> Option<&str> {
        self.api_key.then_some(self.claims.jti.as_str())
    }

    /// The username (`sub` claim), or for a [client](Self::is_client) its
    /// client id.
    #[must_use]
    pub fn subject(&self) -> &str {
        &self.claims.sub
    }

    /// Whether the caller is a client on its own behalf (a token of the
    /// client-credentials grant) rather than a user: then
    /// [`subject`](Self::subject) is the client id, and no user of that
    /// name is implied.
    #[must_use]
    pub fn is_client(&self) -> bool {
        self.claims.is_client()
    }

    /// The username, if the caller is a user (not a
    /// [client](Self::is_client)).
    #[must_use]
    pub fn username(&self) -> Option<&str> {
        (!self.is_client()).then_some(self.claims.sub.as_str())
    }

    /// The scopes granted to the token.
    #[must_use]
    pub fn scopes(&self) -> &Scopes {
        &self.claims.scope
    }

    /// Whether the token holds `scope`.
    #[must_use]
    pub fn has_scope(&self, scope: &str) -> bool {
        self.claims.scope.contains(scope)
    }

    /// Every claim of the access token.
    #[must_use]
    pub fn claims(&self) -> &AccessTokenClaims {
        &self.claims
    }

    /// Checks scopes inside a handler, for decisions `#[protected]` cannot
    /// make statically.
    ///
    /// # Errors
    ///
    /// [`AuthError::InsufficientScope`] (403) listing `required`.
    pub fn require(&self, required: &Scopes) -> Result<(), AuthError> {
        if self.claims.scope.contains_all(required) {
            Ok(())
        } else {
            Err(AuthError::InsufficientScope {
                required: required.clone(),
            })
        }
    }
}

/// Optional authentication (FastAPI's `auto_error=False`, done safely).
///
/// * no `Authorization` header, or a scheme other than `Bearer`:
///   `MaybeUser(None)`; the route runs anonymously;
/// * a valid token: `MaybeUser(Some(user))`;
/// * a token that is present but invalid or expired: rejected exactly as
///   [`AuthUser`] rejects it, never downgraded to anonymous.
///
/// Prefer it to `Option<AuthUser>`, which Rocket turns into `None` on *any*
/// failure, forged tokens included.
///
/// # Example
///
/// ```
/// use auth_core::MaybeUser;
/// use rocket::get;
///
/// #[get("/greeting")]
/// fn greeting(user: MaybeUser) -> String {
///     match user.0 {
///         Some(user) => format!("hello {}", user.subject()),
///         None => "hello stranger".to_owned(),
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaybeUser(pub Option<AuthUser>);

impl MaybeUser {
    /// The caller, if authenticated.
    #[must_use]
    pub fn into_inner(self) -> Option<AuthUser> {
        self.0
    }

    /// The caller, if authenticated.
    #[must_use]
    pub fn as_ref(&self) -> Option<&AuthUser> {
        self.0.as_ref()
    }
}

/// The raw bearer token of the request, unverified: the equivalent of
/// FastAPI's `oauth2_scheme` dependency, for apps that verify tokens
/// themselves.
///
/// Fails like [`AuthUser`] for a missing, empty or malformed token. As
/// `Option<BearerToken>` every failure becomes `None` (FastAPI's
/// `auto_error=False`).
///
/// `Debug` does not show the token.
///
/// # Example
///
/// ```
/// use auth_core::BearerToken;
/// use rocket::get;
///
/// #[get("/raw")]
/// fn raw(token: Option<BearerToken>) -> &'static str {
///     if token.is_some() { "got a token" } else { "no token" }
/// }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken(String);

impl BearerToken {
    /// The token. Do not log it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

/// The request's bearer token: [`extract_bearer`] over the values of its
/// `Authorization` header (RFC 9110 §11.6.2).
///
/// Rocket's `HeaderMap::get` hashes the name case-insensitively, one `SipHash`
/// call per byte, which cost more than the rest of a cached token's check.
/// Comparing the names of the few headers a request carries is cheaper; a
/// request with several `Authorization` headers (refused) takes the general
/// path. `HeaderMap::iter` lends every value; were one ever owned, it could
/// not outlive the iteration, so that case takes the general path too.
fn bearer<'r>(request: &'r Request<'_>) -> Result<Option<&'r str>, AuthError> {
    let headers = request.headers();
    let mut named = headers.iter().filter(|h| h.name == "Authorization");
    match (named.next(), named.next()) {
        (None, _) => extract_bearer(None),
        (
            Some(Header {
                value: Cow::Borrowed(value),
                ..
            }),
            None,
        ) => extract_bearer(Some(value)),
        _ => extract_bearer(headers.get("Authorization")),
    }
}

/// The request's API key, from the header `name`: `None` without one, 400
/// for an empty value or several headers. Compares names as [`bearer`]
/// does.
fn api_key<'r>(request: &'r Request<'_>, name: &str) -> Result<Option<&'r str>, AuthError> {
    let mut named = request.headers().iter().filter(|h| h.name == name);
    let key = match (named.next(), named.next()) {
        (None, _) => return Ok(None),
        (
            Some(Header {
                value: Cow::Borrowed(value),
                ..
            }),
            None,
        ) => Some(value),
        (Some(_), None) => request.headers().get_one(name),
        _ => None,
    };
    match key {
        Some(key) if !key.is_empty() => Ok(Some(key)),
        _ => Err(AuthError::InvalidRequest(
            RequestProblem::MalformedApiKeyHeader,
        )),
    }
}

/// The outcome of authenticating a request, computed once per request.
struct Authentication(Result<Option<AuthUser>, AuthError>);

/// Parses and verifies the request's credentials, once per request: the
/// `Authorization` header, or, with cookie sessions, the access cookie
/// (then unsafe methods also pass the CSRF check); both at once are
/// refused.
async fn authenticate<'r>(request: &'r Request<'_>) -> &'r Result<Option<AuthUser>, AuthError> {
    let cached = request
        .local_cache_async(async {
            let result = async {
                let Some(auth) = request.rocket().state::<Auth>() else {
                    return Err(AuthError::Server(ServerProblem::NotConfigured));
                };
                let header = bearer(request)?;
                let browser = auth.browser.as_ref();
                let cookie = browser.and_then(|b| cookies::value(request, &b.access_name));
                if let Some(keys) = &auth.api_keys
                    && let Some(key) = api_key(request, &keys.header)?
                {
                    // Not an ambient credential: no CSRF check.
                    if header.is_some() || cookie.is_some() {
                        return Err(AuthError::InvalidRequest(
                            RequestProblem::ApiKeyAndOtherCredential,
                        ));
                    }
                    let claims = keys.authenticate(key).await?;
                    return Ok(Some(AuthUser::from_api_key(claims)));
                }
                match (header, cookie, browser) {
                    (Some(_), Some(_), _) => {
                        Err(AuthError::InvalidRequest(RequestProblem::TwoCredentials))
                    }
                    (Some(token), None, _) => auth
                        .authenticate_shared(token)
                        .await
                        .map(|claims| Some(AuthUser::new(claims))),
                    (None, Some(token), Some(browser)) => {
                        let claims = auth.authenticate_shared(token).await?;
                        cookies::check_csrf(request, browser, claims.sid.as_deref())?;
                        Ok(Some(AuthUser::new(claims)))
                    }
                    (None, _, _) => Ok(None),
                }
            };
            Authentication(result.await)
        })
        .await;
    &cached.0
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for AuthUser {
    type Error = AuthError;

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, AuthError> {
        match authenticate(request).await {
            Ok(Some(user)) => Outcome::Success(user.clone()),
            Ok(None) => fail(request, AuthError::MissingCredentials),
            Err(e) => fail(request, e.clone()),
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for MaybeUser {
    type Error = AuthError;

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, AuthError> {
        match authenticate(request).await {
            Ok(user) => Outcome::Success(MaybeUser(user.clone())),
            Err(e) => fail(request, e.clone()),
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for BearerToken {
    type Error = AuthError;

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, AuthError> {
        match bearer(request) {
            Ok(Some(token)) => Outcome::Success(BearerToken(token.to_owned())),
            Ok(None) => fail(request, AuthError::MissingCredentials),
            Err(e) => fail(request, e),
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for &'r Auth {
    type Error = AuthError;

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, AuthError> {
        match request.rocket().state::<Auth>() {
            Some(auth) => Outcome::Success(auth),
            None => fail(request, AuthError::Server(ServerProblem::NotConfigured)),
        }
    }
}

/// The scopes a `#[protected]` handler requires. Implemented by the macro.
///
/// A request passes when its token holds every scope of [`Self::SCOPES`]
/// and every scope of at least one alternative of [`Self::ANY_OF`].
#[doc(hidden)]
pub trait RequiredScopes: Send + Sync + 'static {
    /// Scopes every request needs.
    const SCOPES: &'static [&'static str];
    /// Alternatives of `any(...)`, in the order written: one of them must
    /// be held in full, on top of [`Self::SCOPES`]. Without `any`, the one
    /// empty alternative.
    const ANY_OF: &'static [&'static [&'static str]] = &[&[]];
}

/// Whether `user` holds what `S` requires. Allocates nothing.
fn holds<S: RequiredScopes>(user: &AuthUser) -> bool {
    let has = |scope: &&str| user.has_scope(scope);
    S::SCOPES.iter().all(has)
        && S::ANY_OF
            .iter()
            .any(|alternative| alternative.iter().all(has))
}

/// The scopes of each alternative of `S`, [`RequiredScopes::SCOPES`]
/// included, in the order written.
fn alternatives<S: RequiredScopes>() -> impl Iterator<Item = Scopes> {
    S::ANY_OF.iter().map(|alternative| {
        // `#[protected]` validated every scope at compile time.
        S::SCOPES
            .iter()
            .chain(alternative.iter())
            .map(|s| Scope::validated(s))
            .collect()
    })
}

/// The refusal of a token that lacks what `S` requires.
fn insufficient<S: RequiredScopes>() -> AuthError {
    let mut alternatives: Vec<Scopes> = alternatives::<S>().collect();
    if alternatives.len() == 1 {
        AuthError::InsufficientScope {
            required: alternatives.remove(0),
        }
    } else {
        AuthError::InsufficientScopeAnyOf { alternatives }
    }
}

/// `#[protected]` without scopes.
#[doc(hidden)]
pub struct NoScopes;

impl RequiredScopes for NoScopes {
    const SCOPES: &'static [&'static str] = &[];
}

/// The request guard `#[protected]` inserts as a handler's first
/// parameter; to call a protected handler directly in a test, pass
/// [`Protected::for_tests()`].
///
/// Over HTTP it requires a valid access token whose subject exists and is
/// enabled, holding every scope the attribute lists (`S` carries them).
///
/// | request | outcome |
/// |---|---|
/// | no `Authorization` header, or not `Bearer` | 401, `WWW-Authenticate: Bearer realm=".."` |
/// | `Bearer` with an empty token, several `Authorization` headers | 400 `invalid_request` |
/// | malformed, forged, expired or otherwise invalid token | 401 `invalid_token` |
/// | valid token without every listed scope (or, with `any(...)`, without every scope of any alternative) | 403 `insufficient_scope` |
/// | valid token with every listed scope (and one alternative in full) | the handler runs |
/// | the access cookie (cookie sessions) | as the header, plus the CSRF check on unsafe methods (403 `access_denied`) |
/// | the header and the access cookie | 400 `invalid_request` |
/// | with [API keys](crate::AuthFairing::api_keys): a key in `X-API-Key` (`auth_api_key_header`) | as a token of the key's owner with the key's scopes the owner still holds; no CSRF check; a bad, revoked or expired key is 401 `invalid_token` |
/// | a key and the `Authorization` header or the access cookie, an empty key, several key headers | 400 `invalid_request` |
///
/// You never write this type in a route: see [`macro@crate::protected`] for
/// the exact rewrite. You meet it when calling a protected handler
/// directly, where [`Protected::for_tests`] makes the argument.
pub struct Protected<S: RequiredScopes>(pub(crate) PhantomData<S>);

#[rocket::async_trait]
impl<'r, S: RequiredScopes> FromRequest<'r> for Protected<S> {
    type Error = AuthError;

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, AuthError> {
        match authenticate(request).await {
            Ok(Some(user)) if holds::<S>(user) => Outcome::Success(Protected(PhantomData)),
            Ok(Some(_)) => fail(request, insufficient::<S>()),
            Ok(None) => fail(request, AuthError::MissingCredentials),
            Err(e) => fail(request, e.clone()),
        }
    }
}
