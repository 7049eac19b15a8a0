//! The demo's browser page, `GET /app`: sign in with a cookie session
//! (`/session`), list and create items, sign out.
//!
//! The page is plain HTML, CSS and JavaScript from `static/app/`, compiled
//! into the binary. Every asset is served under [`APP_CSP`], which allows
//! nothing but the page's own files and requests to the demo itself: no
//! inline script or style, no `eval`, no framing. `X-Content-Type-Options:
//! nosniff` comes from Rocket's `Shield`, which answers every response with
//! it unless a response already has one.

use std::io::Cursor;

use rocket::http::{ContentType, Status};
use rocket::response::{self, Responder, Response};
use rocket::{Request, Route, get, routes};

/// The `Content-Security-Policy` of the page and of each of its assets.
pub(crate) const APP_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                                  connect-src 'self'; img-src 'self'; form-action 'self'; \
                                  frame-ancestors 'none'; base-uri 'none'";

/// The page.
const INDEX_HTML: &str = include_str!("../static/app/index.html");
/// The page's script: every request it makes and everything it shows.
const APP_JS: &str = include_str!("../static/app/app.js");
/// The page's style sheet.
const APP_CSS: &str = include_str!("../static/app/app.css");
/// The page's icon, so that browsers need not ask for `/favicon.ico`.
const ICON_SVG: &str = include_str!("../static/app/icon.svg");

/// The routes of the page and its assets, to mount at `/`.
pub(crate) fn routes() -> Vec<Route> {
    routes![index, script, style, icon]
}

/// One of the page's files, with the headers every one of them carries.
struct Asset {
    /// The file's content.
    body: &'static str,
    /// Its media type.
    content_type: ContentType,
    /// Its `Cache-Control`: the page is never stored; the assets may be
    /// kept but are checked again on every use, so that a new binary's
    /// files are picked up at once.
    cache_control: &'static str,
}

impl<'r> Responder<'r, 'static> for Asset {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        Response::build()
            .status(Status::Ok)
            .header(self.content_type)
            .raw_header("Content-Security-Policy", APP_CSP)
            .raw_header("Referrer-Policy", "no-referrer")
            .raw_header("Cache-Control", self.cache_control)
            .sized_body(self.body.len(), Cursor::new(self.body))
            .ok()
    }
}

/// The page: a sign-in form, or the signed-in user's items.
#[get("/app")]
fn index() -> Asset {
    Asset {
        body: INDEX_HTML,
        content_type: ContentType::HTML,
        cache_control: "no-store",
    }
}

/// The page's script.
#[get("/app/app.js")]
fn script() -> Asset {
    Asset {
        body: APP_JS,
        content_type: ContentType::JavaScript,
        cache_control: "no-cache",
    }
}

/// The page's style sheet.
#[get("/app/app.css")]
fn style() -> Asset {
    Asset {
        body: APP_CSS,
        content_type: ContentType::CSS,
        cache_control: "no-cache",
    }
}

/// The page's icon.
#[get("/app/icon.svg")]
fn icon() -> Asset {
    Asset {
        body: ICON_SVG,
        content_type: ContentType::SVG,
        cache_control: "no-cache",
    }
}
