//! JWT access tokens (RFC 9068): claims, keys, issuing and verifying.
//!
//! Free of Rocket types.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac as _};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::scopes::Scopes;

/// The JWT `typ` header of access tokens (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// Shortest HMAC secret accepted, in bytes (the size of the SHA-256 output).
pub const MIN_SECRET_LEN: usize = 32;

/// Why an access token was refused. Each is answered with 401
/// `invalid_token`; the message becomes the `error_description`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenProblem {
    /// Not a `b64token` (RFC 6750 §2.1) or not a well-formed JWT.
    #[error("the access token is malformed")]
    Malformed,
    /// The signature does not match.
    #[error("the access token signature is invalid")]
    BadSignature,
    /// `exp` is in the past (beyond the leeway).
    #[error("the access token expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("the access token is not valid yet")]
    NotYetValid,
    /// `iss` is not this server.
    #[error("the access token was issued by another issuer")]
    WrongIssuer,
    /// `aud` does not name this resource server.
    #[error("the access token is meant for another audience")]
    WrongAudience,
    /// Signed with an algorithm other than the configured one.
    #[error("the access token uses an unexpected algorithm")]
    WrongAlgorithm,
    /// The JWT header's `typ` is not `at+jwt` (RFC 9068 §4).
    #[error("the token is not an access token (typ must be at+jwt)")]
    WrongType,
    /// A required claim is missing or has the wrong type.
    #[error("the access token claims are missing or invalid")]
    BadClaims,
    /// The subject no longer exists or is disabled.
    #[error("the access token subject is unknown or disabled")]
    UnknownSubject,
}

/// A key or algorithm that cannot be used to sign access tokens.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// An HMAC secret shorter than [`MIN_SECRET_LEN`] bytes.
    #[error("the secret is {len} bytes; at least {MIN_SECRET_LEN} are required")]
    SecretTooShort {
        /// The length of the secret given, in bytes.
        len: usize,
    },
    /// An HMAC secret with too few distinct bytes to be random.
    #[error("the secret has fewer than {MIN_DISTINCT_BYTES} distinct bytes; generate a random one")]
    SecretNotRandom,
    /// The algorithm does not fit the kind of key.
    #[error("{algorithm:?} is not {expected} algorithm")]
    WrongAlgorithm {
        /// The algorithm asked for.
        algorithm: Algorithm,
        /// The family of algorithms the key needs, e.g. `"an HMAC"`.
        expected: &'static str,
    },
    /// A PEM key that does not parse.
    #[error("the key does not parse: {0}")]
    Pem(jsonwebtoken::errors::Error),
}

/// Signing an access token failed (only possible with a broken asymmetric
/// key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("signing the access token failed: {0}")]
pub struct SigningError(jsonwebtoken::errors::Error);

/// The claims of an access token (RFC 9068 §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    /// Issuer.
    pub iss: String,
    /// Subject: the username.
    pub sub: String,
    /// Audience: the resource server.
    pub aud: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Issue time, seconds since the Unix epoch.
    pub iat: u64,
    /// Not before, seconds since the Unix epoch (equal to `iat` when issued
    /// here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Unique token id.
    pub jti: String,
    /// The OAuth client the token was issued to.
    pub client_id: String,
    /// The granted scopes, space-separated.
    #[serde(default)]
    pub scope: Scopes,
}

/// Signing and verification keys, with the one algorithm they are used
/// with. The algorithm is fixed here, never read from a token.
///
/// # Example
///
/// ```
/// use auth_core::TokenKeys;
///
/// let keys = TokenKeys::hs256(b"0123456789abcdef0123456789abcdef").unwrap();
/// assert!(TokenKeys::hs256(b"too short").is_err());
/// # let _ = keys;
/// ```
#[derive(Clone)]
pub struct TokenKeys {
    algorithm: Algorithm,
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// For `HS256`: HMAC-SHA256 already keyed with the secret, cloned per
    /// verification instead of re-keying.
    hs256: Option<Hmac<Sha256>>,
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKeys")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl TokenKeys {
    /// HMAC-SHA256 keys from a shared secret of at least [`MIN_SECRET_LEN`]
    /// bytes.
    ///
    /// # Errors
    ///
    /// [`KeyError::SecretTooShort`] or [`KeyError::SecretNotRandom`] for a
    /// short or low-entropy secret.
    pub fn hs256(secret: &[u8]) -> Result<Self, KeyError> {
        Self::hmac(Algorithm::HS256, secret)
    }

