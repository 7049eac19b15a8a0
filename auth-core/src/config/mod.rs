//! Settings, read through Rocket's own configuration (`Rocket.toml` and
//! `ROCKET_*` environment variables).
//!
//! Every key, its environment variable, default and allowed range is listed
//! once, in the [crate documentation](crate#configuration).

use std::collections::BTreeMap;
use std::fmt;

use jsonwebtoken::Algorithm;
use serde::Deserialize;

use crate::token::AccessTokens;

/// `auth_audience` unless configured: fine for one issuer and its own
/// routes, refused in resource-server mode (see
/// [`ResourceServerError::AudienceRequired`]).
pub const DEFAULT_AUDIENCE: &str = "api";

/// `auth_api_key_header` unless configured.
pub const DEFAULT_API_KEY_HEADER: &str = "X-API-Key";

mod check;
mod cookies;
pub(crate) mod discovery;
mod error;
mod keys;
#[cfg(test)]
mod tests;

pub(crate) use check::DEFAULT_REALM;
pub use cookies::{
    CookieConfig, DEFAULT_ACCESS_COOKIE, DEFAULT_REFRESH_COOKIE, MIN_CSRF_SECRET_LEN, SameSite,
};
pub use discovery::{MAX_TRUSTED_ISSUERS, TrustedIssuerConfig};
pub use error::{ConfigError, ResourceServerError};
use keys::algorithm_any_case;
pub use keys::{SigningKeyConfig, VerificationKeyConfig};

