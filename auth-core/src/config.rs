//! Settings, read through Rocket's own configuration (`Rocket.toml` and
//! `ROCKET_*` environment variables).
//!
//! Every key, its environment variable, default and allowed range is listed
//! once, in the [crate documentation](crate#configuration).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use jsonwebtoken::Algorithm;
use rand::RngCore as _;
use serde::{Deserialize, Deserializer};

use crate::scopes::{ScopeError, ScopeRegistry};
use crate::token::{AccessTokens, KeyError, KeySet, TokenKeys, VerificationKey};

/// `auth_audience` unless configured: fine for one issuer and its own
/// routes, refused in resource-server mode (see
/// [`ResourceServerError::AudienceRequired`]).
pub const DEFAULT_AUDIENCE: &str = "api";

/// A configuration the toolkit refuses to start with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No secret in a release build.
    #[error(
        "auth_secret is not set; set ROCKET_AUTH_SECRET to a random string of at least 32 bytes \
         (e.g. `openssl rand -base64 48`)"
    )]
    MissingSecret,
    /// A secret, key or algorithm that cannot sign tokens.
    #[error("auth_secret / auth_algorithm: {0}")]
    Key(#[from] KeyError),
    /// A number outside its allowed range.
    #[error("{key} must be between {min} and {max}, not {value}")]
    OutOfRange {
        /// The setting.
        key: &'static str,
        /// The value given.
        value: u64,
        /// The smallest value allowed.
        min: u64,
        /// The largest value allowed.
        max: u64,
    },
    /// A declared scope that is not a valid scope-token.
    #[error("auth_scopes: {scope:?} is not a valid RFC 6749 scope-token: {reason}")]
    Scope {
        /// The scope as written.
        scope: String,
        /// What is wrong with it.
        #[source]
        reason: ScopeError,
    },
    /// A key file that cannot be read.
    #[error("{setting}: cannot read {path:?}: {reason}")]
    KeyFile {
        /// The setting naming the file, e.g. `auth_signing_key.private_key_file`.
        setting: String,
        /// The path as configured.
        path: PathBuf,
        /// Why it cannot be read.
        reason: String,
    },
    /// A configured key that cannot be used: bad PEM, algorithm and key
    /// that do not fit, weak secret, bad `kid`.
    #[error("{setting}: {reason}")]
    BadKey {
        /// The setting, e.g. `auth_verification_keys[1]`.
        setting: String,
        /// What is wrong with the key.
        #[source]
        reason: KeyError,
    },
    /// A configured key with no key material, or with two.
    #[error("{setting}: {problem}")]
    KeySource {
        /// The setting, e.g. `auth_signing_key`.
        setting: String,
        /// What to give.
        problem: &'static str,
    },
    /// Two configured keys with the same `kid`.
    #[error(
        "auth_verification_keys: the kid {kid:?} is used twice (or is the signing key's); \
         every key needs its own kid"
    )]
    DuplicateKid {
        /// The `kid` used twice.
        kid: String,
    },
    /// A resource server without usable keys.
    #[error(transparent)]
    ResourceServer(#[from] ResourceServerError),
    /// The configuration could not be read (a key of the wrong type, ...).
    #[error("invalid auth configuration: {0}")]
    Invalid(Box<rocket::figment::Error>),
}

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
            .finish()
    }
}

/// Reads an algorithm name in any case (`hs256`, `HS256`, `eddsa`;
/// `Ed25519` for `EdDSA`).
fn algorithm_any_case<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Algorithm, D::Error> {
    let name = String::deserialize(deserializer)?;
    let upper = name.to_ascii_uppercase();
    if upper == "EDDSA" || upper == "ED25519" {
        return Ok(Algorithm::EdDSA);
    }
    Algorithm::from_str(&upper)
        .map_err(|_| serde::de::Error::custom(format!("unknown algorithm {name:?}")))
}

/// `auth_signing_key`: an Ed25519 or RSA private key, as a file or inline
/// PEM, optionally with its public key (checked to match).
///
/// `Debug` does not show an inline private key.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SigningKeyConfig {
    /// The key id (default: the public key's RFC 7638 thumbprint).
    pub kid: Option<String>,
    /// `EdDSA`, or `RS256`/`RS384`/`RS512`/`PS256`/`PS384`/`PS512`.
    #[serde(deserialize_with = "algorithm_any_case")]
    pub algorithm: Algorithm,
    /// Path of the PKCS#8 (or PKCS#1 RSA) private key PEM.
    pub private_key_file: Option<PathBuf>,
    /// The private key PEM itself.
    pub private_key_pem: Option<String>,
    /// Path of the public key PEM (optional: derived from the private key).
    pub public_key_file: Option<PathBuf>,
    /// The public key PEM itself (optional).
    pub public_key_pem: Option<String>,
}