    /// HMAC keys (`HS256`, `HS384` or `HS512`) from a shared secret.
    ///
    /// # Errors
    ///
    /// [`KeyError::SecretTooShort`] or [`KeyError::SecretNotRandom`] for a
    /// short or low-entropy secret, [`KeyError::WrongAlgorithm`] for a
    /// non-HMAC algorithm.
    pub fn hmac(algorithm: Algorithm, secret: &[u8]) -> Result<Self, KeyError> {
        if !matches!(
            algorithm,
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
        ) {
            return Err(KeyError::WrongAlgorithm {
                algorithm,
                expected: "an HMAC",
            });
        }
        check_secret_strength(secret)?;
        let hs256 = (algorithm == Algorithm::HS256)
            .then(|| Hmac::<Sha256>::new_from_slice(secret).ok())
            .flatten();
        Ok(Self {
            algorithm,
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            hs256,
        })
    }

    /// Ed25519 (`EdDSA`) keys from PEM: a PKCS#8 private key and its public
    /// key. Resource servers can then verify without the signing key.
    ///
    /// # Errors
    ///
    /// [`KeyError::Pem`] if either PEM does not parse.
    pub fn ed25519_pem(private_pem: &[u8], public_pem: &[u8]) -> Result<Self, KeyError> {
        Ok(Self {
            algorithm: Algorithm::EdDSA,
            encoding: EncodingKey::from_ed_pem(private_pem).map_err(KeyError::Pem)?,
            decoding: DecodingKey::from_ed_pem(public_pem).map_err(KeyError::Pem)?,
            hs256: None,
        })
    }

    /// RSA keys from PEM, for `RS256`/`RS384`/`RS512` or `PS256`/`PS384`/`PS512`.
    ///
    /// # Errors
    ///
    /// [`KeyError::Pem`] if either PEM does not parse,
    /// [`KeyError::WrongAlgorithm`] for a non-RSA algorithm.
    pub fn rsa_pem(
        algorithm: Algorithm,
        private_pem: &[u8],
        public_pem: &[u8],
    ) -> Result<Self, KeyError> {
        use Algorithm::{PS256, PS384, PS512, RS256, RS384, RS512};
        if !matches!(algorithm, RS256 | RS384 | RS512 | PS256 | PS384 | PS512) {
            return Err(KeyError::WrongAlgorithm {
                algorithm,
                expected: "an RSA",
            });
        }
        Ok(Self {
            algorithm,
            encoding: EncodingKey::from_rsa_pem(private_pem).map_err(KeyError::Pem)?,
            decoding: DecodingKey::from_rsa_pem(public_pem).map_err(KeyError::Pem)?,
            hs256: None,
        })
    }

