//! Resource-server mode: [`Auth`](crate::Auth) for a service that only verifies access
//! tokens issued elsewhere. No user store, no password hashing, no signing
//! key, no token endpoints; the keys are another issuer's public keys, from
//! its JWKS URL (feature `remote-jwks`) or given statically.
//!
//! Built by the fairing ([`Auth::resource_server`](crate::Auth::resource_server)); the guards call
//! [`ResourceServer::verify`] through `Auth::authenticate`.

use std::sync::Arc;
use std::time::Duration;

use crate::config::{AuthConfig, ConfigError, ResourceServerError};
#[cfg(feature = "remote-jwks")]
use crate::resource_server::remote::{HttpFetcher, RemoteJwks};
use crate::token::{AccessTokenClaims, AccessTokens, KeySet, SharedKeys, TokenProblem};

#[cfg(feature = "remote-jwks")]
pub mod remote;

/// The resource-server part of [`Auth`](crate::Auth).
#[derive(Debug)]
pub(crate) struct ResourceServer {
    #[cfg(feature = "remote-jwks")]
    remote: Option<RemoteJwks>,
    #[cfg_attr(
        not(feature = "remote-jwks"),
        allow(dead_code, reason = "only read with the feature remote-jwks")
    )]
    refresh_interval: Option<Duration>,
}

impl ResourceServer {
    /// The verifier and the resource-server state, from the settings and
    /// the keys given in code. Fetches nothing: [`Self::start`] does.
    ///
    /// `audience_explicit`: whether `auth_audience` was configured rather
    /// than left at its default; a resource server refuses the default.
    pub(crate) fn build(
        config: &AuthConfig,
        static_keys: KeySet,
        audience_explicit: bool,
    ) -> Result<(AccessTokens, Self), ConfigError> {
        if !audience_explicit || config.audience.trim().is_empty() {
            return Err(ResourceServerError::AudienceRequired.into());
        }
        if let Some(key) = static_keys.iter().find(|key| key.is_symmetric()) {
            return Err(ResourceServerError::SymmetricKey {
                kid: key.kid().to_owned(),
            }
            .into());
        }
        let url = config.jwks_url.as_deref().filter(|url| !url.is_empty());
        if url.is_none() && static_keys.is_empty() {
            return Err(ResourceServerError::NoKeys.into());
        }
        if let Some(url) = url {
            let lower = url.to_ascii_lowercase();
            if !(lower.starts_with("https://") || lower.starts_with("http://")) {
                return Err(ResourceServerError::BadJwksUrl {
                    url: url.to_owned(),
                }
                .into());
            }
            if !is_https_or_loopback(url) {
                if !config.jwks_allow_insecure_http {
                    return Err(ResourceServerError::InsecureJwksUrl {
                        url: crate::log::redact::url(url),
                    }
                    .into());
                }
                log::warn!(
                    "auth: the JWKS URL {} is not https and auth_jwks_allow_insecure_http is set: \
                     anyone on the path can substitute keys",
                    crate::log::redact::url(url)
                );
            }
        }
        #[cfg(feature = "remote-jwks")]
        let base = static_keys.clone();
        let shared = SharedKeys::new(static_keys);
        let tokens = AccessTokens::verifier(shared.clone(), &config.issuer, &config.audience)
            .with_leeway(config.leeway);
        let refresh_interval = (config.jwks_refresh_interval > 0)
            .then(|| Duration::from_secs(config.jwks_refresh_interval));
        #[cfg(feature = "remote-jwks")]
        let remote = url.map(|url| {
            let timeout = Duration::from_secs(config.jwks_timeout);
            RemoteJwks::new(
                std::sync::Arc::new(HttpFetcher::new(url, timeout)),
                std::sync::Arc::new(move |set: &jsonwebtoken::jwk::JwkSet| {
                    let keys = merge(&base, set)?;
                    let n = keys.len();
                    shared.replace(keys);
                    Ok(n)
                }),
                Duration::from_secs(config.jwks_min_refresh_interval),
                timeout + Duration::from_secs(1),
            )
        });
        #[cfg(not(feature = "remote-jwks"))]
        if url.is_some() {
            return Err(ResourceServerError::RemoteJwksDisabled.into());
        }
        Ok((
            tokens,
            Self {
                #[cfg(feature = "remote-jwks")]
                remote,
                refresh_interval,
            },
        ))
    }

