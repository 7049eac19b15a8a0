//! Reading the settings from Rocket's figment, checking them (every number
//! against its range, the scopes, the keys), and building what they
//! describe: the scope registry, the keys, the access-token issuer.

use rand::RngCore as _;

use super::{AuthConfig, ConfigError};
use crate::scopes::ScopeRegistry;
use crate::token::{AccessTokens, KeyError, KeySet, TokenKeys, VerificationKey};

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

/// `auth_api_key_header` must be an HTTP field name (an RFC 9110 token)
/// that no other credential uses.
fn check_api_key_header(name: &str) -> Result<(), ConfigError> {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    let problem = if name.is_empty() || !name.bytes().all(token) {
        "must be an HTTP header name (letters, digits and !#$%&'*+-.^_`|~)"
    } else if ["authorization", "cookie", "x-csrf-token"]
        .iter()
        .any(|taken| name.eq_ignore_ascii_case(taken))
    {
        "must not be a header another credential uses"
    } else {
        return Ok(());
    };
    Err(ConfigError::ApiKeyHeader {
        name: name.to_owned(),
        problem,
    })
}

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
        self.cookies.validate()?;
        super::discovery::public_base_url(self.public_base_url.as_deref())?;
        if self.trusted_issuers.len() > super::MAX_TRUSTED_ISSUERS {
            return Err(super::ResourceServerError::TooManyIssuers {
                count: self.trusted_issuers.len(),
            }
            .into());
        }
        check_api_key_header(&self.api_key_header)?;
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
