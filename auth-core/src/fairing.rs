//! [`Auth`], the state every guard reads, and [`AuthFairing`], the one line
//! that installs it in a Rocket app.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::{Build, Request, Response, Rocket};

use crate::config::{AuthConfig, ConfigError};
use crate::error::{AuthError, TokenProblem};
use crate::guard::{AuthUser, RecordedError};
use crate::password::PasswordHasher;
use crate::scopes::ScopeRegistry;
use crate::store::{MemoryRefreshTokenStore, MemoryUserStore, RefreshTokenStore, UserStore};
use crate::subject_cache::SubjectCache;
use crate::token::{AccessTokens, TokenKeys};

/// Everything the guards and the token endpoint need: keys, stores, hasher,
/// declared scopes and settings. Managed as Rocket state by
/// [`AuthFairing`]; handlers can take `&Auth` (or `&State<Auth>`) as a guard.
///
/// # Example
///
/// ```
/// use auth_core::{Auth, MemoryUserStore, PasswordHasher, Scopes};
/// use rocket::{get, routes};
///
/// #[get("/")]
/// fn index() -> &'static str { "hi" }
///
/// let users = MemoryUserStore::new();
/// let hash = PasswordHasher::new().hash_blocking("secret").unwrap();
/// users.insert_hashed("johndoe", &hash, Scopes::parse("read:items").unwrap(), false);
///
/// let rocket = rocket::build()
///     .attach(Auth::fairing().users(users).scope("read:items", "Read items"))
///     .mount("/", routes![index]);
/// # let _ = rocket;
/// ```
pub struct Auth {
    pub(crate) tokens: AccessTokens,
    pub(crate) hasher: PasswordHasher,
    pub(crate) users: Arc<dyn UserStore>,
    pub(crate) refresh_tokens: Arc<dyn RefreshTokenStore>,
    pub(crate) scopes: ScopeRegistry,
    pub(crate) realm: String,
    pub(crate) default_client_id: String,
    pub(crate) refresh_ttl: u64,
    pub(crate) subjects: SubjectCache,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("tokens", &self.tokens)
            .field("scopes", &self.scopes)
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// The fairing that reads the configuration and installs [`Auth`].
    pub fn fairing() -> AuthFairing {
        AuthFairing::default()
    }

    /// Issuing and verifying access tokens.
    #[must_use]
    pub fn tokens(&self) -> &AccessTokens {
        &self.tokens
    }

    /// The password hasher (use it to create users).
    #[must_use]
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// The declared scopes.
    #[must_use]
    pub fn scopes(&self) -> &ScopeRegistry {
        &self.scopes
    }

    /// The user store.
    #[must_use]
    pub fn users(&self) -> &dyn UserStore {
        self.users.as_ref()
    }

    /// The `realm` of `WWW-Authenticate` challenges.
    #[must_use]
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// Verifies an access token and checks that its subject still exists and
    /// is enabled. This is what [`AuthUser`] runs.
    ///
    /// A subject found enabled is remembered for `auth_subject_cache_ttl`
    /// seconds (5 by default, 0 to ask the store on every request), so a user
    /// disabled in the store loses access within that time; call
    /// [`Auth::forget_subject`] for immediate effect.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidToken`] for any verification failure,
    /// [`AuthError::Server`] if the user store fails.
    pub async fn authenticate(&self, token: &str) -> Result<AuthUser, AuthError> {
        let claims = self.tokens.verify(token).map_err(AuthError::InvalidToken)?;
        if self.subjects.is_fresh(&claims.sub) {
            return Ok(AuthUser::new(claims));
        }
        match self.users.find_user(&claims.sub).await? {
            Some(user) if !user.disabled => {
                self.subjects.remember(&claims.sub);
                Ok(AuthUser::new(claims))
            }
            _ => {
                self.subjects.forget(&claims.sub);
                Err(AuthError::InvalidToken(TokenProblem::UnknownSubject))
            }
        }
    }

    /// Makes the next request of `username` consult the user store, e.g.
    /// right after disabling or deleting the user.
    pub fn forget_subject(&self, username: &str) {
        self.subjects.forget(username);
    }
}

