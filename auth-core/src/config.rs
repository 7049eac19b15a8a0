//! Settings, read through Rocket's own configuration (`Rocket.toml` and
//! `ROCKET_*` environment variables).
//!
//! | key (`Rocket.toml`) | environment | default |
//! |---|---|---|
//! | `auth_secret` | `ROCKET_AUTH_SECRET` | debug builds: random per start, with a warning; release builds: required |
//! | `auth_access_ttl` | `ROCKET_AUTH_ACCESS_TTL` | `1800` seconds |
//! | `auth_refresh_ttl` | `ROCKET_AUTH_REFRESH_TTL` | `1209600` seconds (14 days) |
//! | `auth_leeway` | `ROCKET_AUTH_LEEWAY` | `10` seconds |
//! | `auth_subject_cache_ttl` | `ROCKET_AUTH_SUBJECT_CACHE_TTL` | `5` seconds; `0` looks the user up on every request |
//! | `auth_issuer` | `ROCKET_AUTH_ISSUER` | `"auth-core"` |
//! | `auth_audience` | `ROCKET_AUTH_AUDIENCE` | `"api"` |
//! | `auth_realm` | `ROCKET_AUTH_REALM` | `"api"` |
//! | `auth_default_client_id` | `ROCKET_AUTH_DEFAULT_CLIENT_ID` | `"default"` |
//! | `auth_algorithm` | `ROCKET_AUTH_ALGORITHM` | `"HS256"` (or `HS384`, `HS512`) |
//! | `auth_scopes` | `ROCKET_AUTH_SCOPES` | none: a table `scope = "description"` |
//!
//! ```toml
//! [default]
//! auth_access_ttl = 900
//! auth_issuer = "https://auth.example.com"
//!
//! [default.auth_scopes]
//! "read:items" = "Read items"
//!
//! [release]
//! # better: ROCKET_AUTH_SECRET in the environment
//! auth_secret = "a random string of at least 32 bytes ..."
//! ```

use std::collections::BTreeMap;
use std::str::FromStr;

use jsonwebtoken::Algorithm;
use rand::RngCore as _;
use serde::Deserialize;

use crate::scopes::ScopeRegistry;
use crate::token::{AccessTokens, TokenKeys};

/// A configuration the toolkit refuses to start with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No secret in a release build.
    #[error(
        "auth_secret is not set; set ROCKET_AUTH_SECRET to a random string of at least 32 bytes \
         (e.g. `openssl rand -base64 48`)"
    )]
    MissingSecret,
    /// A secret that is too short or not random.
    #[error("auth_secret is too weak: {0}")]
    WeakSecret(String),
    /// An unusable algorithm.
    #[error("auth_algorithm: {0}")]
    Algorithm(String),
    /// A key that does not parse.
    #[error("invalid signing key: {0}")]
    Key(String),
    /// A lifetime of zero or beyond a year.
    #[error("{key} must be between 1 and 31536000 seconds, not {value}")]
    Lifetime {
        /// The setting.
        key: &'static str,
        /// The value given.
        value: u64,
    },
    /// A declared scope that is not a valid scope-token.
    #[error("auth_scopes: {scope:?} is not a valid RFC 6749 scope-token")]
    Scope {
        /// The scope as written.
        scope: String,
    },
    /// The configuration could not be read (wrong type, ...).
    #[error("invalid auth configuration: {0}")]
    Invalid(String),
}

/// The raw settings, as deserialized from Rocket's figment. Every field has a
/// default; see the module documentation.
#[derive(Debug, Clone, Deserialize)]
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
    /// `HS256`, `HS384` or `HS512`. For asymmetric keys use
    /// [`crate::AuthFairing::keys`].
    #[serde(rename = "auth_algorithm")]
    pub algorithm: String,
    /// Declared scopes and their descriptions.
    #[serde(rename = "auth_scopes")]
    pub scopes: BTreeMap<String, String>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            secret: None,
            access_ttl: AccessTokens::DEFAULT_TTL,
            refresh_ttl: 14 * 24 * 3600,
            leeway: AccessTokens::DEFAULT_LEEWAY,
            subject_cache_ttl: 5,
            issuer: "auth-core".to_owned(),
            audience: "api".to_owned(),
            realm: "api".to_owned(),
            default_client_id: "default".to_owned(),
            algorithm: "HS256".to_owned(),
            scopes: BTreeMap::new(),
        }
    }
}

const MAX_TTL: u64 = 365 * 24 * 3600;

impl AuthConfig {
    /// Reads the settings from a figment (use `rocket.figment()`).
    ///
    /// # Errors
    ///
    /// [`ConfigError::Invalid`] if a key has the wrong type.
    pub fn from_figment(figment: &rocket::figment::Figment) -> Result<Self, ConfigError> {
        figment
            .extract::<Self>()
            .map_err(|e| ConfigError::Invalid(e.to_string()))
    }

    /// Checks lifetimes and declared scopes.
    ///
    /// # Errors
    ///
    /// The first setting out of range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (key, value) in [
            ("auth_access_ttl", self.access_ttl),
            ("auth_refresh_ttl", self.refresh_ttl),
        ] {
            if value == 0 || value > MAX_TTL {
                return Err(ConfigError::Lifetime { key, value });
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
                .map_err(|_| ConfigError::Scope {
                    scope: scope.clone(),
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
    /// [`ConfigError::MissingSecret`] (release builds),
    /// [`ConfigError::WeakSecret`], [`ConfigError::Algorithm`].
    pub fn keys(&self) -> Result<TokenKeys, ConfigError> {
        let algorithm =
            Algorithm::from_str(&self.algorithm.to_ascii_uppercase()).map_err(|_| {
                ConfigError::Algorithm(format!("unknown algorithm {:?}", self.algorithm))
            })?;
        match &self.secret {
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
            None => Err(ConfigError::MissingSecret),
        }
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
            Err(ConfigError::Lifetime { .. })
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
        assert!(matches!(short.keys(), Err(ConfigError::WeakSecret(_))));
        let alg = AuthConfig {
            algorithm: "RS256".into(),
            secret: Some("0123456789abcdef0123456789abcdef".into()),
            ..AuthConfig::default()
        };
        assert!(matches!(alg.keys(), Err(ConfigError::Algorithm(_))));
        let scope = AuthConfig {
            scopes: BTreeMap::from([("bad scope".to_owned(), String::new())]),
            ..AuthConfig::default()
        };
        assert!(matches!(scope.validate(), Err(ConfigError::Scope { .. })));
    }

    #[test]
    fn debug_builds_generate_a_secret() {
        // Unit tests run with debug assertions.
        assert!(AuthConfig::default().keys().is_ok());
    }
}