impl fmt::Debug for SigningKeyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyConfig")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("private_key_file", &self.private_key_file)
            .field(
                "private_key_pem",
                &self.private_key_pem.as_ref().map(|_| "<redacted>"),
            )
            .field("public_key_file", &self.public_key_file)
            .field("public_key_pem", &self.public_key_pem)
            .finish()
    }
}

/// One of `auth_verification_keys`: a key that only verifies. A public key
/// (file or inline PEM) for `EdDSA` and RSA algorithms, or a previous
/// `auth_secret` for `HS*`.
///
/// `Debug` does not show the secret.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct VerificationKeyConfig {
    /// The key id (default: what the key would have as a signing key, i.e.
    /// derived from the secret or the public key's RFC 7638 thumbprint).
    pub kid: Option<String>,
    /// The one algorithm tokens verified with this key may use.
    #[serde(deserialize_with = "algorithm_any_case")]
    pub algorithm: Algorithm,
    /// Path of the public key PEM.
    pub public_key_file: Option<PathBuf>,
    /// The public key PEM itself.
    pub public_key_pem: Option<String>,
    /// A previous HMAC secret.
    pub secret: Option<String>,
}

impl fmt::Debug for VerificationKeyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationKeyConfig")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("public_key_file", &self.public_key_file)
            .field("public_key_pem", &self.public_key_pem)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The PEM from a file or inline: exactly one of them, or none if
/// `optional`.
fn pem_source(
    setting: &str,
    file: Option<&Path>,
    inline: Option<&str>,
    what: &'static str,
) -> Result<Option<Vec<u8>>, ConfigError> {
    match (file, inline) {
        (Some(_), Some(_)) => Err(ConfigError::KeySource {
            setting: setting.to_owned(),
            problem: what,
        }),
        (Some(path), None) => std::fs::read(path)
            .map(Some)
            .map_err(|e| ConfigError::KeyFile {
                setting: setting.to_owned(),
                path: path.to_owned(),
                reason: e.to_string(),
            }),
        (None, Some(pem)) => Ok(Some(pem.as_bytes().to_vec())),
        (None, None) => Ok(None),
    }
}

impl SigningKeyConfig {
    /// The signing keys this describes.
    ///
    /// # Errors
    ///
    /// [`ConfigError::KeySource`], [`ConfigError::KeyFile`],
    /// [`ConfigError::BadKey`].
    pub fn keys(&self) -> Result<TokenKeys, ConfigError> {
        const SETTING: &str = "auth_signing_key";
        let bad = |reason| ConfigError::BadKey {
            setting: SETTING.to_owned(),
            reason,
        };
        let private = pem_source(
            &format!("{SETTING}.private_key_file"),
            self.private_key_file.as_deref(),
            self.private_key_pem.as_deref(),
            "give private_key_file or private_key_pem, not both",
        )?
        .ok_or_else(|| ConfigError::KeySource {
            setting: SETTING.to_owned(),
            problem: "give private_key_file or private_key_pem",
        })?;
        let public = pem_source(
            &format!("{SETTING}.public_key_file"),
            self.public_key_file.as_deref(),
            self.public_key_pem.as_deref(),
            "give public_key_file or public_key_pem, not both",
        )?;
        let keys = match (self.algorithm, public) {
            (Algorithm::EdDSA, None) => TokenKeys::ed25519_private_pem(&private),
            (Algorithm::EdDSA, Some(public)) => TokenKeys::ed25519_pem(&private, &public),
            (algorithm, None) => TokenKeys::rsa_private_pem(algorithm, &private),
            (algorithm, Some(public)) => TokenKeys::rsa_pem(algorithm, &private, &public),
        }
        .map_err(|reason| match reason {
            KeyError::WrongAlgorithm { algorithm, .. } => KeyError::WrongAlgorithm {
                algorithm,
                expected: "an Ed25519 or RSA (use auth_secret for HMAC)",
            },
            other => other,
        })
        .map_err(bad)?;
        match &self.kid {
            Some(kid) => keys.with_kid(kid).map_err(bad),
            None => Ok(keys),
        }
    }
}

