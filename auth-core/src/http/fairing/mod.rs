//! [`AuthFairing`], the one line that builds [`Auth`] from Rocket's
//! configuration and installs it, and the response hook that renders every
//! auth failure.

use std::sync::Arc;

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::{Build, Request, Response, Rocket};

use crate::auth::Auth;
use crate::config::AuthConfig;
use crate::log::events::{AuthEvent, EventHook};
use crate::password::PasswordHasher;
use crate::scopes::ScopeRegistry;
use crate::store::{ApiKeyStore, ClientStore, RefreshTokenStore, UserStore};
use crate::token::{KeySet, TokenKeys};

mod build;

impl Auth {
    /// The fairing that reads the configuration and installs [`Auth`].
    pub fn fairing() -> AuthFairing {
        AuthFairing::default()
    }

    /// The fairing for a resource server: a service that accepts access
    /// tokens from another issuer and verifies them with its public keys,
    /// with no user store, no signing key and no token endpoint.
    /// [`AuthUser`](crate::AuthUser), [`MaybeUser`](crate::MaybeUser),
    /// [`BearerToken`](crate::BearerToken) and `#[protected]` work as in the
    /// issuer.
    ///
    /// Keys come from `auth_jwks_url` (the issuer's
    /// `/.well-known/jwks.json`; feature `remote-jwks`), from
    /// `auth_verification_keys`, or from
    /// [`AuthFairing::verification_keys`]; without any of them, from the
    /// `jwks_uri` of the issuer's RFC 8414 metadata when `auth_issuer` is
    /// its `https` URL. `auth_trusted_issuers` trusts several issuers, each
    /// with its own audience and keys (see the crate's "Resource servers").
    /// Only public keys (Ed25519, RSA) are accepted. `auth_issuer` and
    /// `auth_audience` must match the issuer's tokens. Declare the scopes
    /// the routes require, as the issuer does (`.scope(..)` or
    /// `auth_scopes`).
    ///
    /// Without a user store, a token's subject is not looked up: a user
    /// disabled at the issuer keeps access here until their access token
    /// expires (`auth_access_ttl` at the issuer).
    ///
    /// # Example
    ///
    /// ```
    /// use auth_core::{protected, Auth, AuthUser, KeySet, MaybeUser, VerificationKey};
    /// use rocket::http::Status;
    /// use rocket::local::blocking::Client;
    /// use rocket::{get, routes};
    ///
    /// #[protected(scopes = "read:items")]
    /// #[get("/reports")]
    /// fn reports(user: AuthUser) -> String {
    ///     format!("reports for {}", user.subject())
    /// }
    ///
    /// #[get("/hello")]
    /// fn hello(user: MaybeUser) -> String {
    ///     user.0.map_or("hello stranger".into(), |u| format!("hello {}", u.subject()))
    /// }
    ///
    /// // The issuer's public key, given statically; with the feature
    /// // `remote-jwks`, set `auth_jwks_url` instead to follow its rotations.
    /// const ISSUER_KEY: &str = "-----BEGIN PUBLIC KEY-----
    /// MCowBQYDK2VwAyEALXiXtCDoS1Dt5NyUbnSGrkU9JUbq/GANo2I6NLp/ioc=
    /// -----END PUBLIC KEY-----";
    /// let key = VerificationKey::ed25519_pem(Some("2026-01"), ISSUER_KEY.as_bytes()).unwrap();
    ///
    /// let figment = rocket::Config::figment()
    ///     .merge(("auth_issuer", "https://auth.example"))
    ///     .merge(("auth_audience", "reports-api"));
    /// let rocket = rocket::custom(figment)
    ///     .attach(
    ///         Auth::resource_server()
    ///             .verification_keys(KeySet::new().with(key).unwrap())
    ///             .scope("read:items", "Read items"),
    ///     )
    ///     .mount("/", routes![reports, hello]);
    ///
    /// let client = Client::tracked(rocket).unwrap();
    /// assert_eq!(client.get("/reports").dispatch().status(), Status::Unauthorized);
    /// assert_eq!(client.get("/hello").dispatch().into_string().unwrap(), "hello stranger");
    /// ```
    ///
    /// # Errors
    ///
    /// Launch is aborted, with the reason in the log, when `auth_audience`
    /// is not set explicitly (the default `"api"` would make services left
    /// at defaults accept each other's tokens; settings given with
    /// [`AuthFairing::config`] count as explicit unless their audience is
    /// the default), no key source is configured (and `auth_issuer` is not
    /// a URL to discover one from), `auth_trusted_issuers` is combined with
    /// `auth_jwks_url` or static keys or lists more than
    /// [`MAX_TRUSTED_ISSUERS`](crate::config::MAX_TRUSTED_ISSUERS), an issuer's
    /// metadata cannot be read or names another issuer, a static key is
    /// symmetric, `auth_jwks_url` is not an `http(s)` URL (or the feature
    /// `remote-jwks` is off), is plain `http://` to another machine without
    /// `auth_jwks_allow_insecure_http = true`, or the first
    /// fetch of the JWKS fails (no retry: start the resource server once
    /// the issuer answers, or let the supervisor restart it).
    pub fn resource_server() -> AuthFairing {
        AuthFairing::default().resource_server_mode()
    }
}