    /// The algorithm tokens are signed and verified with.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

/// Fewest distinct bytes a secret must have to pass as random.
const MIN_DISTINCT_BYTES: usize = 8;

/// Refuses secrets that are short or obviously not random (a repeated
/// character, a handful of distinct bytes).
fn check_secret_strength(secret: &[u8]) -> Result<(), KeyError> {
    if secret.len() < MIN_SECRET_LEN {
        return Err(KeyError::SecretTooShort { len: secret.len() });
    }
    let mut seen = [false; 256];
    for &b in secret {
        seen[usize::from(b)] = true;
    }
    if seen.iter().filter(|&&s| s).count() < MIN_DISTINCT_BYTES {
        return Err(KeyError::SecretNotRandom);
    }
    Ok(())
}

/// What [`AccessTokens::issue`] returns.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The compact JWT.
    pub token: String,
    /// Its claims.
    pub claims: AccessTokenClaims,
}

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
/// # Verification cost
///
/// With `HS256` keys, a token whose header is exactly the one this issuer
/// writes is verified on a fast path: one HMAC with the pre-keyed secret
/// (compared in constant time), the claims parsed once, `exp`, `nbf`,
/// `iss` and `aud` checked by hand. Every other token (another algorithm,
/// another header) goes through `jsonwebtoken` with the pinned algorithm.
/// Tokens that passed full verification are remembered, keyed by their
/// exact bytes, in a bounded cache ([`Self::VERIFIED_CACHE_SIZE`] entries);
/// `exp` and `nbf` are checked again on every hit. Only fully verified
/// tokens are inserted, so a forged or altered token can never hit.
#[derive(Debug, Clone)]
pub struct AccessTokens {
    keys: TokenKeys,
    issuer: String,
    audience: String,
    ttl: u64,
    validation: Validation,
    /// The base64url header segment this issuer writes (`HS256` only).
    fast_header: Option<String>,
    verified: Arc<VerifiedCache>,
}

impl AccessTokens {
    /// Default lifetime of an access token, in seconds (30 minutes).
    pub const DEFAULT_TTL: u64 = 1800;
    /// Default clock-skew leeway for `exp` and `nbf`, in seconds.
    pub const DEFAULT_LEEWAY: u64 = 10;

    /// Most verified tokens remembered at once (see "Verification cost").
    pub const VERIFIED_CACHE_SIZE: usize = 4096;

    /// Tokens for `issuer` and `audience`, with the default lifetime and
    /// leeway.
    #[must_use]
    pub fn new(keys: TokenKeys, issuer: &str, audience: &str) -> Self {
        let mut validation = Validation::new(keys.algorithm);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = Self::DEFAULT_LEEWAY;
        // The header segment exactly as `issue` writes it: taken from a
        // token signed over an empty payload, so it cannot drift from what
        // jsonwebtoken serializes.
        let fast_header = keys.hs256.as_ref().and_then(|_| {
            let token =
                jsonwebtoken::encode(&access_header(keys.algorithm), &(), &keys.encoding).ok()?;
            token.split('.').next().map(str::to_owned)
        });
        Self {
            keys,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl: Self::DEFAULT_TTL,
            validation,
            fast_header,
            verified: Arc::new(VerifiedCache::new(Self::VERIFIED_CACHE_SIZE)),
        }
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
        self
    }

    /// Sets the clock-skew leeway for `exp` and `nbf`, in seconds.
    #[must_use]
    pub fn with_leeway(mut self, seconds: u64) -> Self {
        self.validation.leeway = seconds;
        self
    }