impl VerificationKeyConfig {
    /// The verification key this describes; `setting` names it in errors.
    ///
    /// # Errors
    ///
    /// [`ConfigError::KeySource`], [`ConfigError::KeyFile`],
    /// [`ConfigError::BadKey`].
    pub fn key(&self, setting: &str) -> Result<VerificationKey, ConfigError> {
        let bad = |reason| ConfigError::BadKey {
            setting: setting.to_owned(),
            reason,
        };
        let public = pem_source(
            &format!("{setting}.public_key_file"),
            self.public_key_file.as_deref(),
            self.public_key_pem.as_deref(),
            "give one of public_key_file, public_key_pem or secret",
        )?;
        let kid = self.kid.as_deref();
        match (public, &self.secret) {
            (Some(public), None) => match self.algorithm {
                Algorithm::EdDSA => VerificationKey::ed25519_pem(kid, &public),
                algorithm => VerificationKey::rsa_pem(kid, algorithm, &public),
            }
            .map_err(bad),
            (None, Some(secret)) => match kid {
                Some(kid) => VerificationKey::hmac(kid, self.algorithm, secret.as_bytes()),
                None => VerificationKey::hmac_default_kid(self.algorithm, secret.as_bytes()),
            }
            .map_err(bad),
            _ => Err(ConfigError::KeySource {
                setting: setting.to_owned(),
                problem: "give one of public_key_file, public_key_pem or secret",
            }),
        }
    }
}

/// The `realm` of challenges when none is configured.
pub(crate) const DEFAULT_REALM: &str = "api";

/// The allowed range of every numeric setting: key, smallest, largest.
const RANGES: [(&str, u64, u64); 20] = [
    // Access tokens cannot be revoked: at most a day.
    ("auth_access_ttl", 1, 24 * 3600),
    ("auth_refresh_ttl", 1, 365 * 24 * 3600),
    ("auth_refresh_max_age", 1, 365 * 24 * 3600),
    // Every live session is a row; a user needs a handful of devices.
    ("auth_max_sessions_per_user", 1, 10_000),
    // Beyond a few minutes, leeway only keeps expired tokens alive.
    ("auth_leeway", 0, 300),
    // A disabled user keeps access at most this long.
    ("auth_subject_cache_ttl", 0, 3600),
    // Each running hash holds argon2's memory (19 MiB by default).
    ("auth_hash_concurrency", 1, 256),
    ("auth_hash_queue", 0, 65_536),
    // 19 is the lowest priority there is.
    ("auth_hash_nice", 0, 19),
    ("auth_throttle_free_attempts", 1, 1000),
    // Nobody can be locked out for longer than a day.
    ("auth_throttle_max_delay", 1, 24 * 3600),
    // Each counter is a few dozen bytes plus its username.
    ("auth_throttle_capacity", 100, 10_000_000),
    // Resource servers may keep a removed key this long.
    ("auth_jwks_max_age", 0, 24 * 3600),
    // At least a second between JWKS fetches; at most an hour before a
    // rotated key is picked up.
    ("auth_jwks_min_refresh_interval", 1, 3600),
    ("auth_jwks_refresh_interval", 0, 24 * 3600),
    ("auth_jwks_timeout", 1, 60),
    // Per process; PostgreSQL's own max_connections (100 by default) is
    // shared by every instance.
    ("auth_database_max_connections", 1, 1000),
    ("auth_database_acquire_timeout", 1, 300),
    // At most what the hasher accepts; NIST's minimum is 8.
    ("auth_password_min_chars", 1, 256),
    ("auth_password_min_score", 0, 4),
];

impl AuthConfig {
    /// Reads the settings from a figment (use `rocket.figment()`).
    ///
    /// # Errors
    ///
    /// [`ConfigError::Invalid`] if a key has the wrong type.
    pub fn from_figment(figment: &rocket::figment::Figment) -> Result<Self, ConfigError> {
        figment
            .extract::<Self>()
            .map_err(|e| ConfigError::Invalid(Box::new(e)))
    }