/// Installs [`Auth`]: reads the settings from Rocket's configuration (see
/// [`crate::config`]), refuses weak ones, and renders every auth failure as
/// RFC 6750 / RFC 6749 JSON.
///
/// Without [`users`](Self::users) or [`refresh_tokens`](Self::refresh_tokens)
/// the fairing uses empty in-memory stores.
///
/// At ignition it also registers a catcher named `auth-core` at `/` for
/// 400, 401 and 403, each unless the app registered one for that status at
/// `/`. It answers requests refused by an auth guard and hands every other
/// request to the app's default catcher at `/` (or Rocket's). An app
/// catcher that takes precedence (one for that status at `/`, or any under
/// a longer base) still runs, and the response hook writes the auth answer
/// over its response.
///
/// # Errors
///
/// Launch is aborted, with the reason in the log, for a missing secret in a
/// release build, a secret shorter than 32 bytes, a key file that cannot be
/// read, a PEM key that does not parse or fit its algorithm, a `kid` used
/// twice, a zero lifetime, or an invalid declared scope.
#[derive(Default)]
#[must_use]
pub struct AuthFairing {
    users: Option<Arc<dyn UserStore>>,
    refresh_tokens: Option<Arc<dyn RefreshTokenStore>>,
    clients: Option<Arc<dyn ClientStore>>,
    scopes: ScopeRegistry,
    keys: Option<TokenKeys>,
    hasher: Option<PasswordHasher>,
    config: Option<AuthConfig>,
    event_hooks: Vec<EventHook>,
    /// Built by [`Auth::resource_server`].
    resource_server: bool,
    /// Keys given with [`Self::verification_keys`].
    verification_keys: KeySet,
    /// Set with [`Self::cookie_sessions`].
    cookie_sessions: bool,
    /// Set with [`Self::token_endpoint`] and [`Self::revocation_endpoint`].
    endpoints: crate::http::discovery::Endpoints,
    /// Set with [`Self::api_keys`] or [`Self::store`].
    api_keys: Option<Arc<dyn ApiKeyStore>>,
}

impl AuthFairing {
    pub(crate) fn resource_server_mode(mut self) -> Self {
        self.resource_server = true;
        self
    }

    /// Also verifies tokens with these keys (besides those configured). In
    /// a [resource server](Auth::resource_server) they are the issuer's
    /// public keys (besides, or instead of, `auth_jwks_url`).
    pub fn verification_keys(mut self, keys: KeySet) -> Self {
        self.verification_keys = keys;
        self
    }

    /// Where users are looked up.
    pub fn users(mut self, store: impl UserStore) -> Self {
        self.users = Some(Arc::new(store));
        self
    }

    /// Where refresh tokens are kept.
    pub fn refresh_tokens(mut self, store: impl RefreshTokenStore) -> Self {
        self.refresh_tokens = Some(Arc::new(store));
        self
    }

    /// One store for users, refresh tokens and API keys, and clients when
    /// the store keeps them (the SQL stores and
    /// [`Database`](crate::database::Database) keep all four).
    pub fn store<S: UserStore + RefreshTokenStore + ApiKeyStore + Clone>(self, store: S) -> Self {
        self.users(store.clone())
            .refresh_tokens(store.clone())
            .api_keys(store)
    }

    /// Where API keys are kept; turns API keys on: the guards accept a key
    /// in the `auth_api_key_header` header (`X-API-Key` by default). See
    /// the crate's "API keys" section.
    pub fn api_keys(mut self, store: impl ApiKeyStore) -> Self {
        self.api_keys = Some(Arc::new(store));
        self
    }

