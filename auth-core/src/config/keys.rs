//! Key settings: the signing key (`auth_signing_key`) and the keys that
//! only verify (`auth_verification_keys`), each a PEM inline or in a file.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use jsonwebtoken::Algorithm;
use serde::{Deserialize, Deserializer};

use super::ConfigError;
use crate::token::{KeyError, TokenKeys, VerificationKey};

/// Reads an algorithm name in any case (`hs256`, `HS256`, `eddsa`;
/// `Ed25519` for `EdDSA`).
pub(super) fn algorithm_any_case<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Algorithm, D::Error> {
    let name = String::deserialize(deserializer)?;
    let upper = name.to_ascii_uppercase();
    if upper == "EDDSA" || upper == "ED25519" {
        return Ok(Algorithm::EdDSA);
    }
    Algorithm::from_str(&upper)
        .map_err(|_| serde::de::Error::custom(format!("unknown algorithm {name:?}")))
}

/// `auth_signing_key`: an Ed25519 or RSA private key, as a file or inline
/// PEM, optionally with its public key (checked to match).
///
/// `Debug` does not show an inline private key.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SigningKeyConfig {
    /// The key id (default: the public key's RFC 7638 thumbprint).
    pub kid: Option<String>,
    /// `EdDSA`, or `RS256`/`RS384`/`RS512`/`PS256`/`PS384`/`PS512`.
    #[serde(deserialize_with = "algorithm_any_case")]
    pub algorithm: Algorithm,
    /// Path of the PKCS#8 (or PKCS#1 RSA) private key PEM.
    pub private_key_file: Option<PathBuf>,
    /// The private key PEM itself.
    pub private_key_pem: Option<String>,
    /// Path of the public key PEM (optional: derived from the private key).
    pub public_key_file: Option<PathBuf>,
    /// The public key PEM itself (optional).
    pub public_key_pem: Option<String>,
}

impl fmt::Debug for SigningKeyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyConfig")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("private_key_file", &self.private_key_file)
            .field(
                "private_key_pem",
                &self.private_key_pem.as_ref().map(|_| "<redacted>"),
            )
            .field("public_key_file", &self.public_key_file)
            .field("public_key_pem", &self.public_key_pem)
            .finish()
    }
}

/// One of `auth_verification_keys`: a key that only verifies. A public key
/// (file or inline PEM) for `EdDSA` and RSA algorithms, or a previous
/// `auth_secret` for `HS*`.
///
/// `Debug` does not show the secret.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct VerificationKeyConfig {
    /// The key id (default: what the key would have as a signing key, i.e.
    /// derived from the secret or the public key's RFC 7638 thumbprint).
    pub kid: Option<String>,
    /// The one algorithm tokens verified with this key may use.
    #[serde(deserialize_with = "algorithm_any_case")]
    pub algorithm: Algorithm,
    /// Path of the public key PEM.
    pub public_key_file: Option<PathBuf>,
    /// The public key PEM itself.
    pub public_key_pem: Option<String>,
    /// A previous HMAC secret.
    pub secret: Option<String>,
}

impl fmt::Debug for VerificationKeyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationKeyConfig")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("public_key_file", &self.public_key_file)
            .field("public_key_pem", &self.public_key_pem)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The PEM from a file or inline: exactly one of them, or none if
/// `optional`.
fn pem_source(
    setting: &str,
    file: Option<&Path>,
    inline: Option<&str>,
    what: &'static str,
) -> Result<Option<Vec<u8>>, ConfigError> {
    match (file, inline) {
        (Some(_), Some(_)) => Err(ConfigError::KeySource {
            setting: setting.to_owned(),
            problem: what,
        }),
        (Some(path), None) => std::fs::read(path)
            .map(Some)
            .map_err(|e| ConfigError::KeyFile {
                setting: setting.to_owned(),
                path: path.to_owned(),
                reason: e.to_string(),
            }),
        (None, Some(pem)) => Ok(Some(pem.as_bytes().to_vec())),
        (None, None) => Ok(None),
    }
}

impl SigningKeyConfig {
    /// The signing keys this describes.
    ///
    /// # Errors
    ///
    /// [`ConfigError::KeySource`], [`ConfigError::KeyFile`],
    /// [`ConfigError::BadKey`].
    pub fn keys(&self) -> Result<TokenKeys, ConfigError> {
        const SETTING: &str = "auth_signing_key";
        let bad = |reason| ConfigError::BadKey {
            setting: SETTING.to_owned(),
            reason,
        };
        let private = pem_source(
            &format!("{SETTING}.private_key_file"),
            self.private_key_file.as_deref(),
            self.private_key_pem.as_deref(),
            "give private_key_file or private_key_pem, not both",
        )?
        .ok_or_else(|| ConfigError::KeySource {
            setting: SETTING.to_owned(),
            problem: "give private_key_file or private_key_pem",
        })?;
        let public = pem_source(
            &format!("{SETTING}.public_key_file"),
            self.public_key_file.as_deref(),
            self.public_key_pem.as_deref(),
            "give public_key_file or public_key_pem, not both",
        )?;
        let keys = match (self.algorithm, public) {
            (Algorithm::EdDSA, None) => TokenKeys::ed25519_private_pem(&private),
            (Algorithm::EdDSA, Some(public)) => TokenKeys::ed25519_pem(&private, &public),
            (algorithm, None) => TokenKeys::rsa_private_pem(algorithm, &private),
            (algorithm, Some(public)) => TokenKeys::rsa_pem(algorithm, &private, &public),
        }
        .map_err(|reason| match reason {
            KeyError::WrongAlgorithm { algorithm, .. } => KeyError::WrongAlgorithm {
                algorithm,
                expected: "an Ed25519 or RSA (use auth_secret for HMAC)",
            },
            other => other,
        })
        .map_err(bad)?;
        match &self.kid {
            Some(kid) => keys.with_kid(kid).map_err(bad),
            None => Ok(keys),
        }
    }
}

impl VerificationKeyConfig {
    /// The verification key this describes; `setting` names it in errors.
    ///
    /// # Errors
    ///
    /// [`ConfigError::KeySource`], [`ConfigError::KeyFile`],
    /// [`ConfigError::BadKey`].
    pub fn key(&self, setting: &str) -> Result<VerificationKey, ConfigError> {
        let bad = |reason| ConfigError::BadKey {
            setting: setting.to_owned(),
            reason,
        };
        let public = pem_source(
            &format!("{setting}.public_key_file"),
            self.public_key_file.as_deref(),
            self.public_key_pem.as_deref(),
            "give one of public_key_file, public_key_pem or secret",
        )?;
        let kid = self.kid.as_deref();
        match (public, &self.secret) {
            (Some(public), None) => match self.algorithm {
                Algorithm::EdDSA => VerificationKey::ed25519_pem(kid, &public),
                algorithm => VerificationKey::rsa_pem(kid, algorithm, &public),
            }
            .map_err(bad),
            (None, Some(secret)) => match kid {
                Some(kid) => VerificationKey::hmac(kid, self.algorithm, secret.as_bytes()),
                None => VerificationKey::hmac_default_kid(self.algorithm, secret.as_bytes()),
            }
            .map_err(bad),
            _ => Err(ConfigError::KeySource {
                setting: setting.to_owned(),
                problem: "give one of public_key_file, public_key_pem or secret",
            }),
        }
    }
}
