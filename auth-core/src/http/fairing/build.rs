//! Building [`Auth`] from the settings: an issuer with its stores, hasher,
//! throttle, sessions and keys, or a resource server with a verifier alone.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::api_keys::ApiKeys;
use crate::auth::browser::BrowserSessions;
use crate::auth::subjects::SubjectCache;
use crate::auth::{Auth, Issuer, Subjects, Verifier};
use crate::config::{AuthConfig, ConfigError};
use crate::resource_server::ResourceServer;
use crate::store::{MemoryRefreshTokenStore, MemoryUserStore};
use crate::throttle::Throttle;
use crate::token::{AccessTokens, KeySet};

use super::AuthFairing;

impl AuthFairing {
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
        if self.resource_server {
            // Settings given in code say their audience; read from the
            // figment, the default only counts when it was written down.
            let audience_explicit = match &self.config {
                Some(config) => config.audience != crate::config::DEFAULT_AUDIENCE,
                None => figment.find_value("auth_audience").is_ok(),
            };
            return self.build_resource_server(&config, audience_explicit);
        }
        let tokens = config.access_tokens(self.keys.clone())?;
        let tokens = with_more_keys(tokens, &self.verification_keys)?;
        let mut scopes = config.scope_registry()?;
        scopes.extend(self.scopes.clone());
        let users = self.users.clone().unwrap_or_else(|| {
            log::warn!("auth: no user store configured; using an empty in-memory store");
            Arc::new(MemoryUserStore::new())
        });
        let refresh_tokens = self
            .refresh_tokens
            .clone()
            .unwrap_or_else(|| Arc::new(MemoryRefreshTokenStore::new()));
        let shared_counters = users.shared_counters();
        let clients = self.clients.clone().or_else(|| users.clients());
        let browser = (self.cookie_sessions || config.cookies.enabled)
            .then(|| BrowserSessions::new(&config.cookies, config.secret.as_deref()));
        let answers = answers(&config)?;
        let api_keys = self.api_keys.clone().map(|store| {
            ApiKeys::new(
                config.api_key_header.clone(),
                store,
                Arc::clone(&users),
                config.issuer.clone(),
                config.audience.clone(),
                Duration::from_secs(config.subject_cache_ttl),
            )
        });
        let verifier = Verifier {
            tokens,
            subjects: Subjects::Stores {
                users: Arc::clone(&users),
                refresh_tokens: Arc::clone(&refresh_tokens),
                clients: clients.clone(),
                cache: SubjectCache::new(Duration::from_secs(config.subject_cache_ttl)),
            },
        };
        let issuer = Issuer {
            users,
            refresh_tokens,
            clients,
            hasher: self
                .hasher
                .clone()
                .unwrap_or_default()
                .with_nice(u8::try_from(config.hash_nice).unwrap_or(19))
                .with_admission(
                    usize::try_from(config.hash_concurrency).unwrap_or(usize::MAX),
                    usize::try_from(config.hash_queue).unwrap_or(usize::MAX),
                ),
            throttle: Throttle::with_capacity(
                config.throttle,
                u32::try_from(config.throttle_free_attempts).unwrap_or(u32::MAX),
                Duration::from_secs(config.throttle_max_delay),
                usize::try_from(config.throttle_capacity).unwrap_or(usize::MAX),
            )
            .with_shared(shared_counters),
            default_client_id: config.default_client_id,
            refresh_ttl: config.refresh_ttl,
            refresh_max_age: config.refresh_max_age,
            max_sessions_per_user: usize::try_from(config.max_sessions_per_user)
                .unwrap_or(usize::MAX),
        };
        Ok(Auth {
            verifier,
            issuer: Some(issuer),
            scopes,
            answers,
            realm: config.realm,
            trusted_proxy_header: config.trusted_proxy_header,
            event_hooks: self.event_hooks.clone(),
            browser,
            api_keys,
        })
    }
}

/// The prebuilt answers for the realm, their challenges naming the
/// protected-resource metadata when `auth_public_base_url` is set.
fn answers(config: &AuthConfig) -> Result<crate::error::answers::Answers, ConfigError> {
    let metadata = crate::config::discovery::public_base_url(config.public_base_url.as_deref())?
        .map(|base| base.well_known("oauth-protected-resource"));
    Ok(crate::error::answers::Answers::with_resource_metadata(
        &config.realm,
        metadata.as_deref(),
    ))
}

/// `tokens` also verifying with `more` (keys given in code).
fn with_more_keys(tokens: AccessTokens, more: &KeySet) -> Result<AccessTokens, ConfigError> {
    if more.is_empty() {
        return Ok(tokens);
    }
    let mut keys = KeySet::clone(&tokens.verification_keys().load());
    for key in more {
        keys.insert(key.clone())?;
    }
    Ok(tokens.with_verification_keys(keys)?)
}

impl AuthFairing {
    /// [`Self::build`] for a resource server: a verifier, no stores, no
    /// hashing.
    fn build_resource_server(
        &self,
        config: &AuthConfig,
        audience_explicit: bool,
    ) -> Result<Auth, ConfigError> {
        let mut keys = config.verification_keys()?;
        for key in &self.verification_keys {
            keys.insert(key.clone())?;
        }
        if self.users.is_some()
            || self.refresh_tokens.is_some()
            || self.api_keys.is_some()
            || self.keys.is_some()
        {
            log::warn!(
                "auth: a resource server has no user store and never signs: the stores and \
                 signing keys given to Auth::resource_server() are ignored"
            );
        }
        if config.secret.is_some() || config.signing_key.is_some() {
            log::warn!(
                "auth: a resource server never signs: auth_secret and auth_signing_key are ignored"
            );
        }
        if self.cookie_sessions || config.cookies.enabled {
            return Err(ConfigError::Cookie {
                setting: "auth_cookie_sessions",
                problem: "a resource server has no sessions to put in cookies; log in at the \
                          issuer"
                    .to_owned(),
            });
        }
        let (tokens, resource_server) = ResourceServer::build(config, keys, audience_explicit)?;
        let mut scopes = config.scope_registry()?;
        scopes.extend(self.scopes.clone());
        Ok(Auth {
            verifier: Verifier {
                tokens,
                subjects: Subjects::Remote(resource_server),
            },
            issuer: None,
            scopes,
            answers: answers(config)?,
            realm: config.realm.clone(),
            trusted_proxy_header: config.trusted_proxy_header.clone(),
            event_hooks: self.event_hooks.clone(),
            browser: None,
            api_keys: None,
        })
    }
}
