//! [`VerificationKey`]: a key that only verifies (a secret, a PEM public key
//! or a published JWK), with its `kid` and the one algorithm it is used
//! with.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac as _};
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, KeyAlgorithm,
    OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse, RSAKeyParameters, RSAKeyType,
    ThumbprintHash,
};
use jsonwebtoken::{Algorithm, DecodingKey};
use sha2::Sha256;

use super::keys::{
    KeyError, MIN_RSA_BITS, check_kid, check_secret_strength, hmac_kid, is_hmac, is_rsa,
};

/// A key that verifies access tokens: its `kid`, the one algorithm it
/// accepts, and (for asymmetric keys) its public JWK.
///
/// HMAC keys verify too, but are never published.
///
/// # Example
///
/// ```
/// use auth_core::{Algorithm, VerificationKey};
///
/// let previous = VerificationKey::hmac("2025-q4", Algorithm::HS256, b"0123456789abcdef0123456789abcdef").unwrap();
/// assert_eq!(previous.kid(), "2025-q4");
/// assert!(previous.to_jwk().is_none()); // a secret is never published
/// ```
#[derive(Clone)]
pub struct VerificationKey {
    pub(super) kid: String,
    pub(super) algorithm: Algorithm,
    pub(super) decoding: DecodingKey,
    /// For `HS256`: HMAC-SHA256 already keyed with the secret.
    pub(super) hs256: Option<Hmac<Sha256>>,
    /// The public JWK (asymmetric keys only), `kid`, `alg` and `use` set.
    pub(super) public: Option<Jwk>,
}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("public", &self.public.is_some())
            .finish_non_exhaustive()
    }
}

impl VerificationKey {
    /// An HMAC key (`HS256`, `HS384`, `HS512`) from a shared secret, e.g. a
    /// previous `auth_secret` kept to verify tokens it signed.
    ///
    /// # Errors
    ///
    /// [`KeyError::BadKid`], [`KeyError::WrongAlgorithm`] for a non-HMAC
    /// algorithm, [`KeyError::SecretTooShort`] or
    /// [`KeyError::SecretNotRandom`].
    pub fn hmac(kid: &str, algorithm: Algorithm, secret: &[u8]) -> Result<Self, KeyError> {
        check_kid(kid)?;
        Self::hmac_unnamed(algorithm, secret).map(|key| key.named(kid))
    }

    /// An HMAC key whose `kid` is derived from the algorithm and secret.
    ///
    /// # Errors
    ///
    /// As [`Self::hmac`].
    pub fn hmac_default_kid(algorithm: Algorithm, secret: &[u8]) -> Result<Self, KeyError> {
        Self::hmac_unnamed(algorithm, secret)
    }