    /// Where OAuth clients are registered (by default, the user store's
    /// registry if it has one, else none: every `client_id` is then a
    /// public client and the client-credentials grant is refused).
    pub fn clients(mut self, store: impl ClientStore) -> Self {
        self.clients = Some(Arc::new(store));
        self
    }

    /// Declares a scope (merged with `auth_scopes` from the configuration).
    ///
    /// # Panics
    ///
    /// If `scope` is not a valid RFC 6749 scope-token.
    pub fn scope(mut self, scope: &str, description: &str) -> Self {
        self.scopes = std::mem::take(&mut self.scopes).with(scope, description);
        self
    }

    /// Declares several scopes at once.
    pub fn scopes(mut self, registry: ScopeRegistry) -> Self {
        self.scopes.extend(registry);
        self
    }

    /// Signs with these keys instead of `auth_secret` / `auth_signing_key`
    /// (`auth_verification_keys` still verify).
    pub fn keys(mut self, keys: TokenKeys) -> Self {
        self.keys = Some(keys);
        self
    }

    /// Uses this password hasher (e.g. other argon2 parameters).
    pub fn hasher(mut self, hasher: PasswordHasher) -> Self {
        self.hasher = Some(hasher);
        self
    }

    /// Calls `hook` for every [`AuthEvent`] (logins, failed logins,
    /// refreshes, reuse detection, throttling, revocations), e.g. to keep an
    /// audit trail. Hooks run on the request's task: keep them quick (send
    /// the event to a channel for slow work). Several hooks may be added.
    ///
    /// # Example
    ///
    /// ```
    /// use auth_core::{Auth, AuthEventKind};
    ///
    /// let fairing = Auth::fairing().on_event(|event| {
    ///     if event.kind == AuthEventKind::RefreshReused {
    ///         eprintln!("possible token theft: {event}");
    ///     }
    /// });
    /// # let _ = fairing;
    /// ```
    pub fn on_event(mut self, hook: impl Fn(&AuthEvent) + Send + Sync + 'static) -> Self {
        self.event_hooks.push(std::sync::Arc::new(hook));
        self
    }

    /// Turns on browser sessions, as `auth_cookie_sessions = true` does:
    /// `POST /session`, `GET /session`, `POST /session/refresh` and
    /// `DELETE /session` are mounted, and the guards also accept the access
    /// cookie, with a CSRF check on unsafe methods. See the crate's
    /// "Browser apps" section.
    ///
    /// # Example
    ///
    /// ```
    /// use auth_core::Auth;
    ///
    /// let rocket = rocket::build().attach(Auth::fairing().cookie_sessions());
    /// # let _ = rocket;
    /// ```
    pub fn cookie_sessions(mut self) -> Self {
        self.cookie_sessions = true;
        self
    }

    /// The path of the app's token endpoint (default
    /// [`DEFAULT_TOKEN_PATH`](crate::discovery::DEFAULT_TOKEN_PATH)), as
    /// advertised in the authorization-server metadata (see
    /// [`crate::discovery`]). The toolkit does not mount the endpoint; it
    /// looks for a `POST` route at this path when the app launches.
    ///
    /// # Example
    ///
    /// ```
    /// use auth_core::Auth;
    ///
    /// let fairing = Auth::fairing().token_endpoint("/oauth/token").revocation_endpoint("/oauth/revoke");
    /// # let _ = fairing;
    /// ```
    pub fn token_endpoint(mut self, path: &str) -> Self {
        path.clone_into(&mut self.endpoints.token);
        self
    }

    /// The path of the app's revocation endpoint (RFC 7009; default
    /// [`DEFAULT_REVOCATION_PATH`](crate::discovery::DEFAULT_REVOCATION_PATH)),
    /// advertised when a `POST` route is mounted there.
    pub fn revocation_endpoint(mut self, path: &str) -> Self {
        path.clone_into(&mut self.endpoints.revocation);
        self
    }

    /// Uses these settings instead of reading Rocket's configuration.
    pub fn config(mut self, config: AuthConfig) -> Self {
        self.config = Some(config);
        self
    }
}

