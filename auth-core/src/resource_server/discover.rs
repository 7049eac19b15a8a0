//! An issuer's JWKS URL from its authorization-server metadata (RFC 8414):
//! `<origin>/.well-known/oauth-authorization-server<path>` is read once at
//! launch, its `issuer` must be the configured issuer exactly (RFC 8414
//! §3.3, so a metadata document cannot speak for another issuer), and its
//! `jwks_uri` must follow the same https rules as `auth_jwks_url`. From
//! then on the keys are fetched and refreshed like any JWKS URL's.

use std::io::Read as _;
use std::sync::OnceLock;
use std::time::Duration;

use rocket::tokio;

use crate::resource_server::remote::{HttpFetcher, JwksError, JwksFetcher};

/// The largest metadata document accepted, in bytes.
const MAX_METADATA_BYTES: u64 = 64 * 1024;

/// The JWKS URL of an issuer, found in its metadata by [`Self::discover`];
/// until then, fetching keys fails.
#[derive(Debug)]
pub(crate) struct DiscoveredJwks {
    issuer: String,
    metadata_url: String,
    timeout: Duration,
    allow_insecure: bool,
    jwks: OnceLock<HttpFetcher>,
}

impl DiscoveredJwks {
    /// The keys of `issuer`, to be found in the metadata at `metadata_url`.
    pub(crate) fn new(
        issuer: &str,
        metadata_url: &str,
        timeout: Duration,
        allow_insecure: bool,
    ) -> Self {
        Self {
            issuer: issuer.to_owned(),
            metadata_url: metadata_url.to_owned(),
            timeout,
            allow_insecure,
            jwks: OnceLock::new(),
        }
    }

    /// Reads the metadata and keeps its `jwks_uri` (once; later calls do
    /// nothing).
    ///
    /// # Errors
    ///
    /// The reason, for the launch log: the fetch failed, the document is
    /// not metadata, its `issuer` is another, or its `jwks_uri` is missing
    /// or not trusted.
    pub(crate) async fn discover(&self) -> Result<(), String> {
        if self.jwks.get().is_some() {
            return Ok(());
        }
        let url = self.metadata_url.clone();
        let timeout = self.timeout;
        let document = tokio::task::spawn_blocking(move || fetch(&url, timeout))
            .await
            .map_err(|e| format!("reading the issuer's metadata failed: {e}"))??;
        let jwks_uri = jwks_uri(&self.issuer, &self.metadata_url, &document)?;
        if !super::is_https_or_loopback(&jwks_uri) {
            if !self.allow_insecure {
                return Err(format!(
                    "the metadata of the issuer {:?} names the plain http:// jwks_uri {}: anyone \
                     on the path could substitute the keys; set auth_jwks_allow_insecure_http = \
                     true to accept the risk",
                    self.issuer,
                    crate::log::redact::url(&jwks_uri)
                ));
            }
            log::warn!(
                "auth: the issuer {:?} publishes its keys over plain http ({}) and \
                 auth_jwks_allow_insecure_http is set",
                self.issuer,
                crate::log::redact::url(&jwks_uri)
            );
        }
        log::info!(
            "auth: the issuer {:?} publishes its keys at {} (from {})",
            self.issuer,
            crate::log::redact::url(&jwks_uri),
            self.metadata_url
        );
        let _ = self.jwks.set(HttpFetcher::new(&jwks_uri, self.timeout));
        Ok(())
    }
}

impl JwksFetcher for DiscoveredJwks {
    fn url(&self) -> &str {
        self.jwks.get().map_or(&self.metadata_url, JwksFetcher::url)
    }

    fn fetch(&self) -> Result<Vec<u8>, JwksError> {
        match self.jwks.get() {
            Some(fetcher) => fetcher.fetch(),
            None => Err(JwksError::Fetch {
                url: self.metadata_url.clone(),
                reason: "the issuer's metadata has not been read".to_owned(),
            }),
        }
    }
}

