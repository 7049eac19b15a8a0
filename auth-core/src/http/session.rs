//! The browser-session endpoints (contract §11), mounted by the fairing when
//! `auth_cookie_sessions` is on:
//!
//! | route | does |
//! |---|---|
//! | `POST /session` | the password grant; the tokens go into cookies |
//! | `GET /session` | who is logged in, and the CSRF token |
//! | `POST /session/refresh` | rotates the refresh cookie (same family and reuse rules as `/token`) |
//! | `DELETE /session` | revokes the family, ends its access tokens, clears the cookies |
//!
//! Each answers JSON without any token: `username`, `scope`, `expires_in`
//! (seconds the access cookie has left) and `csrf_token` (send it as
//! `X-CSRF-Token` on unsafe requests). Throttling, hashing admission, events
//! and the stores' rotation semantics are the password and refresh grants'
//! own: these routes call them.

use std::sync::Arc;

use rocket::http::{CookieJar, Header, Status};
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest};
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use rocket::{Request, Route, State};
use serde::Serialize;

use crate::auth::Auth;
use crate::auth::browser::BrowserSessions;
use crate::error::{AuthError, GrantProblem, ServerProblem};
use crate::grant::{PasswordRequestForm, RefreshRequestForm, TokenResponse};
use crate::http::client_address::ClientAddress;
use crate::http::cookies::{check_origin, clear_session, set_session};
use crate::http::respond::fail;
use crate::password::Password;
use crate::scopes::Scopes;
use crate::token::{AccessTokenClaims, unix_now};

/// The routes, for the fairing to mount at `/`.
pub(crate) fn routes() -> Vec<Route> {
    rocket::routes![login, current, refresh, logout]
}

/// What the page learns about its session: never a token.
#[derive(Debug, Serialize)]
struct SessionInfo {
    username: String,
    scope: Scopes,
    expires_in: u64,
    csrf_token: String,
}

/// A JSON answer that must not be cached.
struct NoStore<T>(T);

impl<'r, T: Responder<'r, 'static>> Responder<'r, 'static> for NoStore<T> {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let mut response = self.0.respond_to(request)?;
        response.set_header(Header::new("Cache-Control", "no-store"));
        Ok(response)
    }
}

/// The cookie sessions of this server; the routes are mounted only with
/// them, so their absence is a server misconfiguration.
fn browser(auth: &Auth) -> Result<&BrowserSessions, AuthError> {
    auth.browser
        .as_ref()
        .ok_or(AuthError::Server(ServerProblem::NotConfigured))
}

/// A request whose `Origin` is this server's or an allowed one; for the
/// login, also a request without `Origin` (a script, not a browser page).
struct SameOrigin;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SameOrigin {
    type Error = AuthError;

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, AuthError> {
        let Some(browser) = request
            .rocket()
            .state::<Auth>()
            .and_then(|auth| auth.browser.as_ref())
        else {
            return fail(request, AuthError::Server(ServerProblem::NotConfigured));
        };
        // Browsers send `Origin` on every POST and DELETE; only the login
        // may come without one (from a script, which cannot ride a victim's
        // cookies).
        let absent_ok = request.uri().path() == "/session" && request.method().as_str() == "POST";
        match check_origin(request, browser, absent_ok) {
            Ok(()) => Outcome::Success(SameOrigin),
            Err(problem) => fail(request, AuthError::CrossSite(problem)),
        }
    }
}

/// The session's info from a token this server just issued or verified.
fn info(browser: &BrowserSessions, claims: &AccessTokenClaims) -> SessionInfo {
    SessionInfo {
        username: claims.sub.clone(),
        scope: claims.scope.clone(),
        expires_in: claims.exp.saturating_sub(unix_now()),
        csrf_token: claims
            .sid
            .as_deref()
            .map(|sid| browser.csrf_token(sid))
            .unwrap_or_default(),
    }
}