    /// The signing algorithm.
    #[must_use]
    pub fn keys_algorithm(&self) -> Algorithm {
        self.keys.algorithm
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
    /// asymmetric key).
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
        };
        let token = jsonwebtoken::encode(
            &access_header(self.keys.algorithm),
            &claims,
            &self.keys.encoding,
        )
        .map_err(SigningError)?;
        Ok(IssuedToken { token, claims })
    }

    /// Verifies a token: signature with the pinned algorithm, `typ`, `exp`
    /// and `nbf` (with leeway), `iss`, `aud` and the claim types.
    ///
    /// # Errors
    ///
    /// The [`TokenProblem`] that best describes the failure.
    pub fn verify(&self, token: &str) -> Result<AccessTokenClaims, TokenProblem> {
        self.verify_at(token, unix_now())
    }

    /// Verifies a token as if the time were `now` (seconds since the
    /// epoch).
    ///
    /// # Errors
    ///
    /// As [`Self::verify`].
    pub fn verify_at(&self, token: &str, now: u64) -> Result<AccessTokenClaims, TokenProblem> {
        if let (Some(header), Some(mac)) = (&self.fast_header, &self.keys.hs256)
            && let Some((signing_input, signature)) = token.rsplit_once('.')
            && let Some((token_header, payload)) = signing_input.split_once('.')
            && (token_header == header || self.is_plain_header(token_header)?)
        {
            if let Some(claims) = self.verified.get(token) {
                self.check_times(&claims, now)?;
                return Ok(AccessTokenClaims::clone(&claims));
            }
            let claims = self.verify_hs256(mac, signing_input, payload, signature, now)?;
            self.verified.insert(token, Arc::new(claims.clone()));
            return Ok(claims);
        }
        self.verify_slow(token)
    }

    /// Whether a header segment other than ours still says exactly
    /// `{"alg": "HS256", "typ": "at+jwt"}` (another key order or spacing),
    /// so the fast path applies. A segment that is not base64url is
    /// malformed; anything else (other fields, another `alg` or `typ`)
    /// goes to the full verification.
    fn is_plain_header(&self, segment: &str) -> Result<bool, TokenProblem> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct PlainHeader {
            alg: String,
            typ: String,
        }
        if segment.len() > 256 {
            return Ok(false);
        }
        let json = URL_SAFE_NO_PAD
            .decode(segment)
            .map_err(|_| TokenProblem::Malformed)?;
        Ok(serde_json::from_slice::<PlainHeader>(&json).is_ok_and(|h| {
            self.keys.algorithm == Algorithm::HS256
                && h.alg == "HS256"
                && (h.typ.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE)
                    || h.typ.eq_ignore_ascii_case("application/at+jwt"))
        }))
    }

    /// The `HS256` fast path for a token whose header is exactly ours.
    fn verify_hs256(
        &self,
        mac: &Hmac<Sha256>,
        signing_input: &str,
        payload: &str,
        signature: &str,
        now: u64,
    ) -> Result<AccessTokenClaims, TokenProblem> {
        let mut tag = [0u8; 32];
        match URL_SAFE_NO_PAD.decode_slice(signature, &mut tag) {
            Ok(len) if len == tag.len() => {}
            Ok(_) | Err(base64::DecodeSliceError::OutputSliceTooSmall) => {
                return Err(TokenProblem::BadSignature);
            }
            Err(base64::DecodeSliceError::DecodeError(_)) => return Err(TokenProblem::Malformed),
        }
        let mut mac = mac.clone();
        mac.update(signing_input.as_bytes());
        mac.verify_slice(&tag)
            .map_err(|_| TokenProblem::BadSignature)?;
        let json = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenProblem::Malformed)?;
        let claims: AccessTokenClaims =
            serde_json::from_slice(&json).map_err(|_| TokenProblem::BadClaims)?;
        self.check_times(&claims, now)?;
        if claims.iss != self.issuer {
            return Err(TokenProblem::WrongIssuer);
        }
        if claims.aud != self.audience {
            return Err(TokenProblem::WrongAudience);
        }
        Ok(claims)
    }

    /// `exp` and `nbf` with the leeway, as jsonwebtoken checks them.
    fn check_times(&self, claims: &AccessTokenClaims, now: u64) -> Result<(), TokenProblem> {
        let leeway = self.validation.leeway;
        if claims.exp.saturating_add(leeway) < now {
            return Err(TokenProblem::Expired);
        }
        if claims
            .nbf
            .is_some_and(|nbf| nbf > now.saturating_add(leeway))
        {
            return Err(TokenProblem::NotYetValid);
        }
        Ok(())
    }

    /// Full verification with jsonwebtoken, for every other algorithm and
    /// header.
    fn verify_slow(&self, token: &str) -> Result<AccessTokenClaims, TokenProblem> {
        let data =
            jsonwebtoken::decode::<AccessTokenClaims>(token, &self.keys.decoding, &self.validation)
                .map_err(|e| token_problem(token, e.kind()))?;
        let typ_ok = data.header.typ.as_deref().is_some_and(|typ| {
            typ.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE)
                || typ.eq_ignore_ascii_case("application/at+jwt")
        });
        if !typ_ok {
            return Err(TokenProblem::WrongType);
        }
        Ok(data.claims)
    }
}

