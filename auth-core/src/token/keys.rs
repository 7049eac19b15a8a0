//! Keys: the signing key ([`TokenKeys`]) and keys that only verify
//! ([`VerificationKey`]); their sets are in `key_set`.
//!
//! Every key carries its `kid` and the one algorithm it is used with; the
//! algorithm is never taken from a token.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use sha2::{Digest as _, Sha256};

use super::verification_key::{VerificationKey, check_rsa_algorithm, pem_error};

/// Shortest HMAC secret accepted, in bytes (the size of the SHA-256 output).
pub const MIN_SECRET_LEN: usize = 32;

/// Smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// Longest `kid` accepted, in bytes.
pub const MAX_KID_LEN: usize = 128;

/// Fewest distinct bytes a secret must have to pass as random.
const MIN_DISTINCT_BYTES: usize = 8;

/// A key or algorithm that cannot be used to sign or verify access tokens.
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
    /// A PEM key that does not parse (or is not the kind of key expected).
    #[error("the key does not parse: {0}")]
    Pem(jsonwebtoken::errors::Error),
    /// An RSA key shorter than [`MIN_RSA_BITS`].
    #[error("the RSA key has {bits} bits; at least {MIN_RSA_BITS} are required")]
    RsaTooSmall {
        /// The size of the modulus, in bits.
        bits: usize,
    },
    /// The public key given does not belong to the private key.
    #[error("the public key does not belong to the private key")]
    KeyMismatch,
    /// A `kid` that is empty, longer than [`MAX_KID_LEN`] or not printable
    /// ASCII.
    #[error("invalid kid {kid:?}: use 1 to {MAX_KID_LEN} printable ASCII characters")]
    BadKid {
        /// The `kid` given.
        kid: String,
    },
    /// Two keys with the same `kid` in one set.
    #[error("the kid {kid:?} is used by two keys; every key needs its own kid")]
    DuplicateKid {
        /// The `kid` used twice.
        kid: String,
    },
    /// A JWK that cannot be used to verify tokens: symmetric (`kty: oct`),
    /// without a `kid`, an unsupported key type or curve, or bad key
    /// material.
    #[error("unusable JWK (kid {kid:?}): {reason}")]
    Jwk {
        /// The JWK's `kid`, if it has one.
        kid: Option<String>,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Refuses secrets that are short or obviously not random (a repeated
/// character, a handful of distinct bytes).
pub(super) fn check_secret_strength(secret: &[u8]) -> Result<(), KeyError> {
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

/// Checks a `kid`: 1 to [`MAX_KID_LEN`] printable ASCII characters, no
/// space.
pub(super) fn check_kid(kid: &str) -> Result<(), KeyError> {
    if kid.is_empty() || kid.len() > MAX_KID_LEN || !kid.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(KeyError::BadKid {
            kid: kid.to_owned(),
        });
    }
    Ok(())
}

pub(super) fn is_hmac(algorithm: Algorithm) -> bool {
    matches!(
        algorithm,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    )
}

pub(super) fn is_rsa(algorithm: Algorithm) -> bool {
    use Algorithm::{PS256, PS384, PS512, RS256, RS384, RS512};
    matches!(algorithm, RS256 | RS384 | RS512 | PS256 | PS384 | PS512)
}

/// The default `kid` of an HMAC key: derived from the algorithm and the
/// secret, so every instance sharing a secret agrees on it without
/// configuration, and a new secret gets a new `kid`. A one-way hash of a
/// secret of at least 256 bits: it reveals nothing a signed token does
/// not.
pub(super) fn hmac_kid(algorithm: Algorithm, secret: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(b"auth-core kid\0");
    hash.update(format!("{algorithm:?}").as_bytes());
    hash.update(b"\0");
    hash.update(secret);
    let digest = hash.finalize();
    format!("hs-{}", URL_SAFE_NO_PAD.encode(&digest[..9]))
}

/// The signing key: a private key (or HMAC secret), its `kid`, the one
/// algorithm it signs with, and the [`VerificationKey`] that checks what it
/// signs.
///
/// # Example
///
/// ```
/// use auth_core::TokenKeys;
///
/// let keys = TokenKeys::hs256(b"0123456789abcdef0123456789abcdef").unwrap();
/// assert!(keys.kid().starts_with("hs-")); // derived from the secret
/// let keys = keys.with_kid("2026-01").unwrap();
/// assert_eq!(keys.kid(), "2026-01");
/// assert!(TokenKeys::hs256(b"too short").is_err());
/// ```
#[derive(Clone)]
pub struct TokenKeys {
    pub(super) encoding: EncodingKey,
    pub(super) verification: Arc<VerificationKey>,
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenKeys")
            .field("kid", &self.verification.kid)
            .field("algorithm", &self.verification.algorithm)
            .finish_non_exhaustive()
    }
}

impl TokenKeys {
    /// HMAC-SHA256 keys from a shared secret of at least [`MIN_SECRET_LEN`]
    /// bytes. The `kid` is derived from the secret; see
    /// [`Self::with_kid`].
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
        let verification = VerificationKey::hmac_default_kid(algorithm, secret)?;
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            verification: Arc::new(verification),
        })
    }

    /// Ed25519 (`EdDSA`) keys from PEM: a PKCS#8 private key and its public
    /// key. The `kid` is the public key's RFC 7638 thumbprint.
    ///
    /// # Errors
    ///
    /// [`KeyError::Pem`] if either PEM does not parse,
    /// [`KeyError::KeyMismatch`] if the public key is not the private
    /// key's.
    pub fn ed25519_pem(private_pem: &[u8], public_pem: &[u8]) -> Result<Self, KeyError> {
        let keys = Self::ed25519_private_pem(private_pem)?;
        let given = VerificationKey::ed25519_pem(None, public_pem)?;
        keys.check_public(&given)?;
        Ok(keys)
    }

    /// Ed25519 (`EdDSA`) keys from a PKCS#8 private key alone; the public
    /// key is derived from it.
    ///
    /// # Errors
    ///
    /// [`KeyError::Pem`] if the PEM is not an Ed25519 private key.
    pub fn ed25519_private_pem(private_pem: &[u8]) -> Result<Self, KeyError> {
        use ed25519_dalek::pkcs8::DecodePrivateKey as _;
        let encoding = EncodingKey::from_ed_pem(private_pem).map_err(KeyError::Pem)?;
        let signing = ed25519_dalek::SigningKey::from_pkcs8_der(encoding.inner())
            .map_err(|_| pem_error(jsonwebtoken::errors::ErrorKind::InvalidEddsaKey))?;
        let verification = VerificationKey::ed25519_raw(None, signing.verifying_key().to_bytes())?;
        Ok(Self {
            encoding,
            verification: Arc::new(verification),
        })
    }

    /// RSA keys from PEM, for `RS256`/`RS384`/`RS512` or `PS256`/`PS384`/`PS512`.
    ///
    /// # Errors
    ///
    /// [`KeyError::Pem`] if either PEM does not parse,
    /// [`KeyError::WrongAlgorithm`] for a non-RSA algorithm,
    /// [`KeyError::RsaTooSmall`], [`KeyError::KeyMismatch`].
    pub fn rsa_pem(
        algorithm: Algorithm,
        private_pem: &[u8],
        public_pem: &[u8],
    ) -> Result<Self, KeyError> {
        let keys = Self::rsa_private_pem(algorithm, private_pem)?;
        let given = VerificationKey::rsa_pem(None, algorithm, public_pem)?;
        keys.check_public(&given)?;
        Ok(keys)
    }

    /// RSA keys from a private key alone (PKCS#1 or PKCS#8 PEM); the public
    /// key is derived from it.
    ///
    /// # Errors
    ///
    /// As [`Self::rsa_pem`].
    pub fn rsa_private_pem(algorithm: Algorithm, private_pem: &[u8]) -> Result<Self, KeyError> {
        use rsa::pkcs1::DecodeRsaPrivateKey as _;
        check_rsa_algorithm(algorithm)?;
        let encoding = EncodingKey::from_rsa_pem(private_pem).map_err(KeyError::Pem)?;
        let private = rsa::RsaPrivateKey::from_pkcs1_der(encoding.inner()).map_err(|e| {
            pem_error(jsonwebtoken::errors::ErrorKind::InvalidRsaKey(
                e.to_string(),
            ))
        })?;
        let verification = VerificationKey::rsa_public(None, algorithm, &private.to_public_key())?;
        Ok(Self {
            encoding,
            verification: Arc::new(verification),
        })
    }

    fn check_public(&self, given: &VerificationKey) -> Result<(), KeyError> {
        let same = match (&self.verification.public, &given.public) {
            (Some(ours), Some(theirs)) => ours.algorithm == theirs.algorithm,
            _ => false,
        };
        if same {
            Ok(())
        } else {
            Err(KeyError::KeyMismatch)
        }
    }

    /// The same keys under another `kid`.
    ///
    /// # Errors
    ///
    /// [`KeyError::BadKid`].
    pub fn with_kid(mut self, kid: &str) -> Result<Self, KeyError> {
        check_kid(kid)?;
        self.verification = Arc::new(VerificationKey::clone(&self.verification).named(kid));
        Ok(self)
    }

    /// The algorithm tokens are signed and verified with.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.verification.algorithm
    }

    /// The `kid` written in the header of every token signed.
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.verification.kid
    }

    /// The key that verifies what these keys sign.
    #[must_use]
    pub fn verification_key(&self) -> &VerificationKey {
        &self.verification
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const ED_A_KEY: &str = include_str!("../../tests/fixtures/ed25519-a.key");
    const ED_A_PUB: &str = include_str!("../../tests/fixtures/ed25519-a.pub");
    const ED_B_PUB: &str = include_str!("../../tests/fixtures/ed25519-b.pub");
    const RSA_KEY: &str = include_str!("../../tests/fixtures/rsa-2048.key");
    const RSA_PUB: &str = include_str!("../../tests/fixtures/rsa-2048.pub");
    const RSA_SMALL_PUB: &str = include_str!("../../tests/fixtures/rsa-1024.pub");

    #[test]
    fn weak_secrets_are_refused() {
        assert!(TokenKeys::hs256(b"short").is_err());
        assert!(TokenKeys::hs256(&[b'a'; 64]).is_err());
        assert!(TokenKeys::hmac(Algorithm::RS256, SECRET).is_err());
        assert!(TokenKeys::hmac(Algorithm::HS512, SECRET).is_ok());
    }

    #[test]
    fn default_kids_are_stable_and_differ_per_key() {
        let a = TokenKeys::hs256(SECRET).unwrap();
        assert_eq!(a.kid(), TokenKeys::hs256(SECRET).unwrap().kid());
        assert!(a.kid().starts_with("hs-"));
        assert!(!a.kid().contains("0123"));
        let other = TokenKeys::hs256(b"0123456789abcdef0123456789ABCDEF").unwrap();
        assert_ne!(a.kid(), other.kid());
        assert_ne!(
            a.kid(),
            TokenKeys::hmac(Algorithm::HS512, SECRET).unwrap().kid()
        );
        // Asymmetric keys: the RFC 7638 thumbprint, whether the public key
        // is given or derived.
        let ed = TokenKeys::ed25519_private_pem(ED_A_KEY.as_bytes()).unwrap();
        let both = TokenKeys::ed25519_pem(ED_A_KEY.as_bytes(), ED_A_PUB.as_bytes()).unwrap();
        assert_eq!(ed.kid(), both.kid());
        assert_eq!(ed.kid().len(), 43);
        assert_eq!(
            ed.kid(),
            VerificationKey::ed25519_pem(None, ED_A_PUB.as_bytes())
                .unwrap()
                .kid()
        );
    }

    #[test]
    fn kids_are_checked() {
        let keys = TokenKeys::hs256(SECRET).unwrap();
        for bad in ["", "with space", "tab\t", "é", &"k".repeat(MAX_KID_LEN + 1)] {
            assert!(
                matches!(keys.clone().with_kid(bad), Err(KeyError::BadKid { .. })),
                "{bad:?}"
            );
        }
        assert_eq!(keys.with_kid("2026-01").unwrap().kid(), "2026-01");
    }

    #[test]
    fn mismatched_pairs_and_bad_pems_are_refused() {
        assert_eq!(
            TokenKeys::ed25519_pem(ED_A_KEY.as_bytes(), ED_B_PUB.as_bytes()).unwrap_err(),
            KeyError::KeyMismatch
        );
        assert!(matches!(
            TokenKeys::ed25519_pem(b"not a pem", ED_A_PUB.as_bytes()),
            Err(KeyError::Pem(_))
        ));
        // An RSA key where an Ed25519 key is expected, and the reverse.
        assert!(matches!(
            TokenKeys::ed25519_private_pem(RSA_KEY.as_bytes()),
            Err(KeyError::Pem(_))
        ));
        assert!(matches!(
            VerificationKey::rsa_pem(None, Algorithm::RS256, ED_A_PUB.as_bytes()),
            Err(KeyError::Pem(_))
        ));
        assert!(matches!(
            TokenKeys::rsa_private_pem(Algorithm::EdDSA, RSA_KEY.as_bytes()),
            Err(KeyError::WrongAlgorithm { .. })
        ));
        assert!(matches!(
            VerificationKey::rsa_pem(None, Algorithm::RS256, RSA_SMALL_PUB.as_bytes()),
            Err(KeyError::RsaTooSmall { bits: 1024 })
        ));
        let rsa =
            TokenKeys::rsa_pem(Algorithm::RS256, RSA_KEY.as_bytes(), RSA_PUB.as_bytes()).unwrap();
        assert_eq!(rsa.algorithm(), Algorithm::RS256);
    }

    #[test]
    fn public_jwks_carry_only_public_material() {
        let ed = VerificationKey::ed25519_pem(Some("ed"), ED_A_PUB.as_bytes()).unwrap();
        let json = serde_json::to_value(ed.to_jwk().unwrap()).unwrap();
        assert_eq!(json["kty"], "OKP");
        assert_eq!(json["crv"], "Ed25519");
        assert_eq!(json["alg"], "EdDSA");
        assert_eq!(json["use"], "sig");
        assert_eq!(json["kid"], "ed");
        assert!(json.get("d").is_none());
        let rsa = TokenKeys::rsa_private_pem(Algorithm::RS256, RSA_KEY.as_bytes()).unwrap();
        let json = serde_json::to_value(rsa.verification_key().to_jwk().unwrap()).unwrap();
        assert_eq!(json["kty"], "RSA");
        assert_eq!(json["e"], "AQAB");
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(json.get(private).is_none(), "{private}");
        }
        let hmac = VerificationKey::hmac("h", Algorithm::HS256, SECRET).unwrap();
        assert!(hmac.to_jwk().is_none());
        assert!(hmac.is_symmetric());
    }

    #[test]
    fn debug_shows_no_key_material() {
        let keys = TokenKeys::hs256(SECRET).unwrap();
        let debug = format!("{keys:?} {:?}", keys.verification_key());
        assert!(!debug.contains("0123456789"), "{debug}");
        assert!(!debug.contains("48, 49"), "{debug}");
    }
}