/// Puts a fresh token pair into the cookies and describes the session.
fn start(
    auth: &Auth,
    jar: &CookieJar<'_>,
    browser: &BrowserSessions,
    tokens: TokenResponse,
) -> Result<Json<SessionInfo>, AuthError> {
    let claims: Arc<AccessTokenClaims> = auth
        .tokens()
        .verify_shared(&tokens.access_token)
        .map_err(AuthError::InvalidToken)?;
    let refresh_ttl = auth.issuing()?.refresh_ttl;
    set_session(
        jar,
        browser,
        tokens.access_token,
        tokens.expires_in,
        tokens.refresh_token,
        refresh_ttl,
    );
    Ok(Json(info(browser, &claims)))
}

/// Logs in with a form (`username`, `password`, optional `scope`).
#[rocket::post("/session", data = "<form>")]
async fn login(
    _origin: SameOrigin,
    form: PasswordRequestForm,
    auth: &State<Auth>,
    jar: &CookieJar<'_>,
) -> Result<NoStore<Json<SessionInfo>>, AuthError> {
    let browser = browser(auth)?;
    let address = form.client_address;
    let tokens = auth.password_grant(form).await?;
    // A session this browser still had ends: one session per browser.
    if let Some(previous) = jar.get(&browser.refresh_name).map(|c| c.value().to_owned()) {
        auth.revoke_from(&previous, address).await?;
    }
    start(auth, jar, browser, tokens).map(NoStore)
}

/// The current session, from the access cookie.
#[rocket::get("/session")]
async fn current(
    auth: &State<Auth>,
    jar: &CookieJar<'_>,
) -> Result<NoStore<Json<SessionInfo>>, AuthError> {
    let browser = browser(auth)?;
    let Some(token) = jar.get(&browser.access_name).map(|c| c.value().to_owned()) else {
        return Err(AuthError::MissingCredentials);
    };
    let claims = auth.authenticate_shared(&token).await?;
    Ok(NoStore(Json(info(browser, &claims))))
}

/// Rotates the refresh cookie. A failure clears both cookies: the session
/// is over (expired, revoked, or replayed, which revokes the family).
#[rocket::post("/session/refresh")]
async fn refresh(
    _origin: SameOrigin,
    auth: &State<Auth>,
    jar: &CookieJar<'_>,
    address: ClientAddress,
) -> Result<NoStore<Json<SessionInfo>>, NoStore<AuthError>> {
    let browser = browser(auth).map_err(NoStore)?;
    let Some(presented) = jar.get(&browser.refresh_name).map(|c| c.value().to_owned()) else {
        clear_session(jar, browser);
        return Err(NoStore(AuthError::InvalidGrant(GrantProblem::NoSession)));
    };
    let form = RefreshRequestForm {
        refresh_token: Password::new(presented),
        scopes: None,
        client_id: None,
        client_secret: None,
        client_address: address.0,
    };
    match auth.refresh_grant(form).await {
        Ok(tokens) => start(auth, jar, browser, tokens)
            .map(NoStore)
            .map_err(NoStore),
        Err(e) => {
            if e.status() != Status::InternalServerError {
                clear_session(jar, browser);
            }
            Err(NoStore(e))
        }
    }
}

/// Logs out: revokes the family named by the refresh cookie (or, without
/// it, by the access cookie's session), which also ends the session's
/// access tokens, and clears both cookies.
#[rocket::delete("/session")]
async fn logout(
    _origin: SameOrigin,
    auth: &State<Auth>,
    jar: &CookieJar<'_>,
    address: ClientAddress,
) -> Result<NoStore<Status>, AuthError> {
    let browser = browser(auth)?;
    let address = address.0;
    if let Some(refresh_token) = jar.get(&browser.refresh_name).map(|c| c.value().to_owned()) {
        auth.revoke_from(&refresh_token, address).await?;
    } else if let Some(access) = jar.get(&browser.access_name).map(|c| c.value().to_owned())
        && let Ok(claims) = auth.tokens().verify_shared(&access)
        && let Some(sid) = claims.sid.as_deref()
    {
        auth.end_session(&claims.sub, sid, address).await?;
    }
    clear_session(jar, browser);
    Ok(NoStore(Status::NoContent))
}
