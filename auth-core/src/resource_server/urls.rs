//! The URLs a resource server fetches keys and metadata from, and the
//! issuer a token names, read before it is verified.

use crate::config::discovery::is_https_or_loopback;
use crate::config::{ConfigError, ResourceServerError};

/// Checks a JWKS URL: `http(s)`, and plain `http` only to this machine
/// unless `allow_insecure`.
pub(super) fn check_fetch_url(url: &str, allow_insecure: bool) -> Result<(), ConfigError> {
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Err(ResourceServerError::BadJwksUrl {
            url: url.to_owned(),
        }
        .into());
    }
    if !is_https_or_loopback(url) {
        if !allow_insecure {
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
    Ok(())
}

/// Checks an issuer URL its metadata is fetched from, by the rules of
/// [`check_fetch_url`].
pub(super) fn check_issuer_url(
    issuer: &crate::config::discovery::BaseUrl,
    allow_insecure: bool,
) -> Result<(), ConfigError> {
    if !issuer.is_https_or_loopback() {
        if !allow_insecure {
            return Err(ResourceServerError::InsecureIssuerUrl {
                url: crate::log::redact::url(issuer.as_str()),
            }
            .into());
        }
        log::warn!(
            "auth: the issuer {} is not https and auth_jwks_allow_insecure_http is set: \
             anyone on the path can substitute its metadata and keys",
            crate::log::redact::url(issuer.as_str())
        );
    }
    Ok(())
}

/// The `iss` claim of a JWT, read without verifying anything: only to
/// choose whose keys verify it.
pub(super) fn unverified_issuer(token: &str) -> Option<String> {
    use base64::Engine as _;
    #[derive(serde::Deserialize)]
    struct Claims {
        iss: String,
    }
    let mut parts = token.split('.');
    let (_, payload) = (parts.next()?, parts.next()?);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice::<Claims>(&bytes)
        .ok()
        .map(|claims| claims.iss)
}
