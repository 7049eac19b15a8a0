//! Resource-server mode: [`Auth`](crate::Auth) for a service that only verifies access
//! tokens issued elsewhere. No user store, no password hashing, no signing
//! key, no token endpoints; the keys are another issuer's public keys, from
//! its JWKS URL (feature `remote-jwks`), from the `jwks_uri` of its RFC 8414
//! metadata, or given statically. With `auth_trusted_issuers`, several
//! issuers, each with its own audience and keys; a token's unverified `iss`
//! only picks whose verifier checks it.
//!
//! Built by the fairing ([`Auth::resource_server`](crate::Auth::resource_server)); the guards call
//! [`ResourceServer::verify`] through `Auth::authenticate`.

use std::sync::Arc;
use std::time::Duration;

use crate::config::{AuthConfig, ConfigError, ResourceServerError, TrustedIssuerConfig};
#[cfg(feature = "remote-jwks")]
use crate::resource_server::remote::{HttpFetcher, JwksFetcher, RemoteJwks};
use crate::token::{AccessTokenClaims, AccessTokens, KeySet, SharedKeys, TokenProblem};

#[cfg(feature = "remote-jwks")]
mod discover;
#[cfg(feature = "remote-jwks")]
pub mod remote;
mod urls;

pub(crate) use crate::config::discovery::is_https_or_loopback;
use urls::{check_fetch_url, check_issuer_url, unverified_issuer};

/// The resource-server part of [`Auth`](crate::Auth): one or more trusted
/// issuers, each with its own verifier (issuer, audience, algorithms) and
/// its own keys.
#[derive(Debug)]
pub(crate) struct ResourceServer {
    /// Never empty. With one issuer, its verifier is the one
    /// [`Self::build`] returns (the `Verifier`'s).
    issuers: Vec<Trusted>,
    #[cfg_attr(
        not(feature = "remote-jwks"),
        allow(dead_code, reason = "only read with the feature remote-jwks")
    )]
    refresh_interval: Option<Duration>,
}

/// One trusted issuer.
#[derive(Debug)]
struct Trusted {
    /// Its identifier, exactly the `iss` of its tokens.
    issuer: String,
    /// Verifies its tokens, with its keys only.
    tokens: AccessTokens,
    /// Its keys' URL, kept current.
    #[cfg(feature = "remote-jwks")]
    remote: Option<RemoteJwks>,
    /// When the JWKS URL comes from the issuer's metadata: finds it at
    /// launch.
    #[cfg(feature = "remote-jwks")]
    discovered: Option<Arc<discover::DiscoveredJwks>>,
}

/// Where one issuer's keys come from, as configured.
enum KeySource {
    /// Static keys only.
    Static,
    /// A JWKS URL.
    #[cfg_attr(
        not(feature = "remote-jwks"),
        allow(dead_code, reason = "refused without the feature")
    )]
    Url(String),
    /// The `jwks_uri` of the issuer's RFC 8414 metadata, at this URL.
    #[cfg_attr(
        not(feature = "remote-jwks"),
        allow(dead_code, reason = "refused without the feature")
    )]
    Metadata(String),
}

impl ResourceServer {
    /// The verifier and the resource-server state, from the settings and
    /// the keys given in code. Fetches nothing: [`Self::start`] does.
    ///
    /// `audience_explicit`: whether `auth_audience` was configured rather
    /// than left at its default; a resource server refuses the default.
    /// With `auth_trusted_issuers`, each entry names its own audience and
    /// keys instead, and the first entry's verifier is returned.
    pub(crate) fn build(
        config: &AuthConfig,
        static_keys: KeySet,
        audience_explicit: bool,
    ) -> Result<(AccessTokens, Self), ConfigError> {
        if let Some(key) = static_keys.iter().find(|key| key.is_symmetric()) {
            return Err(ResourceServerError::SymmetricKey {
                kid: key.kid().to_owned(),
            }
            .into());
        }
        let refresh_interval = (config.jwks_refresh_interval > 0)
            .then(|| Duration::from_secs(config.jwks_refresh_interval));
        let issuers = if config.trusted_issuers.is_empty() {
            vec![Self::single(config, static_keys, audience_explicit)?]
        } else {
            Self::several(config, &static_keys)?
        };
        let tokens = issuers[0].tokens.clone();
        Ok((
            tokens,
            Self {
                issuers,
                refresh_interval,
            },
        ))
    }