/// GET `url`: at most [`MAX_METADATA_BYTES`], within `timeout`, no
/// redirects.
fn fetch(url: &str, timeout: Duration) -> Result<Vec<u8>, String> {
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(timeout)
        .timeout(timeout)
        .redirects(0)
        .user_agent(concat!("auth-core/", env!("CARGO_PKG_VERSION")))
        .build();
    let response = match agent.get(url).set("Accept", "application/json").call() {
        Ok(response) if response.status() == 200 => response,
        Ok(response) => {
            return Err(format!(
                "the issuer's metadata at {url} answered with HTTP status {}",
                response.status()
            ));
        }
        Err(ureq::Error::Status(status, _)) => {
            return Err(format!(
                "the issuer's metadata at {url} answered with HTTP status {status}"
            ));
        }
        Err(e) => {
            return Err(format!(
                "fetching the issuer's metadata from {url} failed: {e}"
            ));
        }
    };
    let mut body = Vec::new();
    response
        .into_reader()
        .take(MAX_METADATA_BYTES + 1)
        .read_to_end(&mut body)
        .map_err(|e| format!("fetching the issuer's metadata from {url} failed: {e}"))?;
    if body.len() as u64 > MAX_METADATA_BYTES {
        return Err(format!(
            "the issuer's metadata at {url} is larger than {MAX_METADATA_BYTES} bytes"
        ));
    }
    Ok(body)
}

/// The `jwks_uri` of the metadata `document` of `issuer`, read from `url`.
fn jwks_uri(issuer: &str, url: &str, document: &[u8]) -> Result<String, String> {
    #[derive(serde::Deserialize)]
    struct Metadata {
        issuer: Option<String>,
        jwks_uri: Option<String>,
    }
    let metadata: Metadata = serde_json::from_slice(document)
        .map_err(|e| format!("the document at {url} is not authorization-server metadata: {e}"))?;
    match metadata.issuer.as_deref() {
        Some(found) if found == issuer => {}
        Some(found) => {
            return Err(format!(
                "the metadata at {url} is for the issuer {found:?}, not {issuer:?} \
                 (RFC 8414 §3.3: they must be identical)"
            ));
        }
        None => return Err(format!("the metadata at {url} names no issuer")),
    }
    let jwks_uri = metadata
        .jwks_uri
        .filter(|uri| !uri.is_empty())
        .ok_or_else(|| format!("the metadata at {url} has no jwks_uri"))?;
    let lower = jwks_uri.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Err(format!(
            "the metadata at {url} names a jwks_uri that is not an http(s) URL"
        ));
    }
    Ok(jwks_uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://a.example/.well-known/oauth-authorization-server";

    #[test]
    fn the_metadata_must_be_the_issuers_own() {
        let good = br#"{"issuer":"https://a.example","jwks_uri":"https://a.example/jwks"}"#;
        assert_eq!(
            jwks_uri("https://a.example", URL, good).unwrap(),
            "https://a.example/jwks"
        );
        for (document, expected) in [
            (
                &br#"{"issuer":"https://b.example","jwks_uri":"https://b.example/jwks"}"#[..],
                "not \"https://a.example\"",
            ),
            (
                br#"{"issuer":"https://a.example/","jwks_uri":"https://a.example/jwks"}"#,
                "identical",
            ),
            (
                br#"{"jwks_uri":"https://a.example/jwks"}"#,
                "names no issuer",
            ),
            (br#"{"issuer":"https://a.example"}"#, "no jwks_uri"),
            (
                br#"{"issuer":"https://a.example","jwks_uri":"file:///etc/keys"}"#,
                "not an http(s) URL",
            ),
            (b"<html>", "not authorization-server metadata"),
        ] {
            let err = jwks_uri("https://a.example", URL, document).unwrap_err();
            assert!(err.contains(expected), "{err}");
        }
    }
}