/// The raw settings, as deserialized from Rocket's figment. Every field has a
/// default; see the module documentation.
///
/// `Debug` does not show the secret.
#[derive(Clone, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct AuthConfig {
    /// HMAC secret; at least 32 bytes.
    #[serde(rename = "auth_secret")]
    pub secret: Option<String>,
    /// Access-token lifetime in seconds.
    #[serde(rename = "auth_access_ttl")]
    pub access_ttl: u64,
    /// Refresh-token lifetime in seconds.
    #[serde(rename = "auth_refresh_ttl")]
    pub refresh_ttl: u64,
    /// Absolute lifetime of a refresh-token family (a login), in seconds:
    /// rotation never extends a session past it.
    #[serde(rename = "auth_refresh_max_age")]
    pub refresh_max_age: u64,
    /// How many sessions (refresh-token families, one per login) a user
    /// may have live at once; a login beyond it ends the oldest.
    #[serde(rename = "auth_max_sessions_per_user")]
    pub max_sessions_per_user: u64,
    /// Clock-skew leeway in seconds for `exp` and `nbf`.
    #[serde(rename = "auth_leeway")]
    pub leeway: u64,
    /// How long a subject found enabled is trusted without asking the user
    /// store again, in seconds; `0` asks on every request.
    #[serde(rename = "auth_subject_cache_ttl")]
    pub subject_cache_ttl: u64,
    /// `iss` of issued tokens, and the only issuer accepted.
    #[serde(rename = "auth_issuer")]
    pub issuer: String,
    /// `aud` of issued tokens, and the only audience accepted.
    #[serde(rename = "auth_audience")]
    pub audience: String,
    /// `realm` of `WWW-Authenticate` challenges.
    #[serde(rename = "auth_realm")]
    pub realm: String,
    /// `client_id` claim for token requests that name no client.
    #[serde(rename = "auth_default_client_id")]
    pub default_client_id: String,
    /// `HS256`, `HS384` or `HS512` (any case). For asymmetric keys use
    /// [`crate::AuthFairing::keys`].
    #[serde(rename = "auth_algorithm", deserialize_with = "algorithm_any_case")]
    pub algorithm: Algorithm,
    /// `kid` of the key made from `auth_secret` (default: derived from the
    /// secret).
    #[serde(rename = "auth_key_id")]
    pub key_id: Option<String>,
    /// An Ed25519 or RSA signing key from PEM; when set, `auth_secret` (if
    /// any) only verifies.
    #[serde(rename = "auth_signing_key")]
    pub signing_key: Option<SigningKeyConfig>,
    /// Keys that only verify, e.g. the previous signing key.
    #[serde(rename = "auth_verification_keys")]
    pub verification_keys: Vec<VerificationKeyConfig>,
    /// `max-age` of `GET /.well-known/jwks.json`, in seconds.
    #[serde(rename = "auth_jwks_max_age")]
    pub jwks_max_age: u64,
    /// Declared scopes and their descriptions.
    #[serde(rename = "auth_scopes")]
    pub scopes: BTreeMap<String, String>,
    /// At most this many password hashes run at once (default: the number
    /// of CPUs).
    #[serde(rename = "auth_hash_concurrency")]
    pub hash_concurrency: u64,
    /// At most this many password hashes wait for a slot; beyond that the
    /// token endpoint answers 503 (default: four times the CPUs).
    #[serde(rename = "auth_hash_queue")]
    pub hash_queue: u64,
    /// How many nice values below the process the hashing threads run, so
    /// that request handling goes first during a login flood (Linux only;
    /// 0 keeps the process's priority; default 19, the lowest).
    #[serde(rename = "auth_hash_nice")]
    pub hash_nice: u64,
    /// Whether failed logins are throttled per (username, address), per
    /// address and per username.
    #[serde(rename = "auth_throttle")]
    pub throttle: bool,
    /// Failed logins allowed per username, and per (username, address),
    /// before delays start (an address gets four times as many across
    /// usernames; default 5).
    #[serde(rename = "auth_throttle_free_attempts")]
    pub throttle_free_attempts: u64,
    /// The longest delay throttling imposes, in seconds (default 300): no
    /// caller waits longer, and an address that logged in as the user
    /// before skips the per-username delay altogether.
    #[serde(rename = "auth_throttle_max_delay")]
    pub throttle_max_delay: u64,
    /// The request header that carries the client's address, set by a
    /// reverse proxy you trust, e.g. `"X-Real-IP"` (default: none, so the
    /// address is the socket's peer and no header a client sends counts).
    ///
    /// # Security
    ///
    /// Set it only when every request comes through a proxy that
    /// overwrites the header (nginx: `proxy_set_header X-Real-IP
    /// $remote_addr;`); otherwise clients choose the address they are
    /// throttled under. For a list-valued header such as
    /// `X-Forwarded-For`, the last entry (the one your proxy added) counts.
    #[serde(rename = "auth_trusted_proxy_header")]
    pub trusted_proxy_header: Option<String>,
    /// How many throttling counters an instance keeps in memory (default
    /// 10,000). Only counters that hold nothing are dropped to make room;
    /// when the table is full of live ones, new usernames share one
    /// counter and new (username, address) pairs get none, so a full
    /// table slows callers down rather than freeing guesses.
    #[serde(rename = "auth_throttle_capacity")]
    pub throttle_capacity: u64,
    /// Resource servers ([`crate::Auth::resource_server`]): the issuer's
    /// JWKS URL, e.g. `https://auth.example/.well-known/jwks.json`
    /// (feature `remote-jwks`).
    #[serde(rename = "auth_jwks_url")]
    pub jwks_url: Option<String>,
    /// Resource servers: accept a plain `http://` `auth_jwks_url` to
    /// another machine. Off by default: anyone on the path could substitute
    /// the keys; `https://` and loopback (`127.0.0.1`, `[::1]`,
    /// `localhost`) need no opt-in.
    #[serde(rename = "auth_jwks_allow_insecure_http")]
    pub jwks_allow_insecure_http: bool,
    /// Resource servers: the shortest time between two fetches of the
    /// JWKS, in seconds; tokens with an unknown `kid` trigger at most one
    /// fetch per interval.
    #[serde(rename = "auth_jwks_min_refresh_interval")]
    pub jwks_min_refresh_interval: u64,
    /// Resource servers: the JWKS is fetched again this often, in seconds;
    /// `0` only on unknown `kid`s.
    #[serde(rename = "auth_jwks_refresh_interval")]
    pub jwks_refresh_interval: u64,
    /// Resource servers: the longest a JWKS fetch may take (connecting, and
    /// the whole request), in seconds.
    #[serde(rename = "auth_jwks_timeout")]
    pub jwks_timeout: u64,
    /// The shortest new password accepted by [`Self::password_policy`], in
    /// characters.
    #[serde(rename = "auth_password_min_chars")]
    pub password_min_chars: u64,
    /// The lowest strength (`zxcvbn` score, 0 to 4) a new password needs in
    /// [`Self::password_policy`]; `0` turns the estimate off.
    #[serde(rename = "auth_password_min_score")]
    pub password_min_score: u64,
    /// Database connections one process keeps open at most (the pool of
    /// the app's user and refresh-token store).
    #[serde(rename = "auth_database_max_connections")]
    pub database_max_connections: u64,
    /// How long a query waits for a free database connection, in seconds.
    #[serde(rename = "auth_database_acquire_timeout")]
    pub database_acquire_timeout: u64,
    /// The URL the app is reached at from outside, e.g.
    /// `https://example.com/auth` behind a proxy that strips `/auth`: every
    /// URL the app advertises (discovery metadata, the `resource_metadata`
    /// of challenges, Swagger's `tokenUrl`) is built from it.
    #[serde(rename = "auth_public_base_url")]
    pub public_base_url: Option<String>,
    /// Resource servers: the issuers whose tokens are accepted, each with
    /// its own audience and keys (at most [`MAX_TRUSTED_ISSUERS`]); replaces
    /// `auth_issuer`, `auth_audience` and `auth_jwks_url` there.
    #[serde(rename = "auth_trusted_issuers")]
    pub trusted_issuers: Vec<TrustedIssuerConfig>,
    /// The request header API keys are sent in (default `X-API-Key`).
    #[serde(rename = "auth_api_key_header")]
    pub api_key_header: String,
    /// Browser sessions: `auth_cookie_*` and `auth_csrf_secret`.
    #[serde(flatten)]
    pub cookies: CookieConfig,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            secret: None,
            access_ttl: AccessTokens::DEFAULT_TTL,
            refresh_ttl: 14 * 24 * 3600,
            refresh_max_age: 30 * 24 * 3600,
            max_sessions_per_user: 32,
            leeway: AccessTokens::DEFAULT_LEEWAY,
            subject_cache_ttl: 5,
            issuer: "auth-core".to_owned(),
            audience: DEFAULT_AUDIENCE.to_owned(),
            realm: DEFAULT_REALM.to_owned(),
            default_client_id: "default".to_owned(),
            algorithm: Algorithm::HS256,
            key_id: None,
            signing_key: None,
            verification_keys: Vec::new(),
            jwks_max_age: AccessTokens::DEFAULT_JWKS_MAX_AGE,
            scopes: BTreeMap::new(),
            hash_concurrency: crate::password::default_concurrency() as u64,
            hash_queue: 4 * crate::password::default_concurrency() as u64,
            hash_nice: u64::from(crate::password::DEFAULT_NICE),
            throttle: true,
            throttle_free_attempts: 5,
            throttle_max_delay: 300,
            trusted_proxy_header: None,
            throttle_capacity: 10_000,
            jwks_url: None,
            jwks_allow_insecure_http: false,
            jwks_min_refresh_interval: 30,
            jwks_refresh_interval: 300,
            jwks_timeout: 5,
            password_min_chars: crate::PasswordPolicy::DEFAULT_MIN_CHARS as u64,
            password_min_score: u64::from(crate::PasswordPolicy::DEFAULT_MIN_SCORE),
            database_max_connections: 10,
            database_acquire_timeout: 10,
            public_base_url: None,
            trusted_issuers: Vec::new(),
            api_key_header: DEFAULT_API_KEY_HEADER.to_owned(),
            cookies: CookieConfig::default(),
        }
    }
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("refresh_max_age", &self.refresh_max_age)
            .field("max_sessions_per_user", &self.max_sessions_per_user)
            .field("leeway", &self.leeway)
            .field("subject_cache_ttl", &self.subject_cache_ttl)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("realm", &self.realm)
            .field("default_client_id", &self.default_client_id)
            .field("algorithm", &self.algorithm)
            .field("key_id", &self.key_id)
            .field("signing_key", &self.signing_key)
            .field("verification_keys", &self.verification_keys)
            .field("jwks_max_age", &self.jwks_max_age)
            .field("scopes", &self.scopes)
            .field("hash_concurrency", &self.hash_concurrency)
            .field("hash_queue", &self.hash_queue)
            .field("hash_nice", &self.hash_nice)
            .field("throttle", &self.throttle)
            .field("throttle_free_attempts", &self.throttle_free_attempts)
            .field("throttle_max_delay", &self.throttle_max_delay)
            .field("trusted_proxy_header", &self.trusted_proxy_header)
            .field("throttle_capacity", &self.throttle_capacity)
            .field("jwks_url", &self.jwks_url)
            .field("jwks_allow_insecure_http", &self.jwks_allow_insecure_http)
            .field("jwks_min_refresh_interval", &self.jwks_min_refresh_interval)
            .field("jwks_refresh_interval", &self.jwks_refresh_interval)
            .field("jwks_timeout", &self.jwks_timeout)
            .field("password_min_chars", &self.password_min_chars)
            .field("password_min_score", &self.password_min_score)
            .field("database_max_connections", &self.database_max_connections)
            .field("database_acquire_timeout", &self.database_acquire_timeout)
            .field("public_base_url", &self.public_base_url)
            .field("trusted_issuers", &self.trusted_issuers)
            .field("api_key_header", &self.api_key_header)
            .field("cookies", &self.cookies)
            .finish()
    }
}
