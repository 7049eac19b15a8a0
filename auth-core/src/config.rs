//! Settings, read through Rocket's own configuration (`Rocket.toml` and
//! `ROCKET_*` environment variables).
//!
//! Every key, its environment variable, default and allowed range is listed
//! once, in the [crate documentation](crate#configuration).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use jsonwebtoken::Algorithm;
use rand::RngCore as _;
use serde::{Deserialize, Deserializer};

use crate::scopes::{ScopeError, ScopeRegistry};
use crate::token::{AccessTokens, KeyError, TokenKeys};

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
    /// Whether failed logins are throttled per username and address.
    #[serde(rename = "auth_throttle")]
    pub throttle: bool,
    /// Failed logins allowed per username before delays start.
    #[serde(rename = "auth_throttle_free_attempts")]
    pub throttle_free_attempts: u64,
    /// The longest delay throttling imposes, in seconds.
    #[serde(rename = "auth_throttle_max_delay")]
    pub throttle_max_delay: u64,
    /// Database connections one process keeps open at most (the pool of
    /// [`crate::database::Database`]).
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
            leeway: AccessTokens::DEFAULT_LEEWAY,
            subject_cache_ttl: 5,
            issuer: "auth-core".to_owned(),
            audience: "api".to_owned(),
            realm: DEFAULT_REALM.to_owned(),
            default_client_id: "default".to_owned(),
            algorithm: Algorithm::HS256,
            scopes: BTreeMap::new(),
            hash_concurrency: crate::password::default_concurrency() as u64,
            hash_queue: 4 * crate::password::default_concurrency() as u64,
            throttle: true,
            throttle_free_attempts: 5,
            throttle_max_delay: 300,
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
            .field("leeway", &self.leeway)
            .field("subject_cache_ttl", &self.subject_cache_ttl)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("realm", &self.realm)
            .field("default_client_id", &self.default_client_id)
            .field("algorithm", &self.algorithm)
            .field("scopes", &self.scopes)
            .field("hash_concurrency", &self.hash_concurrency)
            .field("hash_queue", &self.hash_queue)
            .field("throttle", &self.throttle)
            .field("throttle_free_attempts", &self.throttle_free_attempts)
            .field("throttle_max_delay", &self.throttle_max_delay)
            .field("database_max_connections", &self.database_max_connections)
            .field("database_acquire_timeout", &self.database_acquire_timeout)
            .finish()
    }
}

/// Reads an algorithm name in any case (`hs256`, `HS256`).
fn algorithm_any_case<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Algorithm, D::Error> {
    let name = String::deserialize(deserializer)?;
    Algorithm::from_str(&name.to_ascii_uppercase())
        .map_err(|_| serde::de::Error::custom(format!("unknown algorithm {name:?}")))
}

/// The `realm` of challenges when none is configured.
pub(crate) const DEFAULT_REALM: &str = "api";

/// The allowed range of every numeric setting: key, smallest, largest.
const RANGES: [(&str, u64, u64); 11] = [
    // Access tokens cannot be revoked: at most a day.
    ("auth_access_ttl", 1, 24 * 3600),
    ("auth_refresh_ttl", 1, 365 * 24 * 3600),
    ("auth_refresh_max_age", 1, 365 * 24 * 3600),
    // Beyond a few minutes, leeway only keeps expired tokens alive.
    ("auth_leeway", 0, 300),
    // A disabled user keeps access at most this long.
    ("auth_subject_cache_ttl", 0, 3600),
    // Each running hash holds argon2's memory (19 MiB by default).
    ("auth_hash_concurrency", 1, 256),
    ("auth_hash_queue", 0, 65_536),
    ("auth_throttle_free_attempts", 1, 1000),
    // Nobody can be locked out for longer than a day.
    ("auth_throttle_max_delay", 1, 24 * 3600),
    // Per process; PostgreSQL's own max_connections (100 by default) is
    // shared by every instance.
    ("auth_database_max_connections", 1, 1000),
    ("auth_database_acquire_timeout", 1, 300),
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
        let values = [
            self.access_ttl,
            self.refresh_ttl,
            self.refresh_max_age,
            self.leeway,
            self.subject_cache_ttl,
            self.hash_concurrency,
            self.hash_queue,
            self.throttle_free_attempts,
            self.throttle_max_delay,
            self.database_max_connections,
            self.database_acquire_timeout,
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

    /// The signing keys from `auth_secret` and `auth_algorithm`.
    ///
    /// Without a secret, a debug build (`debug_assertions`) gets a random one
    /// and a warning: tokens then die with the process. A release build
    /// refuses.
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingSecret`] (release builds), [`ConfigError::Key`]
    /// for a weak secret or a non-HMAC algorithm.
    pub fn keys(&self) -> Result<TokenKeys, ConfigError> {
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
            ("auth_leeway", u64::MAX),
            ("auth_subject_cache_ttl", u64::MAX),
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

    #[test]
    fn debug_builds_generate_a_secret() {
        // Unit tests run with debug assertions.
        assert!(AuthConfig::default().keys().is_ok());
    }
}
