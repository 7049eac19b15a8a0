//! JWT access tokens (RFC 9068): claims, issuing and verifying.
//!
//! Keys live in `keys` and their sets in `key_set`, verification in
//! `verify`, the token caches in `cache`. Free of Rocket types.

mod cache;
mod claims;
mod jwk;
mod key_set;
mod keys;
mod verification_key;
mod verify;

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Hmac;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, Header, Validation};
use rand::RngCore as _;
use sha2::Sha256;

use crate::scopes::Scopes;
use cache::{CacheKeys, RefusedCache, VerifiedCache};
use claims::SigningFailure;
pub use claims::{
    AccessTokenClaims, CLIENT_CREDENTIALS_GTY, IssuedToken, SigningError, TokenProblem,
};
pub use key_set::{KeySet, SharedKeys};
pub use keys::{KeyError, MAX_KID_LEN, MIN_RSA_BITS, MIN_SECRET_LEN, TokenKeys};
pub use verification_key::VerificationKey;

/// The JWT `typ` header of access tokens (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// Every algorithm jsonwebtoken knows, each with its own [`Validation`].
const ALGORITHMS: [Algorithm; 12] = [
    Algorithm::HS256,
    Algorithm::HS384,
    Algorithm::HS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::EdDSA,
];

/// Issues and verifies access tokens for one issuer and audience.
///
/// # Example
///
/// ```
/// use auth_core::{AccessTokens, Scopes, TokenKeys};
///
/// let keys = TokenKeys::hs256(b"0123456789abcdef0123456789abcdef").unwrap();
/// let tokens = AccessTokens::new(keys, "https://auth.example", "https://api.example");
/// let issued = tokens.issue("alice", "my-client", &Scopes::parse("read:items").unwrap()).unwrap();
/// let claims = tokens.verify(&issued.token).unwrap();
/// assert_eq!(claims.sub, "alice");
/// assert!(claims.scope.contains("read:items"));
/// ```
///
/// # Keys
///
/// Tokens are signed with one key ([`TokenKeys`]) whose `kid` goes in every
/// token's header. Verification picks the key by the token's `kid`: the
/// signing key, or one of the [verification keys](Self::with_verification_keys)
/// (e.g. the previous signing key during a rotation). The algorithm is the
/// one pinned to that key, never the header's `alg`. A `kid` no key has is
/// refused ([`TokenProblem::UnknownKey`]).
///
/// A token without `kid` (issued before keys had one) is verified with the
/// signing key only; a [verifier](Self::verifier) without a signing key
/// accepts it only when it holds exactly one key.
///
/// # Verification cost
///
/// With `HS256` signing keys, a token whose header is exactly the one this
/// issuer writes (or the same fields in another order, with or without
/// the `kid`) is verified on a fast path: one HMAC with the pre-keyed
/// secret (compared in constant time), the claims parsed once, `exp`,
/// `nbf`, `iss` and `aud` checked by hand. Every other token (another key,
/// algorithm or header) goes through `jsonwebtoken` with the key's pinned
/// algorithm. Tokens that passed full verification are remembered, keyed
/// by their exact bytes, in a bounded cache ([`Self::VERIFIED_CACHE_SIZE`]
/// entries); `exp` and `nbf` are checked again on every hit, and replacing
/// the [shared keys](SharedKeys::replace) empties it. Only fully verified
/// tokens are inserted, so a forged or altered token can never hit.
///
/// Refusals that cannot change for the same bytes under the same keys (a
/// malformed token, a bad signature, expired, the wrong issuer, audience,
/// algorithm, type or claims) are remembered the same way, in a smaller
/// cache ([`Self::REFUSED_CACHE_SIZE`] entries), so a client repeating a
/// forged or stale token costs no more than one with a valid token. Not
/// remembered: "not valid yet" and "unknown key", which time or a key
/// rotation can change. Neither cache holds tokens longer than
/// [`Self::CACHED_TOKEN_MAX_LEN`] bytes, so both stay small.
#[derive(Debug, Clone)]
pub struct AccessTokens {
    signing: Option<Signing>,
    /// The keys that only verify.
    others: SharedKeys,
    issuer: String,
    audience: String,
    ttl: u64,
    leeway: u64,
    jwks_max_age: u64,
    /// One validation per algorithm, each pinned to it.
    validations: Vec<(Algorithm, Validation)>,
    cache_keys: CacheKeys,
    verified: Arc<VerifiedCache>,
    refused: Arc<RefusedCache>,
}