    /// `auth_issuer`, `auth_audience`, `auth_jwks_url` and static keys.
    fn single(
        config: &AuthConfig,
        static_keys: KeySet,
        audience_explicit: bool,
    ) -> Result<Trusted, ConfigError> {
        if !audience_explicit || config.audience.trim().is_empty() {
            return Err(ResourceServerError::AudienceRequired.into());
        }
        let url = config.jwks_url.as_deref().filter(|url| !url.is_empty());
        let source = match url {
            Some(url) => {
                check_fetch_url(url, config.jwks_allow_insecure_http)?;
                KeySource::Url(url.to_owned())
            }
            None if !static_keys.is_empty() => KeySource::Static,
            None => {
                let Ok(issuer) = crate::config::discovery::BaseUrl::parse(&config.issuer) else {
                    return Err(ResourceServerError::NoKeys.into());
                };
                check_issuer_url(&issuer, config.jwks_allow_insecure_http)?;
                KeySource::Metadata(issuer.well_known(METADATA_NAME))
            }
        };
        Trusted::new(
            config,
            &config.issuer,
            &config.audience,
            static_keys,
            source,
        )
    }

    /// `auth_trusted_issuers`.
    fn several(config: &AuthConfig, static_keys: &KeySet) -> Result<Vec<Trusted>, ConfigError> {
        if config.trusted_issuers.len() > crate::config::MAX_TRUSTED_ISSUERS {
            return Err(ResourceServerError::TooManyIssuers {
                count: config.trusted_issuers.len(),
            }
            .into());
        }
        if config
            .jwks_url
            .as_deref()
            .is_some_and(|url| !url.is_empty())
        {
            return Err(ResourceServerError::TrustedIssuersConflict {
                setting: "auth_jwks_url",
            }
            .into());
        }
        if !static_keys.is_empty() {
            return Err(ResourceServerError::TrustedIssuersConflict {
                setting: "auth_verification_keys (or keys given in code)",
            }
            .into());
        }
        let mut issuers: Vec<Trusted> = Vec::with_capacity(config.trusted_issuers.len());
        for (index, entry) in config.trusted_issuers.iter().enumerate() {
            let wrap = |problem: String| -> ConfigError {
                ResourceServerError::TrustedIssuer { index, problem }.into()
            };
            let TrustedIssuerConfig {
                issuer,
                audience,
                jwks_url,
            } = entry;
            if issuer.trim().is_empty() {
                return Err(wrap("issuer is empty".to_owned()));
            }
            if audience.trim().is_empty() {
                return Err(wrap(format!(
                    "the issuer {issuer:?} needs an audience: the aud its tokens name for \
                     this service"
                )));
            }
            if issuers.iter().any(|trusted| trusted.issuer == *issuer) {
                return Err(wrap(format!("the issuer {issuer:?} is listed twice")));
            }
            let source = if let Some(url) = jwks_url.as_deref().filter(|url| !url.is_empty()) {
                check_fetch_url(url, config.jwks_allow_insecure_http)
                    .map_err(|e| wrap(e.to_string()))?;
                KeySource::Url(url.to_owned())
            } else {
                let parsed = crate::config::discovery::BaseUrl::parse(issuer).map_err(|e| {
                    wrap(format!(
                        "the issuer {issuer:?} has no jwks_url and is not a URL to find its \
                             keys from: {e}"
                    ))
                })?;
                check_issuer_url(&parsed, config.jwks_allow_insecure_http)
                    .map_err(|e| wrap(e.to_string()))?;
                KeySource::Metadata(parsed.well_known(METADATA_NAME))
            };
            issuers.push(
                Trusted::new(config, issuer, audience, KeySet::new(), source)
                    .map_err(|e| wrap(e.to_string()))?,
            );
        }
        Ok(issuers)
    }

    /// The issuers trusted, in the configured order.
    pub(crate) fn issuers(&self) -> impl Iterator<Item = &str> {
        self.issuers.iter().map(|trusted| trusted.issuer.as_str())
    }

    /// "issuer "a" (audience "x", 2 keys), issuer ..." for the launch log.
    pub(crate) fn describe(&self) -> String {
        let described: Vec<String> = self
            .issuers
            .iter()
            .map(|trusted| {
                format!(
                    "issuer {:?} (audience {:?}, {} verification keys)",
                    trusted.issuer,
                    trusted.tokens.audience(),
                    trusted.tokens.verification_keys().load().len()
                )
            })
            .collect();
        described.join(", ")
    }