    /// At launch: fetches the JWKS once (a failure stops the launch) and
    /// starts the periodic refresh on the current runtime.
    #[cfg_attr(
        not(feature = "remote-jwks"),
        allow(
            clippy::unused_async,
            reason = "awaits the first fetch with the feature"
        )
    )]
    pub(crate) async fn start(&self) -> Result<(), String> {
        #[cfg(feature = "remote-jwks")]
        if let Some(remote) = &self.remote {
            remote.fetch_now().await.map_err(|e| e.to_string())?;
            if let Some(period) = self.refresh_interval {
                remote.spawn_periodic_refresh(period);
            }
        }
        Ok(())
    }

    /// Verifies `token`. A token that names a `kid` the keys do not have
    /// makes the JWKS be fetched again (at most once per
    /// `auth_jwks_min_refresh_interval`, one fetch shared by every request
    /// waiting for it) and is then verified once more.
    #[cfg_attr(
        not(feature = "remote-jwks"),
        allow(clippy::unused_async, reason = "awaits a refetch with the feature")
    )]
    pub(crate) async fn verify(
        &self,
        tokens: &AccessTokens,
        token: &str,
    ) -> Result<Arc<AccessTokenClaims>, TokenProblem> {
        #[cfg(feature = "remote-jwks")]
        if let Some(remote) = &self.remote {
            let seen = remote.generation();
            return match tokens.verify_shared(token) {
                Err(TokenProblem::UnknownKey) => match remote.refresh_for_unknown_kid(seen).await {
                    crate::resource_server::remote::Refreshed::Changed => {
                        tokens.verify_shared(token)
                    }
                    crate::resource_server::remote::Refreshed::Unchanged => {
                        Err(TokenProblem::UnknownKey)
                    }
                },
                other => other,
            };
        }
        tokens.verify_shared(token)
    }
}

/// Whether keys fetched from `url` cannot be substituted on the network:
/// `https://`, or plain HTTP to this machine.
fn is_https_or_loopback(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return true;
    }
    let rest = lower.strip_prefix("http://").unwrap_or("");
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = if host.starts_with('[') {
        host.split(']').next().map_or(host, |h| &h[1..])
    } else {
        host.split(':').next().unwrap_or(host)
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The static keys plus the fetched ones; a fetched key whose `kid` a
/// static key has is ignored, an unusable fetched key is skipped.
#[cfg(feature = "remote-jwks")]
fn merge(static_keys: &KeySet, fetched: &jsonwebtoken::jwk::JwkSet) -> Result<KeySet, String> {
    let mut keys = static_keys.clone();
    let mut added = 0;
    for jwk in &fetched.keys {
        match crate::token::VerificationKey::from_jwk(jwk) {
            Ok(key) if key.is_symmetric() => {}
            Ok(key) => {
                if keys.insert(key).is_ok() {
                    added += 1;
                }
            }
            Err(e) => log::warn!("auth: ignoring a key of the issuer's JWKS: {e}"),
        }
    }
    if added == 0 {
        return Err("no key of the set can verify tokens".to_owned());
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> AuthConfig {
        AuthConfig {
            audience: "reports".to_owned(),
            jwks_url: Some(url.to_owned()),
            ..AuthConfig::default()
        }
    }

    fn build_error(config: &AuthConfig, audience_explicit: bool) -> Option<ConfigError> {
        ResourceServer::build(config, KeySet::new(), audience_explicit).err()
    }

    #[test]
    fn the_default_audience_is_refused() {
        let config = config("https://auth.example/jwks");
        for (explicit, audience) in [(false, "reports"), (true, ""), (true, "  ")] {
            let mut config = config.clone();
            config.audience = audience.to_owned();
            let err = build_error(&config, explicit).expect("refused");
            assert_eq!(err, ResourceServerError::AudienceRequired.into());
            assert!(err.to_string().contains("auth_audience"), "{err}");
        }
    }

    #[cfg(feature = "remote-jwks")]
    #[test]
    fn plain_http_to_another_machine_needs_the_opt_in() {
        let mut config = config("http://admin:hunter2@auth.example/jwks");
        let err = build_error(&config, true).expect("refused");
        let text = err.to_string();
        assert!(text.contains("auth_jwks_allow_insecure_http"), "{text}");
        assert!(text.contains("auth_jwks_url"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");

        config.jwks_allow_insecure_http = true;
        assert_eq!(build_error(&config, true), None);
        for url in ["http://127.0.0.1:8000/jwks", "https://auth.example/jwks"] {
            assert_eq!(build_error(&self::config(url), true), None, "{url}");
        }
    }

    #[test]
    fn plain_http_is_trusted_only_to_this_machine() {
        for url in [
            "https://auth.example/.well-known/jwks.json",
            "HTTPS://AUTH.EXAMPLE/jwks",
            "http://127.0.0.1:8000/.well-known/jwks.json",
            "http://localhost/jwks",
            "http://[::1]:8000/jwks",
            "http://user@127.0.0.2/jwks",
        ] {
            assert!(is_https_or_loopback(url), "{url}");
        }
        for url in [
            "http://auth.example/jwks",
            "http://127.0.0.1.evil.example/jwks",
            "http://localhost.evil.example/jwks",
            "http://10.0.0.1/jwks",
        ] {
            assert!(!is_https_or_loopback(url), "{url}");
        }
    }
}
