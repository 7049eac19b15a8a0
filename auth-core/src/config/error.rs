//! Why the toolkit refuses to start: [`ConfigError`] for the issuer's
//! settings, [`ResourceServerError`] for a resource server's.

use std::path::PathBuf;

use super::DEFAULT_AUDIENCE;
use crate::scopes::ScopeError;
use crate::token::KeyError;

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
    /// A browser-session setting that browsers would reject or attackers
    /// could use (`auth_cookie_*`, `auth_csrf_secret`).
    #[error("{setting}: {problem}")]
    Cookie {
        /// The setting.
        setting: &'static str,
        /// What is wrong and what to do.
        problem: String,
    },
    /// `auth_api_key_header` is not a header name API keys can use.
    #[error("auth_api_key_header {name:?} {problem}")]
    ApiKeyHeader {
        /// The configured name.
        name: String,
        /// What is wrong.
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
    /// `auth_public_base_url` is not an absolute `http(s)` URL without
    /// credentials, query or fragment.
    #[error(
        "auth_public_base_url {url:?}: {problem}; give the URL the app is reached at, \
         e.g. \"https://example.com/auth\""
    )]
    PublicBaseUrl {
        /// The URL as configured, credentials masked.
        url: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A resource server without usable keys.
    #[error(transparent)]
    ResourceServer(#[from] ResourceServerError),
    /// The configuration could not be read (a key of the wrong type, ...).
    #[error("invalid auth configuration: {0}")]
    Invalid(Box<rocket::figment::Error>),
}

/// Why a resource server cannot start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResourceServerError {
    /// Neither a JWKS URL nor static keys, and an `auth_issuer` that is
    /// not a URL to discover them from.
    #[error(
        "a resource server needs the issuer's keys: set auth_jwks_url (feature remote-jwks) \
         or auth_verification_keys, or set auth_issuer to the issuer's https URL to find them \
         in its metadata"
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
    /// An issuer whose metadata would be fetched over plain `http://` from
    /// another machine, without `auth_jwks_allow_insecure_http`.
    #[error(
        "the issuer {url:?} is plain http:// to another machine: anyone on the path could \
         substitute its metadata and keys; use https://, or set auth_jwks_allow_insecure_http \
         = true to accept the risk"
    )]
    InsecureIssuerUrl {
        /// The issuer URL, credentials and query masked.
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
    /// More than [`MAX_TRUSTED_ISSUERS`](super::MAX_TRUSTED_ISSUERS)
    /// entries in `auth_trusted_issuers`.
    #[error(
        "auth_trusted_issuers lists {count} issuers; at most {} are allowed",
        super::MAX_TRUSTED_ISSUERS
    )]
    TooManyIssuers {
        /// How many were configured.
        count: usize,
    },
    /// An entry of `auth_trusted_issuers` that cannot be used.
    #[error("auth_trusted_issuers[{index}]: {problem}")]
    TrustedIssuer {
        /// Its position in the list.
        index: usize,
        /// What is wrong and what to do.
        problem: String,
    },
    /// `auth_trusted_issuers` together with settings it replaces, or with
    /// static keys that no one issuer can be told to own.
    #[error(
        "auth_trusted_issuers cannot be combined with {setting}: give each issuer its own \
         jwks_url (or let it be discovered from the issuer's metadata)"
    )]
    TrustedIssuersConflict {
        /// The conflicting setting.
        setting: &'static str,
    },
}
