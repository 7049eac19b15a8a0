//! The settings behind discovery: `auth_public_base_url`, the URL the app
//! is reached at from outside (through a proxy that may strip a path
//! prefix), and `auth_trusted_issuers`, the issuers a resource server
//! accepts tokens from.

use serde::Deserialize;

use super::ConfigError;

/// The most issuers one resource server trusts (`auth_trusted_issuers`).
/// Each one is a key set, a verifier and, unless its keys are given, two
/// fetches at launch; a longer list is a configuration mistake.
pub const MAX_TRUSTED_ISSUERS: usize = 16;

/// One entry of `auth_trusted_issuers`: an issuer a resource server accepts
/// tokens from, the audience its tokens must name, and where its keys are.
///
/// In `Rocket.toml`:
///
/// ```toml
/// auth_trusted_issuers = [
///     { issuer = "https://a.example", audience = "reports-api" },
///     { issuer = "https://b.example", audience = "reports-api", jwks_url = "https://b.example/keys" },
/// ]
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct TrustedIssuerConfig {
    /// The issuer identifier: exactly the `iss` of its tokens, and the URL
    /// its RFC 8414 metadata is found from.
    pub issuer: String,
    /// The `aud` its tokens must name for this service.
    pub audience: String,
    /// Its JWKS URL; without it, the `jwks_uri` of its RFC 8414 metadata.
    #[serde(default)]
    pub jwks_url: Option<String>,
}

impl TrustedIssuerConfig {
    /// An issuer trusted for `audience`, its keys found through its
    /// metadata.
    #[must_use]
    pub fn new(issuer: &str, audience: &str) -> Self {
        Self {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            jwks_url: None,
        }
    }

    /// The same, with its keys at `jwks_url` instead.
    #[must_use]
    pub fn with_jwks_url(mut self, jwks_url: &str) -> Self {
        self.jwks_url = Some(jwks_url.to_owned());
        self
    }
}

/// An absolute `http(s)` URL without credentials, query or fragment,
/// serialized without a trailing slash: `https://example.com/auth`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BaseUrl {
    /// `https://example.com/auth` (no trailing slash).
    text: String,
    /// `https://example.com`.
    origin_len: usize,
}

impl BaseUrl {
    /// Parses and normalises `text` (lower-case scheme and host, default
    /// port dropped, trailing slash dropped).
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let url = url::Url::parse(text.trim()).map_err(|e| format!("not an absolute URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("the scheme must be https (or http)".to_owned());
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("the URL names no host".to_owned());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("the URL must not carry credentials".to_owned());
        }
        if url.query().is_some() {
            return Err("the URL must not have a query".to_owned());
        }
        if url.fragment().is_some() {
            return Err("the URL must not have a fragment".to_owned());
        }
        let origin = url.origin().ascii_serialization();
        let path = url.path().trim_end_matches('/');
        Ok(Self {
            text: format!("{origin}{path}"),
            origin_len: origin.len(),
        })
    }

    /// The URL, without a trailing slash.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// `scheme://host[:port]`.
    pub(crate) fn origin(&self) -> &str {
        &self.text[..self.origin_len]
    }

    /// The path, without a trailing slash: `""` for a URL at the root.
    pub(crate) fn path(&self) -> &str {
        &self.text[self.origin_len..]
    }

    /// `path` (starting with `/`) under this URL.
    pub(crate) fn join(&self, path: &str) -> String {
        format!("{}{path}", self.text)
    }

    /// The well-known URL `name` (e.g. `oauth-protected-resource`) of this
    /// URL as RFC 8615 and RFC 8414 §3.1 form it: inserted between the host
    /// and the path.
    pub(crate) fn well_known(&self, name: &str) -> String {
        format!("{}/.well-known/{name}{}", self.origin(), self.path())
    }

    /// Whether plain `http://` here stays on this machine.
    pub(crate) fn is_https_or_loopback(&self) -> bool {
        is_https_or_loopback(&self.text)
    }
}

/// Whether keys fetched from `url` cannot be substituted on the network:
/// `https://`, or plain HTTP to this machine.
pub(crate) fn is_https_or_loopback(url: &str) -> bool {
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

/// `auth_public_base_url`, checked and normalised.
pub(crate) fn public_base_url(configured: Option<&str>) -> Result<Option<BaseUrl>, ConfigError> {
    let Some(text) = configured.filter(|text| !text.trim().is_empty()) else {
        return Ok(None);
    };
    BaseUrl::parse(text)
        .map(Some)
        .map_err(|problem| ConfigError::PublicBaseUrl {
            url: crate::log::redact::url(text),
            problem,
        })
}

/// An issuer identifier usable in RFC 8414 metadata: an `https` URL (or
/// `http` to this machine) without query or fragment, kept exactly as
/// written (it is compared with the tokens' `iss` byte for byte).
pub(crate) fn issuer_url(issuer: &str) -> Result<BaseUrl, String> {
    let parsed = BaseUrl::parse(issuer)?;
    if !parsed.is_https_or_loopback() {
        return Err("an issuer identifier must be an https URL (RFC 8414 §2)".to_owned());
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalised() {
        for (given, text, origin, path) in [
            (
                "https://example.com/auth/",
                "https://example.com/auth",
                "https://example.com",
                "/auth",
            ),
            (
                "HTTPS://Example.COM:443/",
                "https://example.com",
                "https://example.com",
                "",
            ),
            (
                "http://127.0.0.1:8080/a/b",
                "http://127.0.0.1:8080/a/b",
                "http://127.0.0.1:8080",
                "/a/b",
            ),
        ] {
            let url = BaseUrl::parse(given).unwrap();
            assert_eq!(url.as_str(), text, "{given}");
            assert_eq!(url.origin(), origin, "{given}");
            assert_eq!(url.path(), path, "{given}");
        }
        let url = BaseUrl::parse("https://example.com/auth").unwrap();
        assert_eq!(url.join("/token"), "https://example.com/auth/token");
        assert_eq!(
            url.well_known("oauth-protected-resource"),
            "https://example.com/.well-known/oauth-protected-resource/auth"
        );
    }

    #[test]
    fn bad_base_urls_are_refused_with_a_reason() {
        for (given, reason) in [
            ("/auth", "absolute"),
            ("example.com/auth", "absolute"),
            ("ftp://example.com/", "scheme"),
            ("https://user:pw@example.com/", "credentials"),
            ("https://example.com/?a=b", "query"),
            ("https://example.com/#top", "fragment"),
        ] {
            let err = BaseUrl::parse(given).expect_err(given);
            assert!(err.contains(reason), "{given}: {err}");
        }
        let err = public_base_url(Some("https://user:hunter2@example.com/")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("auth_public_base_url"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert_eq!(public_base_url(None), Ok(None));
        assert_eq!(public_base_url(Some(" ")), Ok(None));
    }

    #[test]
    fn issuers_must_be_https_urls() {
        assert!(issuer_url("https://auth.example").is_ok());
        assert!(issuer_url("http://127.0.0.1:8000").is_ok());
        assert!(issuer_url("http://auth.example").is_err());
        assert!(issuer_url("auth-core").is_err());
    }
}