    /// At launch: finds each issuer's JWKS URL in its metadata where
    /// needed, fetches each JWKS once (a failure stops the launch) and
    /// starts the periodic refreshes on the current runtime.
    #[cfg_attr(
        not(feature = "remote-jwks"),
        allow(
            clippy::unused_async,
            reason = "awaits the first fetch with the feature"
        )
    )]
    pub(crate) async fn start(&self) -> Result<(), String> {
        #[cfg(feature = "remote-jwks")]
        for trusted in &self.issuers {
            if let Some(discovered) = &trusted.discovered {
                discovered.discover().await?;
            }
            if let Some(remote) = &trusted.remote {
                remote.fetch_now().await.map_err(|e| e.to_string())?;
                if let Some(period) = self.refresh_interval {
                    remote.spawn_periodic_refresh(period);
                }
            }
        }
        Ok(())
    }

    /// Verifies `token` (with `tokens` when there is one issuer; with
    /// several, with the verifier of the issuer its unverified `iss`
    /// names, and an unknown `iss` is [`TokenProblem::WrongIssuer`]). A
    /// token that names a `kid` the issuer's keys do not have makes its
    /// JWKS be fetched again (at most once per
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
        let (tokens, trusted) = match self.issuers.as_slice() {
            [only] => (tokens, only),
            several => {
                let Some(issuer) = unverified_issuer(token) else {
                    // Not a JWT with a string `iss`: any verifier says why.
                    return several[0].tokens.verify_shared(token);
                };
                let trusted = several
                    .iter()
                    .find(|trusted| trusted.issuer == issuer)
                    .ok_or(TokenProblem::WrongIssuer)?;
                (&trusted.tokens, trusted)
            }
        };
        #[cfg(feature = "remote-jwks")]
        if let Some(remote) = &trusted.remote {
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
        #[cfg(not(feature = "remote-jwks"))]
        let _ = trusted;
        tokens.verify_shared(token)
    }
}

/// The well-known name of RFC 8414 metadata.
const METADATA_NAME: &str = "oauth-authorization-server";