/// The signing key, the header it writes and its fast path.
#[derive(Debug, Clone)]
struct Signing {
    keys: TokenKeys,
    header: Header,
    fast: Option<FastPath>,
}

/// `HS256` only: the header segment `issue` writes, and HMAC-SHA256
/// already keyed with the secret, cloned per verification instead of
/// re-keying.
#[derive(Clone)]
struct FastPath {
    header: String,
    mac: Hmac<Sha256>,
}

impl fmt::Debug for FastPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FastPath").finish_non_exhaustive()
    }
}

impl AccessTokens {
    /// Default lifetime of an access token, in seconds (30 minutes).
    pub const DEFAULT_TTL: u64 = 1800;
    /// Default clock-skew leeway for `exp` and `nbf`, in seconds.
    pub const DEFAULT_LEEWAY: u64 = 10;
    /// Default `max-age` of the published key set, in seconds.
    pub const DEFAULT_JWKS_MAX_AGE: u64 = 300;

    /// Most verified tokens remembered at once (see "Verification cost").
    pub const VERIFIED_CACHE_SIZE: usize = 4096;
    /// Most refused tokens remembered at once (see "Verification cost").
    pub const REFUSED_CACHE_SIZE: usize = 512;
    /// Longest token either cache holds, in bytes; longer ones are always
    /// verified in full.
    pub const CACHED_TOKEN_MAX_LEN: usize = 1024;

    /// Tokens for `issuer` and `audience`, signed with `keys`, with the
    /// default lifetime and leeway.
    #[must_use]
    pub fn new(keys: TokenKeys, issuer: &str, audience: &str) -> Self {
        let header = access_header(keys.algorithm(), Some(keys.kid()));
        // The header segment exactly as `issue` writes it: taken from a
        // token signed over an empty payload, so it cannot drift from what
        // jsonwebtoken serializes.
        let fast = keys.verification.hs256.as_ref().and_then(|mac| {
            let token = jsonwebtoken::encode(&header, &(), &keys.encoding).ok()?;
            let segment = token.split('.').next()?;
            Some(FastPath {
                header: segment.to_owned(),
                mac: mac.clone(),
            })
        });
        let signing = Signing { keys, header, fast };
        Self::build(Some(signing), SharedKeys::default(), issuer, audience)
    }

    /// Tokens for `issuer` and `audience` that this server only verifies,
    /// with `keys` (e.g. another issuer's published keys, replaced when it
    /// rotates them). [`Self::issue`] fails.
    #[must_use]
    pub fn verifier(keys: SharedKeys, issuer: &str, audience: &str) -> Self {
        Self::build(None, keys, issuer, audience)
    }

    fn build(signing: Option<Signing>, others: SharedKeys, issuer: &str, audience: &str) -> Self {
        let validations = ALGORITHMS
            .iter()
            .map(|&algorithm| {
                let mut validation = Validation::new(algorithm);
                validation.set_issuer(&[issuer]);
                validation.set_audience(&[audience]);
                validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
                validation.validate_nbf = true;
                validation.leeway = Self::DEFAULT_LEEWAY;
                (algorithm, validation)
            })
            .collect();
        Self {
            signing,
            others,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl: Self::DEFAULT_TTL,
            leeway: Self::DEFAULT_LEEWAY,
            jwks_max_age: Self::DEFAULT_JWKS_MAX_AGE,
            validations,
            cache_keys: CacheKeys::new(Self::CACHED_TOKEN_MAX_LEN),
            verified: Arc::new(VerifiedCache::new(Self::VERIFIED_CACHE_SIZE)),
            refused: Arc::new(RefusedCache::new(Self::REFUSED_CACHE_SIZE)),
        }
    }