/// Installs [`Auth`]: reads the settings from Rocket's configuration (see
/// [`crate::config`]), refuses weak ones, and renders every auth failure as
/// RFC 6750 / RFC 6749 JSON.
///
/// Without [`users`](Self::users) or [`refresh_tokens`](Self::refresh_tokens)
/// the fairing uses empty in-memory stores.
///
/// # Errors
///
/// Launch is aborted, with the reason in the log, for a missing secret in a
/// release build, a secret shorter than 32 bytes, a zero lifetime, or an
/// invalid declared scope.
#[derive(Default)]
#[must_use]
pub struct AuthFairing {
    users: Option<Arc<dyn UserStore>>,
    refresh_tokens: Option<Arc<dyn RefreshTokenStore>>,
    scopes: ScopeRegistry,
    keys: Option<TokenKeys>,
    hasher: Option<PasswordHasher>,
    config: Option<AuthConfig>,
}

impl AuthFairing {
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

    /// One store for both users and refresh tokens.
    pub fn store<S: UserStore + RefreshTokenStore + Clone>(self, store: S) -> Self {
        self.users(store.clone()).refresh_tokens(store)
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

    /// Signs with these keys instead of `auth_secret` (e.g. Ed25519 or RSA).
    pub fn keys(mut self, keys: TokenKeys) -> Self {
        self.keys = Some(keys);
        self
    }

    /// Uses this password hasher (e.g. other argon2 parameters).
    pub fn hasher(mut self, hasher: PasswordHasher) -> Self {
        self.hasher = Some(hasher);
        self
    }

    /// Uses these settings instead of reading Rocket's configuration.
    pub fn config(mut self, config: AuthConfig) -> Self {
        self.config = Some(config);
        self
    }

    /// Builds [`Auth`] from `figment` (Rocket's configuration) and what was
    /// set on the fairing.
    ///
    /// # Errors
    ///
    /// Any [`ConfigError`].
    pub fn build(&self, figment: &rocket::figment::Figment) -> Result<Auth, ConfigError> {
        let config = match &self.config {
            Some(config) => config.clone(),
            None => AuthConfig::from_figment(figment)?,
        };
        config.validate()?;
        let keys = match &self.keys {
            Some(keys) => keys.clone(),
            None => config.keys()?,
        };
        let mut scopes = config.scope_registry()?;
        scopes.extend(self.scopes.clone());
        let tokens = AccessTokens::new(keys, &config.issuer, &config.audience)
            .with_ttl(config.access_ttl)
            .with_leeway(config.leeway);
        let users = self.users.clone().unwrap_or_else(|| {
            log::warn!("auth: no user store configured; using an empty in-memory store");
            Arc::new(MemoryUserStore::new())
        });
        let refresh_tokens = self
            .refresh_tokens
            .clone()
            .unwrap_or_else(|| Arc::new(MemoryRefreshTokenStore::new()));
        Ok(Auth {
            tokens,
            hasher: self.hasher.clone().unwrap_or_default(),
            users,
            refresh_tokens,
            scopes,
            realm: config.realm,
            default_client_id: config.default_client_id,
            refresh_ttl: config.refresh_ttl,
            subjects: SubjectCache::new(Duration::from_secs(config.subject_cache_ttl)),
        })
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
        let built = match self.build(rocket.figment()) {
            Ok(auth) => auth
                .hasher
                .prepare()
                .await
                .map(|()| auth)
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match built {
            Ok(auth) => {
                log::info!(
                    "auth: {:?} access tokens for audience {:?}, valid {} s; {} scopes declared",
                    auth.tokens.keys_algorithm(),
                    auth.tokens.audience(),
                    auth.tokens.ttl(),
                    auth.scopes.iter().count(),
                );
                Ok(rocket.manage(auth))
            }
            Err(e) => {
                log::error!("auth: refusing to start: {e}");
                Err(rocket)
            }
        }
    }

    async fn on_response<'r>(&self, request: &'r Request<'_>, response: &mut Response<'r>) {
        let Some(error) = RecordedError::take(request) else {
            return;
        };
        // Only the failure that actually ended the request is rendered: a
        // guard wrapped in `Option` may have failed without consequence.
        if response.status() != error.status() {
            return;
        }
        if let AuthError::Server(problem) = &error {
            log::error!("auth: {problem}");
        }
        error.render_into(response, crate::guard::realm_of(request));
    }
}
