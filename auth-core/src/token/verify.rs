//! Verifying access tokens: the cached answer, the `HS256` fast path, and
//! the full verification with jsonwebtoken for every other key, algorithm
//! and header (see "Verification cost" on [`AccessTokens`]).

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac as _};
use jsonwebtoken::Algorithm;
use jsonwebtoken::errors::ErrorKind;
use serde::Deserialize;
use sha2::Sha256;

use super::cache::{CacheKey, Refusal};
use super::{
    ACCESS_TOKEN_TYPE, AccessTokenClaims, AccessTokens, TokenProblem, VerificationKey, unix_now,
};

impl AccessTokens {
    /// Verifies a token: the key named by its `kid`, the signature with
    /// that key's pinned algorithm, `typ`, `exp` and `nbf` (with leeway),
    /// `iss`, `aud` and the claim types.
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
        self.verify_shared_at(token, now).map(Arc::unwrap_or_clone)
    }

    /// [`Self::verify`], sharing the claims with the verified-token cache
    /// instead of copying them.
    pub(crate) fn verify_shared(
        &self,
        token: &str,
    ) -> Result<Arc<AccessTokenClaims>, TokenProblem> {
        self.verify_shared_at(token, unix_now())
    }

    /// [`Self::verify_at`], sharing the claims with the verified-token
    /// cache.
    fn verify_shared_at(
        &self,
        token: &str,
        now: u64,
    ) -> Result<Arc<AccessTokenClaims>, TokenProblem> {
        let generation = self.others.generation();
        // One hash of the token serves both caches.
        let key = self.cache_keys.key(token);
        if let Some(key) = &key
            && let Some(refusal) = self.refused.get(key, generation)
            && refusal.at <= now
        {
            return Err(refusal.problem);
        }
        let verified = self.verify_remembered(token, key.as_ref(), now, generation);
        if let Err(problem) = verified
            && let Some(key) = &key
            && Refusal::is_lasting(problem)
        {
            let refusal = Refusal { problem, at: now };
            self.refused.insert(key, refusal, generation);
        }
        verified
    }

    /// [`Self::verify_at`] through the verified-token cache.
    fn verify_remembered(
        &self,
        token: &str,
        key: Option<&CacheKey<'_>>,
        now: u64,
        generation: u64,
    ) -> Result<Arc<AccessTokenClaims>, TokenProblem> {
        // Only fully verified tokens are in the cache, so a hit is answered
        // before the token is even split: only the times can have changed.
        if let Some(key) = key
            && let Some(claims) = self.verified.get(key, generation)
        {
            self.check_times(&claims, now)?;
            return Ok(claims);
        }
        let claims = if let Some(fast) = self.signing.as_ref().and_then(|s| s.fast.as_ref())
            && let Some((signing_input, signature)) = token.rsplit_once('.')
            && let Some((token_header, payload)) = signing_input.split_once('.')
            && (token_header == fast.header || self.is_plain_header(token_header)?)
        {
            self.verify_hs256(&fast.mac, signing_input, payload, signature, now)?
        } else {
            self.verify_slow(token)?
        };
        let claims = Arc::new(claims);
        if let Some(key) = key {
            self.verified.insert(key, Arc::clone(&claims), generation);
        }
        Ok(claims)
    }

    /// Whether a header segment other than ours still says exactly
    /// `{"alg": "HS256", "typ": "at+jwt"}`, with no `kid` or the signing
    /// key's (another key order or spacing), so the fast path applies. A
    /// segment that is not base64url is malformed; anything else (other
    /// fields, another `alg`, `typ` or `kid`) goes to the full
    /// verification.
    pub(super) fn is_plain_header(&self, segment: &str) -> Result<bool, TokenProblem> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct PlainHeader {
            alg: String,
            typ: String,
            #[serde(default)]
            kid: Option<String>,
        }
        let Some(signing) = &self.signing else {
            return Ok(false);
        };
        if segment.len() > 512 {
            return Ok(false);
        }
        let json = URL_SAFE_NO_PAD
            .decode(segment)
            .map_err(|_| TokenProblem::Malformed)?;
        Ok(serde_json::from_slice::<PlainHeader>(&json).is_ok_and(|h| {
            signing.keys.algorithm() == Algorithm::HS256
                && h.alg == "HS256"
                && is_access_token_type(&h.typ)
                && h.kid.is_none_or(|kid| kid == signing.keys.kid())
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
        if claims.exp.saturating_add(self.leeway) < now {
            return Err(TokenProblem::Expired);
        }
        if claims
            .nbf
            .is_some_and(|nbf| nbf > now.saturating_add(self.leeway))
        {
            return Err(TokenProblem::NotYetValid);
        }
        Ok(())
    }

    /// The key a token's `kid` names: the signing key, or one of the
    /// verification keys. Without `kid`: the signing key; a verifier
    /// without one uses its only key, if it has exactly one.
    fn key_for(&self, kid: Option<&str>) -> Result<Arc<VerificationKey>, TokenProblem> {
        let signing = self.signing.as_ref().map(|s| &s.keys.verification);
        match kid {
            Some(kid) => {
                if let Some(key) = signing.filter(|key| key.kid() == kid) {
                    return Ok(Arc::clone(key));
                }
                if let Some(key) = self.others.load().get_shared(kid) {
                    return Ok(Arc::clone(key));
                }
                self.others.unknown_kid(kid);
                Err(TokenProblem::UnknownKey)
            }
            None => match signing {
                Some(key) => Ok(Arc::clone(key)),
                None => self
                    .others
                    .load()
                    .only()
                    .map(Arc::clone)
                    .ok_or(TokenProblem::UnknownKey),
            },
        }
    }

    /// Full verification with jsonwebtoken, for every other key, algorithm
    /// and header.
    pub(super) fn verify_slow(&self, token: &str) -> Result<AccessTokenClaims, TokenProblem> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenProblem::Malformed)?;
        let key = self.key_for(header.kid.as_deref())?;
        if header.alg != key.algorithm() {
            return Err(TokenProblem::WrongAlgorithm);
        }
        let validation = self
            .validations
            .iter()
            .find(|(algorithm, _)| *algorithm == key.algorithm())
            .map(|(_, validation)| validation)
            .ok_or(TokenProblem::WrongAlgorithm)?;
        let data = jsonwebtoken::decode::<AccessTokenClaims>(token, &key.decoding, validation)
            .map_err(|e| token_problem(token, e.kind()))?;
        if !data.header.typ.as_deref().is_some_and(is_access_token_type) {
            return Err(TokenProblem::WrongType);
        }
        Ok(data.claims)
    }
}

/// `at+jwt`, or its media type `application/at+jwt`, in any case.
fn is_access_token_type(typ: &str) -> bool {
    typ.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE) || typ.eq_ignore_ascii_case("application/at+jwt")
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
