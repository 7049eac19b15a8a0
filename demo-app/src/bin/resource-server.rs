//! A second service that trusts the demo's tokens: a resource server in
//! the sense of OAuth 2.0. It holds no users, no passwords and no signing
//! key; it verifies access tokens with the public keys the demo publishes
//! at `/.well-known/jwks.json`, re-reading them when a token names a key it
//! has not seen (a rotation).
//!
//! ```sh
//! ROCKET_AUTH_AUDIENCE=api cargo run -p demo-app --bin resource-server   # http://127.0.0.1:8001
//! ```
//!
//! Routes: `GET /health`; `GET /reports` (`read:items`); `GET /summary`
//! (optional authentication).
//!
//! Configuration as for the demo (`Rocket.toml`, `ROCKET_*`), with other
//! defaults: port `8001`, and `auth_jwks_url` =
//! `http://127.0.0.1:8000/.well-known/jwks.json` (the demo's).
//! `auth_issuer` must be the demo's (both default to the same value).
//! `auth_audience` has no default here: a resource server refuses to start
//! without an explicit one, so that services left at defaults do not accept
//! each other's tokens. The demo issues tokens for `api` (its default), so
//! set `ROCKET_AUTH_AUDIENCE=api` (or give both the same name). A plain
//! `http://` JWKS URL is only accepted on loopback, unless
//! `auth_jwks_allow_insecure_http = true`.
#![warn(clippy::pedantic)]
#![allow(
    clippy::needless_pass_by_value,
    reason = "Rocket hands request guards such as AuthUser to handlers by value"
)]

use std::process::ExitCode;

use auth_core::{Auth, AuthUser, MaybeUser, protected};
use rocket::figment::providers::{Env, Format as _, Serialized, Toml};
use rocket::figment::{Figment, Profile};
use rocket::serde::json::Json;
use rocket::{Build, Request, Rocket, catch, catchers, get, routes};
use serde_json::{Value, json};

/// Where the resource server listens unless configured otherwise.
const DEFAULT_PORT: u16 = 8001;
/// The demo's JWKS, unless `auth_jwks_url` says otherwise.
const DEFAULT_JWKS_URL: &str = "http://127.0.0.1:8000/.well-known/jwks.json";

/// The reports: two public, the rest for callers with `read:items`.
const REPORTS: [(&str, bool); 4] = [
    ("uptime", true),
    ("release notes", true),
    ("inventory", false),
    ("sales", false),
];

#[get("/health")]
fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Every report, for a caller whose token holds `read:items`.
#[protected(scopes = "read:items")]
#[get("/reports")]
fn reports(user: AuthUser) -> Json<Value> {
    Json(json!({
        "user": user.subject(),
        "reports": REPORTS.iter().map(|(name, _)| *name).collect::<Vec<_>>(),
    }))
}

/// The public reports for anyone; every report for an authenticated
/// caller with `read:items`. An invalid token is refused, never treated as
/// anonymous.
#[get("/summary")]
fn summary(user: MaybeUser) -> Json<Value> {
    let all = user.as_ref().is_some_and(|u| u.has_scope("read:items"));
    let reports: Vec<&str> = REPORTS
        .iter()
        .filter(|(_, public)| *public || all)
        .map(|(name, _)| *name)
        .collect();
    Json(json!({
        "user": user.as_ref().map(AuthUser::subject),
        "reports": reports,
    }))
}

#[catch(default)]
fn default_catcher(status: rocket::http::Status, _: &Request<'_>) -> Json<Value> {
    let error = if status.code == 404 {
        "not_found"
    } else if status.code >= 500 {
        "server_error"
    } else {
        "invalid_request"
    };
    Json(json!({"error": error, "error_description": status.reason_lossy()}))
}

/// Rocket's default figment (`Rocket.toml`, `ROCKET_*`) with this
/// service's defaults underneath.
fn figment() -> Figment {
    let profile = Profile::from_env_or("ROCKET_PROFILE", rocket::Config::DEFAULT_PROFILE);
    Figment::from(rocket::Config::default())
        .merge(Serialized::defaults(json!({
            "port": DEFAULT_PORT,
            "auth_jwks_url": DEFAULT_JWKS_URL,
        })))
        .merge(Toml::file(Env::var_or("ROCKET_CONFIG", "Rocket.toml")).nested())
        .merge(Env::prefixed("ROCKET_").ignore(&["PROFILE"]).global())
        .select(profile)
}

/// The resource server, configured by `figment`.
fn rocket(figment: Figment) -> Rocket<Build> {
    rocket::custom(figment)
        .attach(Auth::resource_server().scope("read:items", "Read items"))
        .mount("/", routes![health, reports, summary])
        .register("/", catchers![default_catcher])
}

fn main() -> ExitCode {
    let _ = auth_core::install_logger();
    match rocket::execute(rocket(figment()).launch()) {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            let abort = error.pretty_print();
            eprintln!("error: {abort}");
            ExitCode::FAILURE
        }
    }
}
