//! `GET /.well-known/jwks.json` (RFC 7517): the public keys that verify
//! this server's access tokens, for resource servers that verify tokens
//! without the signing key.
//!
//! Mount [`routes`] at `/`:
//!
//! ```
//! use auth_core::Auth;
//!
//! let rocket = rocket::build()
//!     .attach(Auth::fairing())
//!     .mount("/", auth_core::jwks::routes());
//! # let _ = rocket;
//! ```
//!
//! The set holds the signing key's public key and every public
//! verification key, each with `kid`, `alg`, `use: "sig"`, `kty` and the
//! public key material (`n`/`e` for RSA, `crv`/`x` for Ed25519). It never
//! holds a private key or an HMAC secret: anyone who knows an HMAC secret
//! can sign tokens, so a server that signs with `auth_secret` alone
//! publishes `{"keys":[]}`, and its tokens can only be verified by servers
//! that share the secret.
//!
//! Responses carry `Cache-Control: public, max-age=N` (`auth_jwks_max_age`,
//! 300 s by default) and an `ETag`; a request whose `If-None-Match` names
//! the current `ETag` gets `304 Not Modified`. When rotating, keep a
//! removed key's tokens in mind: a resource server may use a cached set
//! for up to `max-age` seconds.

use std::io::Cursor;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rocket::http::{ContentType, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::{self, Responder, Response};
use rocket::{Route, State, get};
use sha2::{Digest as _, Sha256};

use crate::auth::Auth;

/// Where the key set is served.
pub const PATH: &str = "/.well-known/jwks.json";

/// The route serving [`PATH`]; mount it at `/`. Launch fails if the
/// [`Auth`] fairing is not attached.
#[must_use]
pub fn routes() -> Vec<Route> {
    rocket::routes![jwks]
}

/// The published key set, or `304 Not Modified`.
#[get("/.well-known/jwks.json")]
fn jwks(auth: &State<Auth>, if_none_match: IfNoneMatch) -> JwksResponse {
    let IfNoneMatch(tags) = if_none_match;
    JwksResponse::new(auth.tokens(), tags.as_deref())
}

/// The `If-None-Match` header, if any.
struct IfNoneMatch(Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for IfNoneMatch {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(Self(
            request
                .headers()
                .get_one("If-None-Match")
                .map(str::to_owned),
        ))
    }
}

/// The key set as JSON with caching headers, or `304 Not Modified`.
struct JwksResponse {
    /// `None` for 304.
    body: Option<String>,
    etag: String,
    max_age: u64,
}

impl JwksResponse {
    fn new(tokens: &crate::AccessTokens, if_none_match: Option<&str>) -> Self {
        let body =
            serde_json::to_string(&tokens.jwks()).unwrap_or_else(|_| r#"{"keys":[]}"#.into());
        let digest = Sha256::digest(body.as_bytes());
        let etag = format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest[..16]));
        let matches = if_none_match.is_some_and(|header| {
            header
                .split(',')
                .map(|tag| tag.trim().trim_start_matches("W/"))
                .any(|tag| tag == "*" || tag == etag)
        });
        Self {
            body: (!matches).then_some(body),
            etag,
            max_age: tokens.jwks_max_age(),
        }
    }
}

impl<'r> Responder<'r, 'static> for JwksResponse {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let mut response = Response::build();
        response
            .raw_header("Cache-Control", format!("public, max-age={}", self.max_age))
            .raw_header("ETag", self.etag);
        match self.body {
            Some(body) => response
                .header(ContentType::JSON)
                .sized_body(body.len(), Cursor::new(body)),
            None => response.status(Status::NotModified),
        };
        response.ok()
    }
}
