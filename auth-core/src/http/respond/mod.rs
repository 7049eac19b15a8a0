//! The way from an [`AuthError`] to the HTTP answer, in one place.
//!
//! Rocket does not let a failing guard write its own response (it routes
//! the status to a catcher and only logs the error). So guards and data
//! guards [`fail`] with the error *recorded* on the request, and the
//! answer is written from the record:
//!
//! * by the catcher the fairing registers for the statuses guards fail with
//!   (see `catcher`), which answers at once and otherwise hands over to the
//!   app's own catcher;
//! * or, when another catcher ran (an app catcher for that status, or one
//!   under a longer base path), by the fairing's response hook
//!   ([`render_recorded`]), which writes it over that catcher's answer.
//!
//! Either way the client sees the same status, JSON body and headers
//! (the challenge, or `Cache-Control: no-store` on token endpoint errors).
//! Handlers that return
//! `Err(AuthError)` go through the [`Responder`] below, which writes the
//! same answer.
//!
//! The answers to the common refusals are prebuilt ([`Answers`]) and
//! borrowed from [`Auth`], so refusing a request allocates nothing here.

mod catcher;

use std::io::Cursor;
use std::sync::{Mutex, PoisonError};

use rocket::http::{ContentType, Header, Status};
use rocket::outcome::Outcome;
use rocket::response::{self, Responder};
use rocket::{Request, Response, data, request};

use crate::auth::Auth;
use crate::config::DEFAULT_REALM;
use crate::error::AuthError;
use crate::error::answers::{Answer, Answers};

pub(crate) use catcher::register_catchers;

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

/// Fails a request guard with `error`, recording it for the answer.
pub(crate) fn fail<T>(request: &Request<'_>, error: AuthError) -> request::Outcome<T, AuthError> {
    record(request, &error);
    Outcome::Error((error.status(), error))
}

/// Fails a data guard with `error`, recording it for the answer.
pub(crate) fn fail_data<'r, T>(
    request: &Request<'_>,
    error: AuthError,
) -> data::Outcome<'r, T, AuthError> {
    record(request, &error);
    Outcome::Error((error.status(), error))
}

/// Takes the recorded error if it is the one that ended the request with
/// `status`: a guard wrapped in `Option` may have failed without
/// consequence, and its error must not answer for another failure.
fn take_recorded(request: &Request<'_>, status: Status) -> Option<AuthError> {
    let mut recorded = request
        .local_cache(RecordedError::default)
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if recorded.as_ref()?.status() == status {
        recorded.take()
    } else {
        None
    }
}

/// The answer to the recorded error of a request that ended with `status`,
/// if a guard of ours ended it.
fn recorded_answer<'r>(request: &'r Request<'_>, status: Status) -> Option<Response<'r>> {
    let error = take_recorded(request, status)?;
    let mut response = Response::new();
    render(&error, request.rocket().state::<Auth>(), &mut response);
    Some(response)
}

/// Writes the recorded error, if it is the one that ended the request and
/// no catcher of ours answered it already, into `response`. The fairing
/// calls it for every response; successful responses never touch the
/// request's local cache.
pub(crate) fn render_recorded<'r>(request: &'r Request<'_>, response: &mut Response<'r>) {
    if response.status().code < 400 {
        return;
    }
    if let Some(error) = take_recorded(request, response.status()) {
        render(&error, request.rocket().state::<Auth>(), response);
    }
}

/// Writes `error` into `response`, with the common answers borrowed from
/// `auth`'s prebuilt [`Answers`] and the realm configured there (without
/// the fairing, [`DEFAULT_REALM`]).
fn render<'r>(error: &AuthError, auth: Option<&'r Auth>, response: &mut Response<'r>) {
    let answers = auth.map(|auth| &auth.answers);
    write(
        error,
        answers.and_then(|answers| answers.prebuilt(error)),
        answers.map(Answers::challenge_prefix),
        response,
    );
}

/// Writes `error` into `response`: status, JSON body, and either the RFC
/// 6750 challenge (errors of protected resources) or `Cache-Control:
/// no-store` (token endpoint errors, RFC 6749 §5.2), plus `Retry-After`
/// when the error carries one; `prebuilt` is its answer written in
/// advance, and `challenge_prefix` the `Bearer realm=".."` of the
/// configured realm. Server problems are logged here, once, with their
/// detail; the client sees none of it.
///
/// Protected-resource errors go without caching headers: a 400, 401 or 403
/// is not cacheable without explicit freshness (RFC 9110 §15.1), and a
/// shared cache does not store answers to requests with `Authorization`
/// (RFC 9111 §3.5). Nor does any error carry `Pragma`, which RFC 6749 asks
/// for on successful token responses only. Every header saved counts here:
/// this is the answer an attacker asks for.
fn write<'r>(
    error: &AuthError,
    prebuilt: Option<&'r Answer>,
    challenge_prefix: Option<&str>,
    response: &mut Response<'r>,
) {
    if let AuthError::Server(problem) = error {
        log::error!("auth: {problem}");
    }
    // Headers set by a catcher that answered first are replaced or removed;
    // a new response has none to remove.
    let fresh = response.headers().is_empty();
    response.set_status(error.status());
    response.set_header(ContentType::JSON);
    if !fresh {
        response.remove_header("Pragma");
    }
    match error.retry_after() {
        Some(seconds) => {
            response.set_header(Header::new("Retry-After", seconds.to_string()));
        }
        None if !fresh => response.remove_header("Retry-After"),
        None => {}
    }
    if let Some(answer) = prebuilt {
        set_challenge(response, answer.challenge.as_deref(), fresh);
        response.set_sized_body(answer.body.len(), Cursor::new(answer.body.as_bytes()));
        return;
    }
    let challenge = match challenge_prefix {
        Some(prefix) => error.challenge_from(prefix),
        None => error.challenge(DEFAULT_REALM),
    };
    set_challenge(response, challenge, fresh);
    if matches!(error, AuthError::InvalidClient) {
        // A token endpoint error that carries a challenge: not stored
        // either (RFC 6749 §5.2).
        response.set_header(Header::new("Cache-Control", "no-store"));
    }
    let body = error.body_text();
    response.set_sized_body(body.len(), Cursor::new(body));
}

/// The challenge, or for an error without one, `Cache-Control: no-store`.
fn set_challenge<'r>(
    response: &mut Response<'r>,
    challenge: Option<impl Into<std::borrow::Cow<'r, str>>>,
    fresh: bool,
) {
    if let Some(challenge) = challenge {
        response.set_header(Header::new("WWW-Authenticate", challenge));
    } else {
        if !fresh {
            response.remove_header("WWW-Authenticate");
        }
        response.set_header(Header::new("Cache-Control", "no-store"));
    }
}

/// Answers with the RFC-shaped JSON error and the challenge, or
/// `Cache-Control: no-store` for token endpoint errors. The realm comes
/// from the [`Auth`] state.
impl<'r> Responder<'r, 'static> for AuthError {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let mut response = Response::new();
        // Written anew rather than borrowed: this response may outlive the
        // request.
        let prefix = request
            .rocket()
            .state::<Auth>()
            .map(|auth| auth.answers.challenge_prefix());
        write(&self, None, prefix, &mut response);
        Ok(response)
    }
}