    /// Also verifies with these keys (e.g. the previous signing key, kept
    /// until the tokens it signed have expired). They never sign.
    ///
    /// # Errors
    ///
    /// [`KeyError::DuplicateKid`] if a key has the signing key's `kid`.
    pub fn with_verification_keys(self, keys: KeySet) -> Result<Self, KeyError> {
        if let Some(signing) = &self.signing
            && keys.get(signing.keys.kid()).is_some()
        {
            return Err(KeyError::DuplicateKid {
                kid: signing.keys.kid().to_owned(),
            });
        }
        Ok(self.with_shared_keys(SharedKeys::new(keys)))
    }

    /// Also verifies with these shared keys, which can be replaced while
    /// the server runs. A key with the signing key's `kid` is ignored: the
    /// signing key always verifies what it signed.
    #[must_use]
    pub fn with_shared_keys(mut self, keys: SharedKeys) -> Self {
        self.others = keys;
        self.verified = Arc::new(self.verified.empty_like());
        self.refused = Arc::new(self.refused.empty_like());
        self
    }

    /// Sets the lifetime of issued tokens, in seconds.
    #[must_use]
    pub fn with_ttl(mut self, seconds: u64) -> Self {
        self.ttl = seconds;
        self
    }

    /// The same tokens with a verified-token cache of `capacity` entries.
    #[cfg(test)]
    fn with_cache_capacity(mut self, capacity: usize) -> Self {
        self.verified = Arc::new(VerifiedCache::new(capacity));
        self.refused = Arc::new(RefusedCache::new(capacity));
        self
    }

    /// Sets the clock-skew leeway for `exp` and `nbf`, in seconds.
    #[must_use]
    pub fn with_leeway(mut self, seconds: u64) -> Self {
        self.leeway = seconds;
        self.refused = Arc::new(self.refused.empty_like());
        for (_, validation) in &mut self.validations {
            validation.leeway = seconds;
        }
        self
    }

    /// Sets the `max-age` of the published key set (`Cache-Control`), in
    /// seconds.
    #[must_use]
    pub fn with_jwks_max_age(mut self, seconds: u64) -> Self {
        self.jwks_max_age = seconds;
        self
    }

    /// The signing algorithm, or `None` for a [verifier](Self::verifier).
    #[must_use]
    pub fn keys_algorithm(&self) -> Option<Algorithm> {
        self.signing.as_ref().map(|s| s.keys.algorithm())
    }

    /// The signing keys, or `None` for a [verifier](Self::verifier).
    #[must_use]
    pub fn signing_keys(&self) -> Option<&TokenKeys> {
        self.signing.as_ref().map(|s| &s.keys)
    }

    /// The keys that verify besides the signing key. Replace them with
    /// [`SharedKeys::replace`].
    #[must_use]
    pub fn verification_keys(&self) -> &SharedKeys {
        &self.others
    }

    /// The public keys that verify this issuer's tokens, as a JWK set
    /// (RFC 7517): the signing key's first, then the verification keys',
    /// ordered by `kid`. HMAC keys are never included: anyone holding one
    /// could sign, so an HMAC-only issuer publishes an empty set.
    #[must_use]
    pub fn jwks(&self) -> JwkSet {
        let signing = self.signing.as_ref().map(|s| &s.keys);
        let mut keys: Vec<_> = signing
            .and_then(|k| k.verification_key().to_jwk())
            .into_iter()
            .collect();
        let others = self.others.load();
        keys.extend(
            others
                .iter()
                .filter(|key| signing.is_none_or(|s| s.kid() != key.kid()))
                .filter_map(VerificationKey::to_jwk),
        );
        JwkSet { keys }
    }

    /// The `max-age` of the published key set, in seconds.
    #[must_use]
    pub fn jwks_max_age(&self) -> u64 {
        self.jwks_max_age
    }

