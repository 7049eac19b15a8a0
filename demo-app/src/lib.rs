#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![warn(clippy::pedantic)]
#![allow(
    clippy::needless_pass_by_value,
    reason = "Rocket hands request guards such as AuthUser to handlers by value"
)]

use auth_core::database::{Database, PoolSettings, redact_url};
use auth_core::{Auth, AuthConfig, ScopeRegistry};
use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::{Build, Rocket};
use serde::Deserialize;

mod app_page;
mod db;
mod errors;
mod openapi;
mod routes;

pub use db::migrate;

/// The scopes the demo declares, with their descriptions.
pub const SCOPES: [(&str, &str); 3] = [
    ("read:items", "Read items"),
    ("write:items", "Create items"),
    ("admin", "Full access"),
];

/// The database used when `database_url` is not configured.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://demo.db";

/// The demo's own settings, read from Rocket's configuration beside Rocket's
/// and auth-core's keys.
#[derive(Debug, Deserialize)]
#[serde(default)]
struct DemoConfig {
    /// `database_url` in `Rocket.toml`, `ROCKET_DATABASE_URL` in the
    /// environment.
    database_url: String,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            database_url: DEFAULT_DATABASE_URL.to_owned(),
        }
    }
}

/// The database URL configured in `figment` (`database_url`, or
/// `ROCKET_DATABASE_URL` with Rocket's default figment), or
/// [`DEFAULT_DATABASE_URL`].
///
/// # Example
///
/// ```
/// use rocket::figment::Figment;
///
/// let figment = Figment::new().merge(("database_url", "sqlite://other.db"));
/// assert_eq!(demo_app::database_url(&figment).unwrap(), "sqlite://other.db");
/// assert_eq!(demo_app::database_url(&Figment::new()).unwrap(), "sqlite://demo.db");
/// ```
///
/// # Errors
///
/// If `database_url` is set to something other than a string.
pub fn database_url(figment: &Figment) -> Result<String, Box<rocket::figment::Error>> {
    figment
        .extract::<DemoConfig>()
        .map(|config| config.database_url)
        .map_err(Box::new)
}

/// The database pool limits configured in `figment`
/// (`auth_database_max_connections`, `auth_database_acquire_timeout`); the
/// defaults when the auth configuration is invalid, which the auth fairing
/// then refuses with a message.
#[must_use]
pub fn pool_settings(figment: &Figment) -> PoolSettings {
    AuthConfig::from_figment(figment)
        .ok()
        .filter(|config| config.validate().is_ok())
        .map(|config| PoolSettings::from_config(&config))
        .unwrap_or_default()
}

/// The scopes of [`SCOPES`] as a registry.
#[must_use]
pub fn scope_registry() -> ScopeRegistry {
    SCOPES
        .iter()
        .fold(ScopeRegistry::new(), |registry, (scope, description)| {
            registry.with(scope, description)
        })
}

/// The demo application, configured by Rocket's default figment
/// (`Rocket.toml` and `ROCKET_*` environment variables), see [`figment`].
#[must_use]
pub fn rocket() -> Rocket<Build> {
    rocket_from(figment())
}

/// Rocket's default figment (`Rocket.toml`, then `ROCKET_*` variables,
/// under the selected profile), except that by default the demo sends no
/// `Server` header: `ident = false` unless configured otherwise
/// (`ROCKET_IDENT=Rocket` restores Rocket's).
///
/// Not naming the server software is the usual hardening advice, and one
/// header fewer keeps a refused request's answer (which adds
/// `WWW-Authenticate`) within the first allocation of hyper's header map.
///
/// # Example
///
/// ```
/// let config = rocket::Config::from(demo_app::figment());
/// assert_eq!(config.ident.as_str(), None);
/// ```
#[must_use]
pub fn figment() -> Figment {
    use rocket::figment::Profile;
    use rocket::figment::providers::{Env, Format, Toml};

    let defaults = rocket::Config {
        ident: rocket::config::Ident::none(),
        ..rocket::Config::default()
    };
    // The same sources, in the same order, as `rocket::Config::figment()`.
    Figment::from(defaults)
        .merge(Toml::file(Env::var_or("ROCKET_CONFIG", "Rocket.toml")).nested())
        .merge(Env::prefixed("ROCKET_").ignore(&["PROFILE"]).global())
        .select(Profile::from_env_or(
            "ROCKET_PROFILE",
            rocket::Config::DEFAULT_PROFILE,
        ))
}

/// The demo application, configured by `figment`: what tests use to pick a
/// database file and a secret.
///
/// On ignition it creates and migrates the database, adds the demo users if
/// there are no users yet, and seeds a few tasks. Launch is aborted, with the
/// reason in the log, if the database URL is invalid or the database cannot
/// be opened or migrated.
///
/// # Example
///
/// ```no_run
/// use rocket::figment::Figment;
///
/// let figment = Figment::from(rocket::Config::debug_default())
///     .merge(("database_url", "sqlite://test.db"))
///     .merge(("auth_secret", "a random string of at least 32 bytes ..."));
/// let rocket = demo_app::rocket_from(figment);
/// # let _ = rocket;
/// ```
#[must_use]
pub fn rocket_from(figment: Figment) -> Rocket<Build> {
    let rocket = rocket::custom(figment);
    let settings = pool_settings(rocket.figment());
    let store = database_url(rocket.figment())
        .map_err(|e| format!("invalid database_url: {e}"))
        .and_then(|url| {
            Database::open_lazy(&url, &settings)
                .map_err(|e| format!("database {}: {e}", redact_url(&url)))
        });
    let store = match store {
        Ok(store) => store,
        Err(reason) => {
            return rocket.attach(AdHoc::try_on_ignite("demo database", |rocket| {
                Box::pin(async move {
                    log::error!("demo: refusing to start: {reason}");
                    Err(rocket)
                })
            }));
        }
    };
    rocket
        .attach(
            Auth::fairing()
                .store(store.clone())
                .scopes(scope_registry())
                .cookie_sessions(),
        )
        .attach(db::fairing(store.clone()))
        .attach(AdHoc::on_liftoff("demo banner", |rocket| {
            Box::pin(async move {
                let config = rocket.config();
                let base = format!(
                    "http://{}",
                    std::net::SocketAddr::new(config.address, config.port)
                );
                log::info!("demo: open {base}/health, or {base}/docs for Swagger UI");
                log::info!(
                    "demo: get a token with POST {base}/token (form fields username and \
                     password; demo users johndoe and admin, alice is disabled)"
                );
            })
        }))
        .manage(db::Db::new(store))
        .mount("/", openapi::with_docs(routes::routes()))
        // GET /.well-known/jwks.json: the public keys that verify our tokens.
        .mount("/", auth_core::jwks::routes())
        // GET /app: the browser page, signing in with the cookie session.
        .mount("/", app_page::routes())
        .register("/", errors::catchers())
}

/// The workspace README's Rust examples, compiled as doctests so they stay
/// true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