    /// Checks every number against its range, and the declared scopes.
    ///
    /// # Errors
    ///
    /// [`ConfigError::OutOfRange`] for the first setting out of range,
    /// [`ConfigError::Scope`] for an invalid declared scope.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let values: [u64; RANGES.len()] = [
            self.access_ttl,
            self.refresh_ttl,
            self.refresh_max_age,
            self.max_sessions_per_user,
            self.leeway,
            self.subject_cache_ttl,
            self.hash_concurrency,
            self.hash_queue,
            self.hash_nice,
            self.throttle_free_attempts,
            self.throttle_max_delay,
            self.throttle_capacity,
            self.jwks_max_age,
            self.jwks_min_refresh_interval,
            self.jwks_refresh_interval,
            self.jwks_timeout,
            self.database_max_connections,
            self.database_acquire_timeout,
            self.password_min_chars,
            self.password_min_score,
        ];
        for ((key, min, max), value) in RANGES.into_iter().zip(values) {
            if !(min..=max).contains(&value) {
                return Err(ConfigError::OutOfRange {
                    key,
                    value,
                    min,
                    max,
                });
            }
        }
        self.scope_registry().map(|_| ())
    }

    /// The rules for new passwords: `auth_password_min_chars` and
    /// `auth_password_min_score`. Apply it where passwords are set (user
    /// creation, password changes), not at login.
    #[must_use]
    pub fn password_policy(&self) -> crate::PasswordPolicy {
        crate::PasswordPolicy::new()
            .with_min_chars(usize::try_from(self.password_min_chars).unwrap_or(usize::MAX))
            .with_min_score(u8::try_from(self.password_min_score).unwrap_or(u8::MAX))
    }

    /// The declared scopes as a registry.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Scope`] for an invalid scope-token.
    pub fn scope_registry(&self) -> Result<ScopeRegistry, ConfigError> {
        let mut registry = ScopeRegistry::new();
        for (scope, description) in &self.scopes {
            registry
                .declare(scope, description)
                .map_err(|reason| ConfigError::Scope {
                    scope: scope.clone(),
                    reason,
                })?;
        }
        Ok(registry)
    }

    /// The signing keys: `auth_signing_key` if set, else from
    /// `auth_secret`, `auth_algorithm` and `auth_key_id`.
    ///
    /// Without either, a debug build (`debug_assertions`) gets a random one
    /// and a warning: tokens then die with the process. A release build
    /// refuses.
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingSecret`] (release builds), [`ConfigError::Key`]
    /// for a weak secret or a non-HMAC algorithm.
    pub fn keys(&self) -> Result<TokenKeys, ConfigError> {
        if let Some(signing) = &self.signing_key {
            return signing.keys();
        }
        let keys = self.secret_keys()?;
        match &self.key_id {
            Some(kid) => keys.with_kid(kid).map_err(|reason| ConfigError::BadKey {
                setting: "auth_key_id".to_owned(),
                reason,
            }),
            None => Ok(keys),
        }
    }

    /// The keys that only verify: `auth_verification_keys`, and
    /// `auth_secret` when `auth_signing_key` signs instead (so tokens it
    /// signed keep working; remove it once they have expired).
    ///
    /// # Errors
    ///
    /// [`ConfigError::DuplicateKid`], or the first key's error.
    pub fn verification_keys(&self) -> Result<KeySet, ConfigError> {
        let mut set = KeySet::new();
        let mut add = |key: VerificationKey| {
            set.insert(key).map_err(|e| match e {
                KeyError::DuplicateKid { kid } => ConfigError::DuplicateKid { kid },
                other => ConfigError::Key(other),
            })
        };
        if self.signing_key.is_some()
            && let Some(secret) = &self.secret
        {
            log::warn!(
                "auth: auth_signing_key signs; auth_secret only verifies tokens it signed. \
                 Remove it once they have expired."
            );
            let bad = |reason| ConfigError::BadKey {
                setting: "auth_secret".to_owned(),
                reason,
            };
            let key = match &self.key_id {
                Some(kid) => VerificationKey::hmac(kid, self.algorithm, secret.as_bytes()),
                None => VerificationKey::hmac_default_kid(self.algorithm, secret.as_bytes()),
            }
            .map_err(bad)?;
            add(key)?;
        }
        for (i, key) in self.verification_keys.iter().enumerate() {
            add(key.key(&format!("auth_verification_keys[{i}]"))?)?;
        }
        Ok(set)
    }

    /// [`AccessTokens`] with the configured keys, issuer, audience, lifetime,
    /// leeway and JWKS `max-age`; `keys` replaces the configured signing
    /// keys.
    ///
    /// # Errors
    ///
    /// Any key error; [`ConfigError::DuplicateKid`] if a verification key
    /// has the signing key's `kid`.
    pub fn access_tokens(&self, keys: Option<TokenKeys>) -> Result<AccessTokens, ConfigError> {
        let keys = match keys {
            Some(keys) => keys,
            None => self.keys()?,
        };
        AccessTokens::new(keys, &self.issuer, &self.audience)
            .with_verification_keys(self.verification_keys()?)
            .map_err(|e| match e {
                KeyError::DuplicateKid { kid } => ConfigError::DuplicateKid { kid },
                other => ConfigError::Key(other),
            })
            .map(|tokens| {
                tokens
                    .with_ttl(self.access_ttl)
                    .with_leeway(self.leeway)
                    .with_jwks_max_age(self.jwks_max_age)
            })
    }

    fn secret_keys(&self) -> Result<TokenKeys, ConfigError> {
        let algorithm = self.algorithm;
        let keys = match &self.secret {
            Some(secret) => TokenKeys::hmac(algorithm, secret.as_bytes()),
            None if cfg!(debug_assertions) => {
                log::warn!(
                    "auth: ROCKET_AUTH_SECRET is not set; using a random secret for this run. \
                     Tokens will not survive a restart, and release builds refuse to start."
                );
                let mut secret = [0u8; 48];
                rand::rngs::OsRng.fill_bytes(&mut secret);
                TokenKeys::hmac(algorithm, &secret)
            }
            None => return Err(ConfigError::MissingSecret),
        };
        Ok(keys?)
    }
}

/// Why a resource server cannot start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResourceServerError {
    /// Neither a JWKS URL nor static keys.
    #[error(
        "a resource server needs the issuer's keys: set auth_jwks_url (feature remote-jwks) \
         or auth_verification_keys"
    )]
    NoKeys,
    /// A static key is a shared secret.
    #[error(
        "the verification key {kid:?} is a shared secret; a resource server only accepts \
         public keys (Ed25519, RSA)"
    )]
    SymmetricKey {
        /// The key's `kid`.
        kid: String,
    },
    /// `auth_jwks_url` is not an `http://` or `https://` URL.
    #[error("auth_jwks_url {url:?} is not an http:// or https:// URL")]
    BadJwksUrl {
        /// The URL as configured.
        url: String,
    },
    /// `auth_jwks_url` is plain `http://` to another machine and
    /// `auth_jwks_allow_insecure_http` is not set.
    #[error(
        "auth_jwks_url {url:?} is plain http:// to another machine: anyone on the path could \
         substitute the issuer's keys; use https://, or set auth_jwks_allow_insecure_http = true \
         to accept the risk"
    )]
    InsecureJwksUrl {
        /// The URL as configured, credentials and query masked.
        url: String,
    },
    /// No explicit `auth_audience` in resource-server mode.
    #[error(
        "a resource server needs an explicit auth_audience (the aud its tokens are issued for, \
         e.g. \"reports-api\"): with the default {DEFAULT_AUDIENCE:?}, services left at defaults \
         accept each other's tokens"
    )]
    AudienceRequired,
    /// `auth_jwks_url` is set but the feature is off.
    #[error(
        "auth_jwks_url is set, but auth-core was built without the feature remote-jwks; \
         enable it in Cargo.toml"
    )]
    RemoteJwksDisabled,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocket::figment::Figment;
    use rocket::figment::providers::{Format as _, Serialized, Toml};

    #[test]
    fn defaults_match_the_contract() {
        let config = AuthConfig::from_figment(&Figment::new()).unwrap();
        assert_eq!(config.access_ttl, 1800);
        assert_eq!(config.refresh_ttl, 1_209_600);
        assert_eq!(config.refresh_max_age, 30 * 24 * 3600);
        assert!(config.secret.is_none());
        config.validate().unwrap();
    }

    #[test]
    fn reads_flat_keys_and_scope_table() {
        let figment = Figment::new().merge(Toml::string(
            r#"
            auth_secret = "0123456789abcdef0123456789abcdef"
            auth_access_ttl = 60
            auth_scopes = { "read:items" = "Read items" }
            port = 8000
            "#,
        ));
        let config = AuthConfig::from_figment(&figment).unwrap();
        assert_eq!(config.access_ttl, 60);
        assert_eq!(
            config.scope_registry().unwrap().description("read:items"),
            Some("Read items")
        );
        assert!(config.keys().is_ok());
    }

    #[test]
    fn refuses_bad_values() {
        let bad_ttl = Figment::new().merge(Serialized::default("auth_access_ttl", 0));
        assert!(matches!(
            AuthConfig::from_figment(&bad_ttl).unwrap().validate(),
            Err(ConfigError::OutOfRange {
                key: "auth_access_ttl",
                ..
            })
        ));
        let wrong_type = Figment::new().merge(Serialized::default("auth_access_ttl", "soon"));
        assert!(matches!(
            AuthConfig::from_figment(&wrong_type),
            Err(ConfigError::Invalid(_))
        ));
        let short = AuthConfig {
            secret: Some("short".into()),
            ..AuthConfig::default()
        };
        assert!(matches!(
            short.keys(),
            Err(ConfigError::Key(KeyError::SecretTooShort { len: 5 }))
        ));
        let alg = AuthConfig {
            algorithm: Algorithm::RS256,
            secret: Some("0123456789abcdef0123456789abcdef".into()),
            ..AuthConfig::default()
        };
        assert!(matches!(
            alg.keys(),
            Err(ConfigError::Key(KeyError::WrongAlgorithm { .. }))
        ));
        let unknown = Figment::new().merge(Serialized::default("auth_algorithm", "HS999"));
        assert!(matches!(
            AuthConfig::from_figment(&unknown),
            Err(ConfigError::Invalid(_))
        ));
        let scope = AuthConfig {
            scopes: BTreeMap::from([("bad scope".to_owned(), String::new())]),
            ..AuthConfig::default()
        };
        assert!(matches!(scope.validate(), Err(ConfigError::Scope { .. })));
    }

    #[test]
    fn every_number_is_bounded_and_the_error_names_the_range() {
        for (key, value) in [
            ("auth_access_ttl", u64::MAX),
            ("auth_refresh_ttl", 0),
            ("auth_refresh_max_age", 0),
            ("auth_refresh_max_age", u64::MAX),
            ("auth_max_sessions_per_user", 0),
            ("auth_max_sessions_per_user", 10_001),
            ("auth_leeway", u64::MAX),
            ("auth_subject_cache_ttl", u64::MAX),
            ("auth_jwks_min_refresh_interval", 0),
            ("auth_jwks_refresh_interval", u64::MAX),
            ("auth_jwks_timeout", 0),
            ("auth_password_min_chars", 0),
            ("auth_password_min_score", 5),
        ] {
            let figment = Figment::new().merge(Serialized::default(key, value));
            let err = AuthConfig::from_figment(&figment)
                .unwrap()
                .validate()
                .unwrap_err();
            let message = err.to_string();
            assert!(
                matches!(err, ConfigError::OutOfRange { key: k, .. } if k == key),
                "{message}"
            );
            assert!(message.contains("must be between"), "{message}");
        }
    }

    #[test]
    fn algorithm_names_are_read_in_any_case() {
        let figment = Figment::new().merge(Serialized::default("auth_algorithm", "hs384"));
        let config = AuthConfig::from_figment(&figment).unwrap();
        assert_eq!(config.algorithm, Algorithm::HS384);
    }

    #[test]
    fn debug_hides_the_secret() {
        let config = AuthConfig {
            secret: Some("0123456789abcdef0123456789abcdef".into()),
            ..AuthConfig::default()
        };
        let debug = format!("{config:?}");
        assert!(!debug.contains("0123456789abcdef"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
    }

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

    fn fixture_path(name: &str) -> String {
        format!("{FIXTURES}/{name}")
    }

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(fixture_path(name)).unwrap()
    }

    fn from_toml(toml: &str) -> AuthConfig {
        AuthConfig::from_figment(&Figment::new().merge(Toml::string(toml))).unwrap()
    }

    #[test]
    fn the_secret_key_gets_a_configurable_kid() {
        let secret = r#"auth_secret = "0123456789abcdef0123456789abcdef""#;
        let derived = from_toml(secret).keys().unwrap();
        assert_eq!(
            derived.kid(),
            TokenKeys::hs256(b"0123456789abcdef0123456789abcdef")
                .unwrap()
                .kid()
        );
        let named = from_toml(&format!("{secret}\nauth_key_id = \"2026-01\""));
        assert_eq!(named.keys().unwrap().kid(), "2026-01");
        let bad = from_toml(&format!("{secret}\nauth_key_id = \"has space\""));
        assert!(matches!(
            bad.keys(),
            Err(ConfigError::BadKey { setting, reason: KeyError::BadKid { .. } }) if setting == "auth_key_id"
        ));
    }

    #[test]
    fn signing_keys_come_from_a_pem_file_or_inline_pem() {
        let file = from_toml(&format!(
            r#"auth_signing_key = {{ kid = "ed", algorithm = "EdDSA", private_key_file = "{}" }}"#,
            fixture_path("ed25519-a.key")
        ));
        let keys = file.keys().unwrap();
        assert_eq!(keys.kid(), "ed");
        assert_eq!(keys.algorithm(), Algorithm::EdDSA);
        // No secret needed, even in a release build: no random one either.
        assert!(file.secret.is_none());
        let inline = AuthConfig {
            signing_key: Some(SigningKeyConfig {
                algorithm: Algorithm::RS256,
                private_key_pem: Some(fixture("rsa-2048.key")),
                public_key_pem: Some(fixture("rsa-2048.pub")),
                ..SigningKeyConfig::default()
            }),
            ..AuthConfig::default()
        };
        let keys = inline.keys().unwrap();
        assert_eq!(keys.algorithm(), Algorithm::RS256);
        assert_eq!(keys.kid().len(), 43); // RFC 7638 thumbprint
        let tokens = inline.access_tokens(None).unwrap();
        assert_eq!(tokens.jwks().keys.len(), 1);
        // Algorithm names in any case, and Ed25519 for EdDSA.
        for name in ["eddsa", "EdDSA", "Ed25519"] {
            let config = from_toml(&format!(
                r#"auth_signing_key = {{ algorithm = "{name}", private_key_pem = """{}""" }}"#,
                fixture("ed25519-a.key")
            ));
            assert_eq!(config.keys().unwrap().algorithm(), Algorithm::EdDSA);
        }
    }

    #[test]
    fn key_errors_name_the_setting() {
        let missing = from_toml(
            r#"auth_signing_key = { algorithm = "EdDSA", private_key_file = "no/such/key.pem" }"#,
        );
        let err = missing.keys().unwrap_err();
        assert!(
            matches!(&err, ConfigError::KeyFile { setting, .. } if setting == "auth_signing_key.private_key_file"),
            "{err}"
        );
        assert!(err.to_string().contains("no/such/key.pem"), "{err}");

        let not_pem = from_toml(
            r#"auth_signing_key = { algorithm = "EdDSA", private_key_pem = "not a pem" }"#,
        );
        assert!(matches!(
            not_pem.keys(),
            Err(ConfigError::BadKey {
                reason: KeyError::Pem(_),
                ..
            })
        ));
        // An RSA key said to be Ed25519, and an HMAC algorithm for a PEM.
        let mismatch = AuthConfig {
            signing_key: Some(SigningKeyConfig {
                algorithm: Algorithm::EdDSA,
                private_key_pem: Some(fixture("rsa-2048.key")),
                ..SigningKeyConfig::default()
            }),
            ..AuthConfig::default()
        };
        assert!(matches!(mismatch.keys(), Err(ConfigError::BadKey { .. })));
        let hmac_pem = AuthConfig {
            signing_key: Some(SigningKeyConfig {
                algorithm: Algorithm::HS256,
                private_key_pem: Some(fixture("ed25519-a.key")),
                ..SigningKeyConfig::default()
            }),
            ..AuthConfig::default()
        };
        let err = hmac_pem.keys().unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::BadKey {
                    reason: KeyError::WrongAlgorithm { .. },
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("auth_secret"), "{err}");
        // A private key and its public key that do not match.
        let pair = AuthConfig {
            signing_key: Some(SigningKeyConfig {
                algorithm: Algorithm::EdDSA,
                private_key_pem: Some(fixture("ed25519-a.key")),
                public_key_file: Some(fixture_path("ed25519-b.pub").into()),
                ..SigningKeyConfig::default()
            }),
            ..AuthConfig::default()
        };
        assert!(matches!(
            pair.keys(),
            Err(ConfigError::BadKey {
                reason: KeyError::KeyMismatch,
                ..
            })
        ));
        // Both a file and inline PEM, or neither.
        let both = AuthConfig {
            signing_key: Some(SigningKeyConfig {
                algorithm: Algorithm::EdDSA,
                private_key_pem: Some(fixture("ed25519-a.key")),
                private_key_file: Some(fixture_path("ed25519-a.key").into()),
                ..SigningKeyConfig::default()
            }),
            ..AuthConfig::default()
        };
        assert!(matches!(both.keys(), Err(ConfigError::KeySource { .. })));
        let neither = from_toml(r#"auth_verification_keys = [ { algorithm = "EdDSA" } ]"#);
        assert!(matches!(
            neither.verification_keys(),
            Err(ConfigError::KeySource { setting, .. }) if setting == "auth_verification_keys[0]"
        ));
        // An unknown field is a typo, not silently ignored.
        let figment = Figment::new().merge(Toml::string(
            r#"auth_signing_key = { algorithm = "EdDSA", private_key = "x" }"#,
        ));
        assert!(matches!(
            AuthConfig::from_figment(&figment),
            Err(ConfigError::Invalid(_))
        ));
    }

    #[test]
    fn verification_keys_are_read_and_kids_must_differ() {
        let config = from_toml(&format!(
            r#"
            auth_secret = "0123456789abcdef0123456789abcdef"
            auth_verification_keys = [
                {{ kid = "ed-old", algorithm = "EdDSA", public_key_file = "{}" }},
                {{ kid = "rsa-old", algorithm = "RS256", public_key_pem = """{}""" }},
                {{ algorithm = "HS256", secret = "an-older-secret-an-older-secret!" }},
            ]
            "#,
            fixture_path("ed25519-b.pub"),
            fixture("rsa-2048.pub"),
        ));
        let set = config.verification_keys().unwrap();
        assert_eq!(set.len(), 3);
        assert_eq!(set.get("rsa-old").unwrap().algorithm(), Algorithm::RS256);
        let tokens = config.access_tokens(None).unwrap();
        assert_eq!(tokens.jwks().keys.len(), 2);

        let duplicate = from_toml(
            r#"
            auth_verification_keys = [
                { kid = "same", algorithm = "HS256", secret = "an-older-secret-an-older-secret!" },
                { kid = "same", algorithm = "HS512", secret = "another-old-secret-another-old-s" },
            ]
            "#,
        );
        assert_eq!(
            duplicate.verification_keys().unwrap_err(),
            ConfigError::DuplicateKid { kid: "same".into() }
        );
        let clash = from_toml(
            r#"
            auth_secret = "0123456789abcdef0123456789abcdef"
            auth_key_id = "same"
            auth_verification_keys = [
                { kid = "same", algorithm = "HS256", secret = "an-older-secret-an-older-secret!" },
            ]
            "#,
        );
        assert!(matches!(
            clash.access_tokens(None),
            Err(ConfigError::DuplicateKid { .. })
        ));
        // A public key under an HMAC algorithm, a secret under EdDSA.
        let wrong = from_toml(&format!(
            r#"auth_verification_keys = [ {{ algorithm = "HS256", public_key_file = "{}" }} ]"#,
            fixture_path("ed25519-b.pub")
        ));
        assert!(matches!(
            wrong.verification_keys(),
            Err(ConfigError::BadKey {
                reason: KeyError::WrongAlgorithm { .. },
                ..
            })
        ));
        let wrong = from_toml(
            r#"auth_verification_keys = [ { algorithm = "EdDSA", secret = "an-older-secret-an-older-secret!" } ]"#,
        );
        assert!(matches!(
            wrong.verification_keys(),
            Err(ConfigError::BadKey {
                reason: KeyError::WrongAlgorithm { .. },
                ..
            })
        ));
    }

    #[test]
    fn a_signing_key_keeps_the_secret_as_a_verification_key() {
        let config = from_toml(&format!(
            r#"
            auth_secret = "0123456789abcdef0123456789abcdef"
            auth_signing_key = {{ algorithm = "EdDSA", private_key_file = "{}" }}
            "#,
            fixture_path("ed25519-a.key")
        ));
        let old = AccessTokens::new(
            TokenKeys::hs256(b"0123456789abcdef0123456789abcdef").unwrap(),
            "auth-core",
            "api",
        );
        let token = old
            .issue("alice", "c", &crate::Scopes::default())
            .unwrap()
            .token;
        let tokens = config.access_tokens(None).unwrap();
        assert_eq!(tokens.keys_algorithm(), Some(Algorithm::EdDSA));
        assert_eq!(tokens.verify(&token).unwrap().sub, "alice");
        // Only the Ed25519 key is published.
        assert_eq!(tokens.jwks().keys.len(), 1);
    }

    #[test]
    fn debug_hides_inline_private_keys_and_secrets() {
        let config = AuthConfig {
            signing_key: Some(SigningKeyConfig {
                algorithm: Algorithm::EdDSA,
                private_key_pem: Some(fixture("ed25519-a.key")),
                ..SigningKeyConfig::default()
            }),
            verification_keys: vec![VerificationKeyConfig {
                algorithm: Algorithm::HS256,
                secret: Some("an-older-secret-an-older-secret!".into()),
                ..VerificationKeyConfig::default()
            }],
            ..AuthConfig::default()
        };
        let debug = format!("{config:?}");
        assert!(!debug.contains("PRIVATE KEY"), "{debug}");
        assert!(!debug.contains("an-older-secret"), "{debug}");
    }

    #[test]
    fn debug_builds_generate_a_secret() {
        // Unit tests run with debug assertions.
        assert!(AuthConfig::default().keys().is_ok());
    }
}