/// The header of an access token: the pinned algorithm and `typ: at+jwt`.
fn access_header(algorithm: Algorithm) -> Header {
    let mut header = Header::new(algorithm);
    header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
    header
}

/// Tokens that passed full verification, keyed by their exact bytes, at
/// most `capacity` of them. When full, the whole cache is dropped and
/// refilled: simple, bounded, and only ever holding verified tokens.
struct VerifiedCache {
    capacity: usize,
    entries: Mutex<HashMap<Box<str>, Arc<AccessTokenClaims>>>,
}

impl fmt::Debug for VerifiedCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedCache")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl VerifiedCache {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, token: &str) -> Option<Arc<AccessTokenClaims>> {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(token)
            .cloned()
    }

    /// Remembers a token that passed full verification. Never call it with
    /// anything else.
    fn insert(&self, token: &str, claims: Arc<AccessTokenClaims>) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity {
            entries.clear();
        }
        entries.insert(token.into(), claims);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// Names a verification failure. A token whose header does not even decode
/// is malformed, not a token with bad claims (jsonwebtoken reports both as
/// JSON errors); that extra look is taken on the failure path only.
fn token_problem(token: &str, kind: &ErrorKind) -> TokenProblem {
    match kind {
        ErrorKind::Json(_) | ErrorKind::Base64(_) | ErrorKind::Utf8(_)
            if jsonwebtoken::decode_header(token).is_err() =>
        {
            TokenProblem::Malformed
        }
        ErrorKind::InvalidSignature => TokenProblem::BadSignature,
        ErrorKind::ExpiredSignature => TokenProblem::Expired,
        ErrorKind::ImmatureSignature => TokenProblem::NotYetValid,
        ErrorKind::InvalidIssuer => TokenProblem::WrongIssuer,
        ErrorKind::InvalidAudience => TokenProblem::WrongAudience,
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => TokenProblem::WrongAlgorithm,
        ErrorKind::MissingRequiredClaim(_)
        | ErrorKind::InvalidClaimFormat(_)
        | ErrorKind::Json(_) => TokenProblem::BadClaims,
        _ => TokenProblem::Malformed,
    }
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
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn tokens() -> AccessTokens {
        AccessTokens::new(TokenKeys::hs256(SECRET).unwrap(), "iss", "aud")
    }

    fn scopes() -> Scopes {
        Scopes::parse("read:items").unwrap()
    }

    /// Signs arbitrary claims with an arbitrary header, for forging tests.
    fn sign(header: &Header, claims: &serde_json::Value, secret: &[u8]) -> String {
        jsonwebtoken::encode(header, claims, &EncodingKey::from_secret(secret)).unwrap()
    }

    fn claims_json(now: u64) -> serde_json::Value {
        serde_json::json!({
            "iss": "iss", "sub": "alice", "aud": "aud", "exp": now + 60, "iat": now,
            "jti": "j", "client_id": "c", "scope": "read:items"
        })
    }

    fn at_header(alg: Algorithm) -> Header {
        let mut header = Header::new(alg);
        header.typ = Some("at+jwt".into());
        header
    }

    #[test]
    fn issued_tokens_verify_and_carry_rfc_9068_claims() {
        let t = tokens().with_ttl(600);
        let issued = t.issue("alice", "cli", &scopes()).unwrap();
        let claims = t.verify(&issued.token).unwrap();
        assert_eq!(claims, issued.claims);
        assert_eq!(claims.exp - claims.iat, 600);
        assert_eq!(claims.client_id, "cli");
        let header = jsonwebtoken::decode_header(&issued.token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(header.alg, Algorithm::HS256);
        // jti is unique per token
        let again = t.issue("alice", "cli", &scopes()).unwrap();
        assert_ne!(again.claims.jti, claims.jti);
    }

    #[test]
    fn expiry_honours_the_leeway() {
        let t = tokens().with_ttl(60).with_leeway(5);
        let now = unix_now();
        let expired = t.issue_at("a", "c", &scopes(), now - 70).unwrap();
        assert_eq!(t.verify(&expired.token), Err(TokenProblem::Expired));
        let within_leeway = t.issue_at("a", "c", &scopes(), now - 62).unwrap();
        assert!(t.verify(&within_leeway.token).is_ok());
    }

    #[test]
    fn future_tokens_are_not_yet_valid() {
        let t = tokens();
        let future = t.issue_at("a", "c", &scopes(), unix_now() + 600).unwrap();
        assert_eq!(t.verify(&future.token), Err(TokenProblem::NotYetValid));
    }

    #[test]
    fn wrong_secret_issuer_audience_are_rejected() {
        let now = unix_now();
        let t = tokens();
        let other = sign(
            &at_header(Algorithm::HS256),
            &claims_json(now),
            b"another-secret-another-secret-xx",
        );
        assert_eq!(t.verify(&other), Err(TokenProblem::BadSignature));
        let mut c = claims_json(now);
        c["iss"] = "evil".into();
        assert_eq!(
            t.verify(&sign(&at_header(Algorithm::HS256), &c, SECRET)),
            Err(TokenProblem::WrongIssuer)
        );
        let mut c = claims_json(now);
        c["aud"] = "other".into();
        assert_eq!(
            t.verify(&sign(&at_header(Algorithm::HS256), &c, SECRET)),
            Err(TokenProblem::WrongAudience)
        );
    }

    #[test]
    fn algorithm_is_pinned() {
        let now = unix_now();
        let t = tokens();
        let hs512 = sign(&at_header(Algorithm::HS512), &claims_json(now), SECRET);
        assert_eq!(t.verify(&hs512), Err(TokenProblem::WrongAlgorithm));
        // alg "none": header {"alg":"none","typ":"at+jwt"}, no signature
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
        let body = URL_SAFE_NO_PAD.encode(claims_json(now).to_string());
        let none = format!("{header}.{body}.");
        assert!(t.verify(&none).is_err());
    }

    #[test]
    fn typ_must_be_at_jwt() {
        let now = unix_now();
        let t = tokens();
        let plain = sign(&Header::new(Algorithm::HS256), &claims_json(now), SECRET);
        assert_eq!(t.verify(&plain), Err(TokenProblem::WrongType));
        let mut media = Header::new(Algorithm::HS256);
        media.typ = Some("application/at+jwt".into());
        assert!(t.verify(&sign(&media, &claims_json(now), SECRET)).is_ok());
    }

    #[test]
    fn missing_or_mistyped_claims_are_bad_claims() {
        let now = unix_now();
        let t = tokens();
        let mut c = claims_json(now);
        c.as_object_mut().unwrap().remove("sub");
        assert_eq!(
            t.verify(&sign(&at_header(Algorithm::HS256), &c, SECRET)),
            Err(TokenProblem::BadClaims)
        );
        let mut c = claims_json(now);
        c["scope"] = "bad\"scope".into();
        assert!(
            t.verify(&sign(&at_header(Algorithm::HS256), &c, SECRET))
                .is_err()
        );
        let mut c = claims_json(now);
        c.as_object_mut().unwrap().remove("exp");
        assert!(
            t.verify(&sign(&at_header(Algorithm::HS256), &c, SECRET))
                .is_err()
        );
    }

    #[test]
    fn tampered_and_garbage_tokens_fail() {
        let t = tokens();
        let issued = t.issue("alice", "c", &scopes()).unwrap();
        let mut parts: Vec<String> = issued.token.split('.').map(str::to_owned).collect();
        let mut claims = issued.claims.clone();
        claims.scope = Scopes::parse("admin").unwrap();
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
        assert_eq!(t.verify(&parts.join(".")), Err(TokenProblem::BadSignature));
        for garbage in ["", "a", "a.b", "a.b.c", "....", "eyJ.eyJ.sig"] {
            assert!(t.verify(garbage).is_err(), "{garbage:?}");
        }
        // Three dot-separated parts that are not JSON are malformed, not a
        // token with bad claims.
        for not_a_jwt in ["abc.def.ghi", "e30.abc.def"] {
            assert_eq!(
                t.verify(not_a_jwt),
                Err(TokenProblem::Malformed),
                "{not_a_jwt}"
            );
        }
    }

    /// A throwaway Ed25519 key pair, made for this test only.
    const ED25519_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIFbtpXJ+w9SViNs84GHqH/9LCFmPONXV+B0XtsbGxBUn
-----END PRIVATE KEY-----";
    const ED25519_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEALXiXtCDoS1Dt5NyUbnSGrkU9JUbq/GANo2I6NLp/ioc=
-----END PUBLIC KEY-----";

    #[test]
    fn ed25519_keys_sign_and_verify_and_pin_eddsa() {
        let keys =
            TokenKeys::ed25519_pem(ED25519_PRIVATE.as_bytes(), ED25519_PUBLIC.as_bytes()).unwrap();
        assert_eq!(keys.algorithm(), Algorithm::EdDSA);
        let t = AccessTokens::new(keys, "iss", "aud");
        let issued = t.issue("alice", "c", &scopes()).unwrap();
        assert_eq!(
            jsonwebtoken::decode_header(&issued.token).unwrap().alg,
            Algorithm::EdDSA
        );
        assert_eq!(t.verify(&issued.token).unwrap().sub, "alice");
        // An HMAC token signed with the public key as secret (the classic
        // algorithm-confusion attack) is refused.
        let confused = sign(
            &at_header(Algorithm::HS256),
            &claims_json(unix_now()),
            ED25519_PUBLIC.as_bytes(),
        );
        assert_eq!(t.verify(&confused), Err(TokenProblem::WrongAlgorithm));
        assert!(TokenKeys::ed25519_pem(b"not a pem", ED25519_PUBLIC.as_bytes()).is_err());
    }

    #[test]
    fn weak_secrets_are_refused() {
        assert!(TokenKeys::hs256(b"short").is_err());
        assert!(TokenKeys::hs256(&[b'a'; 64]).is_err());
        assert!(TokenKeys::hmac(Algorithm::RS256, SECRET).is_err());
        assert!(TokenKeys::hmac(Algorithm::HS512, SECRET).is_ok());
    }

    #[test]
    fn hs256_tokens_take_the_fast_path_and_are_remembered() {
        let t = tokens();
        assert!(t.fast_header.is_some());
        let issued = t.issue("alice", "c", &scopes()).unwrap();
        assert_eq!(t.verified.len(), 0);
        assert_eq!(t.verify(&issued.token).unwrap(), issued.claims);
        assert_eq!(t.verified.len(), 1);
        // A hit returns the same claims.
        assert_eq!(t.verify(&issued.token).unwrap(), issued.claims);
        assert_eq!(t.verified.len(), 1);
        // The slow path agrees with the fast path.
        assert_eq!(t.verify_slow(&issued.token).unwrap(), issued.claims);
        // Other algorithms never take the fast path.
        let hs512 = AccessTokens::new(
            TokenKeys::hmac(Algorithm::HS512, SECRET).unwrap(),
            "iss",
            "aud",
        );
        assert!(hs512.fast_header.is_none());
        let token = hs512.issue("alice", "c", &scopes()).unwrap().token;
        assert_eq!(hs512.verify(&token).unwrap().sub, "alice");
        assert_eq!(hs512.verified.len(), 0);
    }

    #[test]
    fn equivalent_headers_take_the_fast_path_too() {
        let t = tokens();
        let now = unix_now();
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ": "at+jwt", "alg": "HS256"}"#);
        let body = URL_SAFE_NO_PAD.encode(claims_json(now).to_string());
        let input = format!("{header}.{body}");
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).unwrap();
        mac.update(input.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        assert_eq!(t.verify(&format!("{input}.{sig}")).unwrap().sub, "alice");
        assert_eq!(t.verified.len(), 1);
        // Not base64url at all: malformed, as the full path says.
        assert_eq!(t.verify("no!.a-jwt.at-all"), Err(TokenProblem::Malformed));
        assert_eq!(
            t.verify_slow("no!.a-jwt.at-all"),
            Err(TokenProblem::Malformed)
        );
        // An extra header field goes to the full verification.
        let kid = sign(
            &Header {
                kid: Some("k".into()),
                ..at_header(Algorithm::HS256)
            },
            &claims_json(now),
            SECRET,
        );
        assert!(t.verify(&kid).is_ok());
        assert_eq!(t.verified.len(), 1);
    }

    #[test]
    fn a_cache_hit_still_honours_exp_and_nbf() {
        let t = tokens().with_ttl(60).with_leeway(5);
        let now = unix_now();
        let issued = t.issue_at("alice", "c", &scopes(), now).unwrap();
        assert!(t.verify_at(&issued.token, now).is_ok());
        assert_eq!(t.verified.len(), 1);
        assert_eq!(
            t.verify_at(&issued.token, now + 66),
            Err(TokenProblem::Expired)
        );
        assert_eq!(
            t.verify_at(&issued.token, now - 6),
            Err(TokenProblem::NotYetValid)
        );
        assert!(t.verify_at(&issued.token, now + 65).is_ok());
    }

    #[test]
    fn the_cache_is_bounded() {
        let t = tokens().with_cache_capacity(3);
        for _ in 0..10 {
            let token = t.issue("alice", "c", &scopes()).unwrap().token;
            assert!(t.verify(&token).is_ok());
            assert!(t.verified.len() <= 3);
        }
        let none = tokens().with_cache_capacity(0);
        let token = none.issue("alice", "c", &scopes()).unwrap().token;
        assert!(none.verify(&token).is_ok());
        assert_eq!(none.verified.len(), 0);
    }

    #[test]
    fn altered_or_forged_tokens_never_hit_the_cache() {
        let t = tokens();
        let now = unix_now();
        let issued = t.issue("alice", "c", &scopes()).unwrap();
        assert!(t.verify(&issued.token).is_ok());
        // Same header and payload, another signature.
        let (input, signature) = issued.token.rsplit_once('.').unwrap();
        let mut sig = signature.as_bytes().to_vec();
        sig[0] = if sig[0] == b'A' { b'B' } else { b'A' };
        let resigned = format!("{input}.{}", String::from_utf8(sig).unwrap());
        assert_eq!(t.verify(&resigned), Err(TokenProblem::BadSignature));
        // A longer signature, or one with padding.
        assert!(t.verify(&format!("{}A", issued.token)).is_err());
        assert!(t.verify(&format!("{}=", issued.token)).is_err());
        // The same claims signed with another secret.
        let forged = sign(
            &at_header(Algorithm::HS256),
            &serde_json::to_value(&issued.claims).unwrap(),
            b"another-secret-another-secret-xx",
        );
        assert_eq!(t.verify(&forged), Err(TokenProblem::BadSignature));
        // Properly signed but for another issuer: refused, not remembered.
        let mut c = claims_json(now);
        c["iss"] = "evil".into();
        let wrong_iss = sign(&at_header(Algorithm::HS256), &c, SECRET);
        assert_eq!(t.verify(&wrong_iss), Err(TokenProblem::WrongIssuer));
        assert_eq!(t.verify(&wrong_iss), Err(TokenProblem::WrongIssuer));
        assert_eq!(t.verified.len(), 1);
    }
}
