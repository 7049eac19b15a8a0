//! JSON Web Keys (RFC 7517): public verification keys read from a JWK set
//! (another issuer's published keys) and written to one (ours). Symmetric
//! keys are never read nor written.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, PublicKeyUse};

use super::key_set::KeySet;
use super::keys::{KeyError, is_rsa};
use super::verification_key::VerificationKey;

impl VerificationKey {
    /// A public key from a JWK (RFC 7517), e.g. one of another issuer's
    /// published keys. The JWK must have a `kid`; its algorithm is its
    /// `alg`, or for a JWK without `alg`, `RS256` for RSA and `EdDSA` for
    /// Ed25519.
    ///
    /// # Errors
    ///
    /// [`KeyError::Jwk`] for a symmetric (`oct`) key, which is never
    /// accepted from a key set (anyone who can read it could sign), for a
    /// key meant for encryption (`use: enc`), a missing `kid`, an
    /// unsupported key type, curve or algorithm, or bad key material;
    /// [`KeyError::RsaTooSmall`], [`KeyError::BadKid`].
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, KeyError> {
        let kid = jwk.common.key_id.clone();
        let refuse = |reason| KeyError::Jwk {
            kid: kid.clone(),
            reason,
        };
        let Some(name) = kid.as_deref() else {
            return Err(refuse("no kid"));
        };
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            return Err(refuse("the key is for encryption (use: enc)"));
        }
        let alg = match jwk.common.key_algorithm {
            None => None,
            Some(alg) => Some(
                alg.to_string()
                    .parse::<Algorithm>()
                    .map_err(|_| refuse("unsupported alg"))?,
            ),
        };
        match &jwk.algorithm {
            AlgorithmParameters::OctetKey(_) => Err(refuse(
                "symmetric keys (kty: oct) are never accepted from a key set",
            )),
            AlgorithmParameters::OctetKeyPair(params) => {
                if params.curve != EllipticCurve::Ed25519
                    || alg.is_some_and(|a| a != Algorithm::EdDSA)
                {
                    return Err(refuse("only Ed25519 with EdDSA is supported for OKP keys"));
                }
                let raw: [u8; 32] = URL_SAFE_NO_PAD
                    .decode(&params.x)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| refuse("x is not a 32-byte Ed25519 key"))?;
                Self::ed25519_raw(Some(name), raw).map_err(|_| refuse("x is not an Ed25519 key"))
            }
            AlgorithmParameters::RSA(params) => {
                let algorithm = alg.unwrap_or(Algorithm::RS256);
                if !is_rsa(algorithm) {
                    return Err(refuse("alg does not fit an RSA key"));
                }
                let decode = |v: &str| URL_SAFE_NO_PAD.decode(v).ok();
                let (Some(n), Some(e)) = (decode(&params.n), decode(&params.e)) else {
                    return Err(refuse("n or e is not base64url"));
                };
                let public = rsa::RsaPublicKey::new(
                    rsa::BigUint::from_bytes_be(&n),
                    rsa::BigUint::from_bytes_be(&e),
                )
                .map_err(|_| refuse("n and e do not form an RSA key"))?;
                Self::rsa_public(Some(name), algorithm, &public)
            }
            AlgorithmParameters::EllipticCurve(_) => {
                Err(refuse("EC keys are not supported; use Ed25519 or RSA"))
            }
        }
    }
}

impl KeySet {
    /// The public keys of a JWK set (RFC 7517), e.g. fetched from another
    /// issuer's `jwks_uri`. Keys meant for encryption (`use: enc`) are
    /// skipped; every other key must be usable.
    ///
    /// # Errors
    ///
    /// [`KeyError::Jwk`] for a symmetric key (never accepted) or an
    /// unusable one, [`KeyError::DuplicateKid`].
    pub fn from_jwk_set(set: &JwkSet) -> Result<Self, KeyError> {
        let mut keys = Self::new();
        for jwk in &set.keys {
            if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
                continue;
            }
            keys.insert(VerificationKey::from_jwk(jwk)?)?;
        }
        Ok(keys)
    }

    /// The public keys as a JWK set, ordered by `kid`: never a private or
    /// symmetric key.
    #[must_use]
    pub fn to_jwk_set(&self) -> JwkSet {
        JwkSet {
            keys: self.iter().filter_map(VerificationKey::to_jwk).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::jwk::ThumbprintHash;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const ED_A_PUB: &str = include_str!("../../tests/fixtures/ed25519-a.pub");
    const RSA_PUB: &str = include_str!("../../tests/fixtures/rsa-2048.pub");

    #[test]
    fn key_sets_round_trip_through_jwks_and_refuse_secrets() {
        let set = KeySet::new()
            .with(VerificationKey::ed25519_pem(Some("ed"), ED_A_PUB.as_bytes()).unwrap())
            .unwrap()
            .with(
                VerificationKey::rsa_pem(Some("rsa"), Algorithm::PS256, RSA_PUB.as_bytes())
                    .unwrap(),
            )
            .unwrap()
            .with(VerificationKey::hmac("h", Algorithm::HS256, SECRET).unwrap())
            .unwrap();
        let published = set.to_jwk_set();
        assert_eq!(published.keys.len(), 2);
        let back = KeySet::from_jwk_set(&published).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back.get("ed").unwrap().algorithm(), Algorithm::EdDSA);
        assert_eq!(back.get("rsa").unwrap().algorithm(), Algorithm::PS256);
        assert!(back.get("h").is_none());

        let with_secret: JwkSet = serde_json::from_value(serde_json::json!({"keys": [
            {"kty": "oct", "kid": "s", "alg": "HS256", "k": "c2VjcmV0"}
        ]}))
        .unwrap();
        assert!(matches!(
            KeySet::from_jwk_set(&with_secret),
            Err(KeyError::Jwk { .. })
        ));
        let no_kid: JwkSet = serde_json::from_value(serde_json::json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "x": published.keys[0].thumbprint(ThumbprintHash::SHA256)}
        ]}))
        .unwrap();
        assert!(KeySet::from_jwk_set(&no_kid).is_err());
        let short_x: JwkSet = serde_json::from_value(serde_json::json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "kid": "x", "x": "AAAA"}
        ]}))
        .unwrap();
        assert!(KeySet::from_jwk_set(&short_x).is_err());
        let mismatched_alg: JwkSet = serde_json::from_value(serde_json::json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "kid": "x", "alg": "RS256",
             "x": URL_SAFE_NO_PAD.encode([7u8; 32])}
        ]}))
        .unwrap();
        assert!(KeySet::from_jwk_set(&mismatched_alg).is_err());
        let encryption: JwkSet = serde_json::from_value(serde_json::json!({"keys": [
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"}
        ]}))
        .unwrap();
        assert!(KeySet::from_jwk_set(&encryption).unwrap().is_empty());
    }
}
