//! The way from an [`AuthError`] to the HTTP answer, in one place.
//!
//! Rocket does not let a failing guard write its own response (it routes
//! the status to a catcher and only logs the error). So guards and data
//! guards [`fail`] with the error *recorded* on the request, and the
//! fairing's response hook ([`render_recorded`]) writes it over whatever
//! catcher ran: status, JSON body, `WWW-Authenticate`, `Cache-Control`.
//! Handlers that return `Err(AuthError)` go through the [`Responder`] below,
//! which writes the same answer.

use std::sync::{Mutex, PoisonError};

use rocket::http::{ContentType, Header};
use rocket::outcome::Outcome;
use rocket::response::{self, Responder};
use rocket::{Request, Response, data, request};

use crate::auth::Auth;
use crate::config::DEFAULT_REALM;
use crate::error::AuthError;

/// The last error a guard of ours failed with on this request.
#[derive(Default)]
struct RecordedError(Mutex<Option<AuthError>>);

fn record(request: &Request<'_>, error: &AuthError) {
    *request
        .local_cache(RecordedError::default)
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = Some(error.clone());
}

/// Fails a request guard with `error`, recording it for the response hook.
pub(crate) fn fail<T>(request: &Request<'_>, error: AuthError) -> request::Outcome<T, AuthError> {
    record(request, &error);
    Outcome::Error((error.status(), error))
}

/// Fails a data guard with `error`, recording it for the response hook.
pub(crate) fn fail_data<'r, T>(
    request: &Request<'_>,
    error: AuthError,
) -> data::Outcome<'r, T, AuthError> {
    record(request, &error);
    Outcome::Error((error.status(), error))
}

/// Writes the recorded error, if it is the one that ended the request, into
/// `response`. The fairing calls it for every response; successful
/// responses never touch the request's local cache.
pub(crate) fn render_recorded(request: &Request<'_>, response: &mut Response<'_>) {
    if response.status().code < 400 {
        return;
    }
    let recorded = request
        .local_cache(RecordedError::default)
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    let Some(error) = recorded else {
        return;
    };
    // Only the failure that actually ended the request is rendered: a guard
    // wrapped in `Option` may have failed without consequence.
    if response.status() == error.status() {
        render(&error, request, response);
    }
}

/// The challenge for `error` with the configured realm (prebuilt in
/// [`Auth`]), or [`DEFAULT_REALM`] without the fairing.
fn challenge_of(error: &AuthError, request: &Request<'_>) -> Option<String> {
    match request.rocket().state::<Auth>() {
        Some(auth) => error.challenge_from(&auth.challenge_prefix),
        None => error.challenge(DEFAULT_REALM),
    }
}

/// Writes `error` into `response`: status, JSON body, the challenge when
/// there is one, and `Cache-Control: no-store`. Server problems are logged
/// here, once, with their detail; the client sees none of it.
fn render(error: &AuthError, request: &Request<'_>, response: &mut Response<'_>) {
    if let AuthError::Server(problem) = error {
        log::error!("auth: {problem}");
    }
    let body = error.body_text();
    response.set_status(error.status());
    response.set_header(ContentType::JSON);
    response.set_header(Header::new("Cache-Control", "no-store"));
    response.set_header(Header::new("Pragma", "no-cache"));
    match challenge_of(error, request) {
        Some(challenge) => {
            response.set_header(Header::new("WWW-Authenticate", challenge));
        }
        None => response.remove_header("WWW-Authenticate"),
    }
    match error.retry_after() {
        Some(seconds) => {
            response.set_header(Header::new("Retry-After", seconds.to_string()));
        }
        None => response.remove_header("Retry-After"),
    }
    response.set_sized_body(body.len(), std::io::Cursor::new(body));
}

/// Answers with the RFC-shaped JSON error, the challenge and
/// `Cache-Control: no-store`. The realm comes from the [`Auth`] state.
impl<'r> Responder<'r, 'static> for AuthError {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let mut response = Response::new();
        render(&self, request, &mut response);
        Ok(response)
    }
}