impl Trusted {
    #[cfg_attr(
        feature = "remote-jwks",
        allow(
            clippy::unnecessary_wraps,
            reason = "refuses remote keys without the feature"
        )
    )]
    #[cfg_attr(
        not(feature = "remote-jwks"),
        allow(clippy::needless_pass_by_value, reason = "consumed with the feature")
    )]
    fn new(
        config: &AuthConfig,
        issuer: &str,
        audience: &str,
        static_keys: KeySet,
        source: KeySource,
    ) -> Result<Self, ConfigError> {
        #[cfg(feature = "remote-jwks")]
        let base = static_keys.clone();
        let shared = SharedKeys::new(static_keys);
        let tokens =
            AccessTokens::verifier(shared.clone(), issuer, audience).with_leeway(config.leeway);
        #[cfg(not(feature = "remote-jwks"))]
        {
            let _ = shared;
            if !matches!(source, KeySource::Static) {
                return Err(ResourceServerError::RemoteJwksDisabled.into());
            }
            Ok(Self {
                issuer: issuer.to_owned(),
                tokens,
            })
        }
        #[cfg(feature = "remote-jwks")]
        {
            let timeout = Duration::from_secs(config.jwks_timeout);
            let (fetcher, discovered): (Option<Arc<dyn JwksFetcher>>, _) = match source {
                KeySource::Static => (None, None),
                KeySource::Url(url) => (Some(Arc::new(HttpFetcher::new(&url, timeout))), None),
                KeySource::Metadata(metadata_url) => {
                    let discovered = Arc::new(discover::DiscoveredJwks::new(
                        issuer,
                        &metadata_url,
                        timeout,
                        config.jwks_allow_insecure_http,
                    ));
                    (
                        Some(Arc::clone(&discovered) as Arc<dyn JwksFetcher>),
                        Some(discovered),
                    )
                }
            };
            let remote = fetcher.map(|fetcher| {
                RemoteJwks::new(
                    fetcher,
                    Arc::new(move |set: &jsonwebtoken::jwk::JwkSet| {
                        let keys = merge(&base, set)?;
                        let n = keys.len();
                        shared.replace(keys);
                        Ok(n)
                    }),
                    Duration::from_secs(config.jwks_min_refresh_interval),
                    timeout + Duration::from_secs(1),
                )
            });
            Ok(Self {
                issuer: issuer.to_owned(),
                tokens,
                remote,
                discovered,
            })
        }
    }
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

    #[cfg(feature = "remote-jwks")]
    fn several(entries: &[TrustedIssuerConfig]) -> AuthConfig {
        AuthConfig {
            trusted_issuers: entries.to_vec(),
            ..AuthConfig::default()
        }
    }

    #[test]
    fn an_issuer_url_alone_is_a_key_source() {
        let config = AuthConfig {
            issuer: "https://auth.example".to_owned(),
            audience: "reports".to_owned(),
            ..AuthConfig::default()
        };
        let built = ResourceServer::build(&config, KeySet::new(), true);
        if cfg!(feature = "remote-jwks") {
            let (_, server) = built.expect("discovers its keys");
            assert_eq!(
                server.issuers().collect::<Vec<_>>(),
                ["https://auth.example"]
            );
        } else {
            assert!(built.is_err());
        }
        // Not a URL: nothing to discover from.
        let config = AuthConfig {
            issuer: "auth-core".to_owned(),
            ..config
        };
        assert_eq!(
            build_error(&config, true),
            Some(ResourceServerError::NoKeys.into())
        );
        // Plain http to another machine needs the opt-in.
        let config = AuthConfig {
            issuer: "http://auth.example".to_owned(),
            ..config
        };
        let err = build_error(&config, true).expect("refused");
        assert!(
            err.to_string().contains("auth_jwks_allow_insecure_http"),
            "{err}"
        );
    }

    #[cfg(feature = "remote-jwks")]
    #[test]
    fn trusted_issuers_are_checked_at_launch() {
        let a = TrustedIssuerConfig::new("https://a.example", "reports");
        let b = TrustedIssuerConfig::new("https://b.example", "reports")
            .with_jwks_url("https://b.example/keys");
        let (tokens, server) =
            ResourceServer::build(&several(&[a.clone(), b.clone()]), KeySet::new(), false)
                .expect("two issuers");
        assert_eq!(tokens.issuer(), "https://a.example");
        assert_eq!(
            server.issuers().collect::<Vec<_>>(),
            ["https://a.example", "https://b.example"]
        );

        let cases = [
            (vec![a.clone(), a.clone()], "listed twice"),
            (
                vec![TrustedIssuerConfig::new("https://c.example", " ")],
                "needs an audience",
            ),
            (
                vec![TrustedIssuerConfig::new("issuer-c", "reports")],
                "not a URL",
            ),
            (
                vec![TrustedIssuerConfig::new("http://c.example", "reports")],
                "auth_jwks_allow_insecure_http",
            ),
            (
                vec![
                    TrustedIssuerConfig::new("https://c.example", "reports")
                        .with_jwks_url("ftp://c.example/keys"),
                ],
                "not an http:// or https:// URL",
            ),
        ];
        for (entries, expected) in cases {
            let err = build_error(&several(&entries), false).expect("refused");
            assert!(err.to_string().contains(expected), "{expected}: {err}");
            assert!(err.to_string().contains("auth_trusted_issuers["), "{err}");
        }

        let mut config = several(std::slice::from_ref(&a));
        config.jwks_url = Some("https://a.example/keys".to_owned());
        let err = build_error(&config, false).expect("refused");
        assert!(err.to_string().contains("auth_jwks_url"), "{err}");

        let key = crate::token::VerificationKey::ed25519_pem(
            Some("a"),
            include_bytes!("../../tests/fixtures/ed25519-a.pub"),
        )
        .unwrap();
        let err = ResourceServer::build(
            &several(std::slice::from_ref(&a)),
            KeySet::new().with(key).unwrap(),
            false,
        )
        .expect_err("refused");
        assert!(err.to_string().contains("auth_verification_keys"), "{err}");

        let many: Vec<_> = (0..=crate::config::MAX_TRUSTED_ISSUERS)
            .map(|i| {
                b.clone()
                    .with_jwks_url(&format!("https://b.example/keys/{i}"))
            })
            .collect();
        assert_eq!(
            build_error(&several(&many), false),
            Some(
                ResourceServerError::TooManyIssuers {
                    count: crate::config::MAX_TRUSTED_ISSUERS + 1
                }
                .into()
            )
        );
    }

    #[test]
    fn the_issuer_is_read_from_the_payload_without_verifying() {
        use base64::Engine as _;
        let encode =
            |json: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json.as_bytes());
        let token = format!("h.{}.s", encode(r#"{"iss":"https://a.example","sub":"x"}"#));
        assert_eq!(
            unverified_issuer(&token).as_deref(),
            Some("https://a.example")
        );
        for bad in [
            "no-dots".to_owned(),
            format!("h.{}.s", encode(r#"{"iss":1}"#)),
            format!("h.{}.s", encode("not json")),
            "h.!!!.s".to_owned(),
        ] {
            assert_eq!(unverified_issuer(&bad), None, "{bad}");
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
