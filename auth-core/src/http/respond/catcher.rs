//! The catcher the fairing registers for the statuses auth guards fail
//! with, so that a refused request is answered once, from its recorded
//! error, instead of by the app's catcher and then again by the fairing.
//!
//! It is registered at `/` for each of [`GUARD_STATUSES`] the app has no
//! catcher of its own for at `/`. A request that no guard of ours refused
//! goes on to the app's default catcher at `/` (or Rocket's), so the app
//! sees no difference. An app catcher for one of these statuses, or any
//! catcher under a longer base path, keeps precedence; the fairing's
//! response hook then writes the auth answer over what it produced, as
//! before.

use rocket::catcher::{self, Catcher, Handler};
use rocket::http::Status;
use rocket::{Build, Request, Rocket};

/// What auth guards fail with: 400 `invalid_request`, 401, 403
/// `insufficient_scope` (data guards of the token endpoint fail with 400).
pub(crate) const GUARD_STATUSES: [u16; 3] = [400, 401, 403];

/// The name the catcher has in Rocket's log.
pub(crate) const NAME: &str = "auth-core";

/// Answers the recorded auth error, or hands over to `fallback`.
#[derive(Clone)]
struct AuthCatcher {
    fallback: Catcher,
}

#[rocket::async_trait]
impl Handler for AuthCatcher {
    async fn handle<'r>(&self, status: Status, request: &'r Request<'_>) -> catcher::Result<'r> {
        match super::recorded_answer(request, status) {
            Some(response) => Ok(response),
            None => self.fallback.handler.handle(status, request).await,
        }
    }
}

/// `rocket` with the auth catcher registered at `/` for every status of
/// [`GUARD_STATUSES`] that has no catcher at `/` yet.
pub(crate) fn register_catchers(rocket: Rocket<Build>) -> Rocket<Build> {
    let at_root = |catcher: &&Catcher| catcher.base.path() == "/";
    let fallback = rocket
        .catchers()
        .filter(at_root)
        .find(|catcher| catcher.code.is_none())
        .cloned()
        .unwrap_or_default();
    let taken: Vec<u16> = rocket
        .catchers()
        .filter(at_root)
        .filter_map(|catcher| catcher.code)
        .collect();
    let ours: Vec<Catcher> = GUARD_STATUSES
        .into_iter()
        .filter(|code| !taken.contains(code))
        .map(|code| {
            let mut catcher = Catcher::new(
                code,
                AuthCatcher {
                    fallback: fallback.clone(),
                },
            );
            catcher.name = Some(NAME.into());
            catcher
        })
        .collect();
    rocket.register("/", ours)
}