impl AuthFairing {
    /// [`Fairing::on_ignite`] for a resource server: fetches the issuer's
    /// keys before the launch goes on.
    async fn ignite_resource_server(&self, rocket: Rocket<Build>) -> fairing::Result {
        let auth = match self.build(rocket.figment()) {
            Ok(auth) => auth,
            Err(e) => {
                log::error!("auth: refusing to start: {e}");
                return Err(rocket);
            }
        };
        if let Some(resource_server) = auth.verifier.resource_server()
            && let Err(e) = resource_server.start().await
        {
            log::error!("auth: refusing to start: {e}");
            return Err(rocket);
        }
        log::info!(
            "auth: resource server for {}; {} scopes declared",
            auth.verifier
                .resource_server()
                .map(crate::resource_server::ResourceServer::describe)
                .unwrap_or_default(),
            auth.scopes.iter().count(),
        );
        let rocket = with_discovery(rocket, &auth, &self.endpoints, self.config.as_ref());
        Ok(crate::http::respond::register_catchers(rocket.manage(auth)))
    }
}

#[rocket::async_trait]
impl Fairing for AuthFairing {
    fn info(&self) -> Info {
        Info {
            name: "auth-core",
            kind: Kind::Ignite | Kind::Response | Kind::Singleton,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        crate::log::logger::apply_level(rocket.figment());
        if self.resource_server {
            return self.ignite_resource_server(rocket).await;
        }
        let built = match self.build(rocket.figment()) {
            Ok(auth) => match auth.issuer() {
                Some(issuer) => issuer.hasher.prepare().await.map_err(|e| e.to_string()),
                None => Ok(()),
            }
            .map(|()| auth),
            Err(e) => Err(e.to_string()),
        };
        match built {
            Ok(auth) => {
                if cfg!(debug_assertions) {
                    log::warn!(
                        "auth: debug build: a login takes ~0.6 s unless argon2 is optimised; \
                         add [profile.dev.package.argon2] opt-level = 3 to Cargo.toml"
                    );
                }
                log::info!(
                    "auth: {} access tokens (kid {:?}, {} more verification keys) for audience {:?}, \
                     valid {} s; {} scopes declared",
                    auth.tokens()
                        .keys_algorithm()
                        .map_or_else(|| "verify-only".to_owned(), |a| format!("{a:?}")),
                    auth.tokens().signing_keys().map(TokenKeys::kid),
                    auth.tokens().verification_keys().load().len(),
                    auth.tokens().audience(),
                    auth.tokens().ttl(),
                    auth.scopes.iter().count(),
                );
                let rocket = match &auth.browser {
                    Some(browser) if !browser.allowed_origins.is_empty() => rocket
                        .mount("/", crate::http::session::routes())
                        .mount("/", crate::http::cors::routes()),
                    Some(_) => rocket.mount("/", crate::http::session::routes()),
                    None => rocket,
                };
                let rocket = with_discovery(rocket, &auth, &self.endpoints, self.config.as_ref());
                Ok(crate::http::respond::register_catchers(rocket.manage(auth)))
            }
            Err(e) => {
                log::error!("auth: refusing to start: {e}");
                Err(rocket)
            }
        }
    }

    async fn on_response<'r>(&self, request: &'r Request<'_>, response: &mut Response<'r>) {
        crate::http::respond::render_recorded(request, response);
        crate::http::cors::add_headers(request, response);
    }
}

/// Mounts the discovery routes and manages what they serve.
fn with_discovery(
    rocket: Rocket<Build>,
    auth: &Auth,
    endpoints: &crate::http::discovery::Endpoints,
    config: Option<&AuthConfig>,
) -> Rocket<Build> {
    use crate::http::discovery::Discovery;
    let config = match config {
        Some(config) => Some(config.clone()),
        None => AuthConfig::from_figment(rocket.figment()).ok(),
    };
    let base = config
        .and_then(|config| {
            crate::config::discovery::public_base_url(config.public_base_url.as_deref()).ok()
        })
        .flatten();
    if let Some(base) = &base
        && !base.is_https_or_loopback()
    {
        log::warn!(
            "auth: auth_public_base_url {} is plain http to another machine; metadata and \
             tokens should only travel over https",
            base.as_str()
        );
    }
    let mounted: Vec<&rocket::Route> = rocket.routes().collect();
    let discovery = Discovery::new(auth, base, endpoints, &mounted);
    rocket
        .mount(
            "/",
            crate::http::discovery::routes(!auth.is_resource_server()),
        )
        .manage(discovery)
}