    /// The issuer (`iss`) of issued tokens.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The audience (`aud`) of issued tokens.
    #[must_use]
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// Lifetime of issued tokens, in seconds.
    #[must_use]
    pub fn ttl(&self) -> u64 {
        self.ttl
    }

    /// Issues a token for `subject`, valid from now for [`Self::ttl`].
    ///
    /// # Errors
    ///
    /// [`SigningError`] if signing fails (only possible with a broken
    /// asymmetric key, or a [verifier](Self::verifier)).
    pub fn issue(
        &self,
        subject: &str,
        client_id: &str,
        scopes: &Scopes,
    ) -> Result<IssuedToken, SigningError> {
        self.issue_at(subject, client_id, scopes, unix_now())
    }

    /// Issues a token as if the time were `now` (seconds since the epoch).
    ///
    /// # Errors
    ///
    /// As [`Self::issue`].
    pub fn issue_at(
        &self,
        subject: &str,
        client_id: &str,
        scopes: &Scopes,
        now: u64,
    ) -> Result<IssuedToken, SigningError> {
        self.issue_with_session(subject, client_id, scopes, None, now)
    }

    /// Issues a token for `subject` in the session `sid` (its `sid` claim):
    /// the token ends with the session (see [`AccessTokenClaims::sid`]).
    ///
    /// # Errors
    ///
    /// As [`Self::issue`].
    pub fn issue_in_session(
        &self,
        subject: &str,
        client_id: &str,
        scopes: &Scopes,
        sid: &str,
    ) -> Result<IssuedToken, SigningError> {
        self.issue_with_session(subject, client_id, scopes, Some(sid), unix_now())
    }

    /// Issues a token to the client `client_id` on its own behalf (the
    /// client-credentials grant): `sub` and `client_id` are the client,
    /// with the `gty` claim that marks it (see [`AccessTokenClaims::gty`]).
    ///
    /// # Errors
    ///
    /// As [`Self::issue`].
    pub fn issue_for_client(
        &self,
        client_id: &str,
        scopes: &Scopes,
    ) -> Result<IssuedToken, SigningError> {
        self.issue_claims(client_id, client_id, scopes, None, unix_now(), true)
    }

    fn issue_with_session(
        &self,
        subject: &str,
        client_id: &str,
        scopes: &Scopes,
        sid: Option<&str>,
        now: u64,
    ) -> Result<IssuedToken, SigningError> {
        self.issue_claims(subject, client_id, scopes, sid, now, false)
    }

    fn issue_claims(
        &self,
        subject: &str,
        client_id: &str,
        scopes: &Scopes,
        sid: Option<&str>,
        now: u64,
        for_client: bool,
    ) -> Result<IssuedToken, SigningError> {
        let signing = self
            .signing
            .as_ref()
            .ok_or(SigningError(SigningFailure::NoSigningKey))?;
        let claims = AccessTokenClaims {
            iss: self.issuer.clone(),
            sub: subject.to_owned(),
            aud: self.audience.clone(),
            exp: now.saturating_add(self.ttl),
            iat: now,
            nbf: Some(now),
            jti: random_id(),
            client_id: client_id.to_owned(),
            scope: scopes.clone(),
            sid: sid.map(str::to_owned),
            gty: for_client.then(|| CLIENT_CREDENTIALS_GTY.to_owned()),
        };
        let token = jsonwebtoken::encode(&signing.header, &claims, &signing.keys.encoding)
            .map_err(|e| SigningError(SigningFailure::Jwt(e)))?;
        Ok(IssuedToken { token, claims })
    }
}

/// The header of an access token: the pinned algorithm, the key's `kid`
/// and `typ: at+jwt`.
fn access_header(algorithm: Algorithm, kid: Option<&str>) -> Header {
    let mut header = Header::new(algorithm);
    header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
    header.kid = kid.map(str::to_owned);
    header
}

/// Seconds since the Unix epoch.
#[must_use]
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// 128 random bits, base64url: for `jti` and family ids.
pub(crate) fn random_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests;