    fn hmac_unnamed(algorithm: Algorithm, secret: &[u8]) -> Result<Self, KeyError> {
        if !is_hmac(algorithm) {
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
            kid: hmac_kid(algorithm, secret),
            algorithm,
            decoding: DecodingKey::from_secret(secret),
            hs256,
            public: None,
        })
    }

    /// An Ed25519 (`EdDSA`) public key from PEM (SPKI, `BEGIN PUBLIC
    /// KEY`). `kid` `None` uses the RFC 7638 thumbprint.
    ///
    /// # Errors
    ///
    /// [`KeyError::Pem`] if the PEM is not an Ed25519 public key,
    /// [`KeyError::BadKid`].
    pub fn ed25519_pem(kid: Option<&str>, public_pem: &[u8]) -> Result<Self, KeyError> {
        let decoding = DecodingKey::from_ed_pem(public_pem).map_err(KeyError::Pem)?;
        let raw: [u8; 32] = decoding
            .as_bytes()
            .try_into()
            .map_err(|_| pem_error(jsonwebtoken::errors::ErrorKind::InvalidEddsaKey))?;
        Self::ed25519_raw(kid, raw)
    }

    pub(super) fn ed25519_raw(kid: Option<&str>, raw: [u8; 32]) -> Result<Self, KeyError> {
        ed25519_dalek::VerifyingKey::from_bytes(&raw)
            .map_err(|_| pem_error(jsonwebtoken::errors::ErrorKind::InvalidEddsaKey))?;
        let jwk = Jwk {
            common: CommonParameters::default(),
            algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: URL_SAFE_NO_PAD.encode(raw),
            }),
        };
        Self::public(kid, Algorithm::EdDSA, DecodingKey::from_ed_der(&raw), jwk)
    }

    /// An RSA public key from PEM (SPKI `BEGIN PUBLIC KEY` or PKCS#1 `BEGIN
    /// RSA PUBLIC KEY`), for `RS256`/`RS384`/`RS512` or
    /// `PS256`/`PS384`/`PS512`. `kid` `None` uses the RFC 7638 thumbprint.
    ///
    /// # Errors
    ///
    /// [`KeyError::WrongAlgorithm`] for a non-RSA algorithm,
    /// [`KeyError::Pem`] if the PEM is not an RSA public key,
    /// [`KeyError::RsaTooSmall`] below [`MIN_RSA_BITS`],
    /// [`KeyError::BadKid`].
    pub fn rsa_pem(
        kid: Option<&str>,
        algorithm: Algorithm,
        public_pem: &[u8],
    ) -> Result<Self, KeyError> {
        use rsa::pkcs1::DecodeRsaPublicKey as _;
        check_rsa_algorithm(algorithm)?;
        let decoding = DecodingKey::from_rsa_pem(public_pem).map_err(KeyError::Pem)?;
        let public = rsa::RsaPublicKey::from_pkcs1_der(decoding.as_bytes()).map_err(|e| {
            pem_error(jsonwebtoken::errors::ErrorKind::InvalidRsaKey(
                e.to_string(),
            ))
        })?;
        Self::rsa_public(kid, algorithm, &public)
    }

    pub(super) fn rsa_public(
        kid: Option<&str>,
        algorithm: Algorithm,
        public: &rsa::RsaPublicKey,
    ) -> Result<Self, KeyError> {
        use rsa::traits::PublicKeyParts as _;
        let bits = public.n().bits();
        if bits < MIN_RSA_BITS {
            return Err(KeyError::RsaTooSmall { bits });
        }
        let (n, e) = (public.n().to_bytes_be(), public.e().to_bytes_be());
        let jwk = Jwk {
            common: CommonParameters::default(),
            algorithm: AlgorithmParameters::RSA(RSAKeyParameters {
                key_type: RSAKeyType::RSA,
                n: URL_SAFE_NO_PAD.encode(&n),
                e: URL_SAFE_NO_PAD.encode(&e),
            }),
        };
        Self::public(
            kid,
            algorithm,
            DecodingKey::from_rsa_raw_components(&n, &e),
            jwk,
        )
    }

    /// Fills in `kid` (given, or the RFC 7638 thumbprint), `alg` and `use`.
    fn public(
        kid: Option<&str>,
        algorithm: Algorithm,
        decoding: DecodingKey,
        mut jwk: Jwk,
    ) -> Result<Self, KeyError> {
        let kid = match kid {
            Some(kid) => {
                check_kid(kid)?;
                kid.to_owned()
            }
            None => jwk.thumbprint(ThumbprintHash::SHA256),
        };
        jwk.common = CommonParameters {
            public_key_use: Some(PublicKeyUse::Signature),
            key_algorithm: Some(key_algorithm(algorithm)),
            key_id: Some(kid.clone()),
            ..CommonParameters::default()
        };
        Ok(Self {
            kid,
            algorithm,
            decoding,
            hs256: None,
            public: Some(jwk),
        })
    }

    /// The same key under another `kid`.
    pub(super) fn named(mut self, kid: &str) -> Self {
        kid.clone_into(&mut self.kid);
        if let Some(jwk) = &mut self.public {
            jwk.common.key_id = Some(kid.to_owned());
        }
        self
    }

    /// The key id.
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The one algorithm tokens verified with this key must use.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Whether this is a shared secret (HMAC), never published.
    #[must_use]
    pub fn is_symmetric(&self) -> bool {
        self.public.is_none()
    }

    /// The public JWK (`kid`, `alg`, `use: sig` and the key material), or
    /// `None` for a symmetric key, which must never be published.
    #[must_use]
    pub fn to_jwk(&self) -> Option<Jwk> {
        self.public.clone()
    }
}

pub(super) fn pem_error(kind: jsonwebtoken::errors::ErrorKind) -> KeyError {
    KeyError::Pem(kind.into())
}

pub(super) fn check_rsa_algorithm(algorithm: Algorithm) -> Result<(), KeyError> {
    if is_rsa(algorithm) {
        Ok(())
    } else {
        Err(KeyError::WrongAlgorithm {
            algorithm,
            expected: "an RSA",
        })
    }
}

/// The JWK `alg` of an algorithm.
pub(super) fn key_algorithm(algorithm: Algorithm) -> KeyAlgorithm {
    match algorithm {
        Algorithm::HS256 => KeyAlgorithm::HS256,
        Algorithm::HS384 => KeyAlgorithm::HS384,
        Algorithm::HS512 => KeyAlgorithm::HS512,
        Algorithm::ES256 => KeyAlgorithm::ES256,
        Algorithm::ES384 => KeyAlgorithm::ES384,
        Algorithm::RS256 => KeyAlgorithm::RS256,
        Algorithm::RS384 => KeyAlgorithm::RS384,
        Algorithm::RS512 => KeyAlgorithm::RS512,
        Algorithm::PS256 => KeyAlgorithm::PS256,
        Algorithm::PS384 => KeyAlgorithm::PS384,
        Algorithm::PS512 => KeyAlgorithm::PS512,
        Algorithm::EdDSA => KeyAlgorithm::EdDSA,
    }
}
