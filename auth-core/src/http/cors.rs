//! CORS for the origins in `auth_cookie_allowed_origins`: an app served
//! from another origin of the same site (`https://app.example.com` calling
//! `https://api.example.com`) may send credentialed requests, cookies
//! included, and read the answers. Every other origin gets no CORS headers,
//! so browsers keep its pages from reading anything.
//!
//! The origin is echoed, never `*` (browsers refuse `*` with credentials,
//! and the configuration refuses wildcards), with `Vary: Origin` so caches
//! keep answers apart.

use rocket::http::{Header, Method, Status};
use rocket::route::{Handler, Outcome};
use rocket::{Data, Request, Response, Route};

use crate::auth::Auth;
use crate::auth::browser::CSRF_HEADER;

/// How long a browser may keep a preflight's answer, in seconds.
const PREFLIGHT_MAX_AGE: &str = "600";

/// The origin of `request` if it is an allowed one.
fn allowed_origin<'r>(request: &'r Request<'_>) -> Option<&'r str> {
    let browser = request.rocket().state::<Auth>()?.browser.as_ref()?;
    if browser.allowed_origins.is_empty() {
        return None;
    }
    request
        .headers()
        .get_one("Origin")
        .filter(|origin| browser.allows_origin(origin))
}

/// Adds the CORS headers of an allowed origin to any answer.
pub(crate) fn add_headers(request: &Request<'_>, response: &mut Response<'_>) {
    let Some(origin) = allowed_origin(request) else {
        return;
    };
    response.set_header(Header::new(
        "Access-Control-Allow-Origin",
        origin.to_owned(),
    ));
    response.set_header(Header::new("Access-Control-Allow-Credentials", "true"));
    response.adjoin_header(Header::new("Vary", "Origin"));
}

/// Answers preflight requests (`OPTIONS` with
/// `Access-Control-Request-Method`) from allowed origins: 204 with the
/// methods and the headers a page sends (`Content-Type`, the CSRF header).
/// Others get 403; the headers are added by the fairing's response hook.
#[derive(Clone)]
struct Preflight;

#[rocket::async_trait]
impl Handler for Preflight {
    async fn handle<'r>(&self, request: &'r Request<'_>, data: Data<'r>) -> Outcome<'r> {
        if request
            .headers()
            .get_one("Access-Control-Request-Method")
            .is_none()
        {
            return Outcome::forward(data, Status::NotFound);
        }
        if allowed_origin(request).is_none() {
            return Outcome::Success(Response::build().status(Status::Forbidden).finalize());
        }
        let response = Response::build()
            .status(Status::NoContent)
            .header(Header::new(
                "Access-Control-Allow-Methods",
                "GET, HEAD, POST, PUT, PATCH, DELETE",
            ))
            .header(Header::new(
                "Access-Control-Allow-Headers",
                format!("Content-Type, {CSRF_HEADER}"),
            ))
            .header(Header::new("Access-Control-Max-Age", PREFLIGHT_MAX_AGE))
            .finalize();
        Outcome::Success(response)
    }
}

/// The preflight route, for every path; the app's own `OPTIONS` routes
/// (rank below 100) come first.
pub(crate) fn routes() -> Vec<Route> {
    vec![Route::ranked(100, Method::Options, "/<_..>", Preflight)]
}
