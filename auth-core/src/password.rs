//! Password hashing: argon2id for new hashes, bcrypt accepted for old ones,
//! and "needs rehash" so apps upgrade hashes as users log in.
//!
//! Free of Rocket types, except that the async methods run the work on
//! Tokio's blocking pool so hashing never stalls the async workers.

use std::fmt;
use std::sync::{Arc, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rocket::tokio::sync::Semaphore;
use rocket::tokio::task;

/// Longest password accepted, in bytes. Longer input is refused with
/// [`PasswordError::TooLong`] rather than hashed: it bounds the work one
/// request can cause.
pub const MAX_PASSWORD_LEN: usize = 1024;

/// A password as received: its `Debug` never shows it.
///
/// # Example
///
/// ```
/// use auth_core::Password;
///
/// let password = Password::new("hunter2");
/// assert_eq!(format!("{password:?}"), "Password(<redacted>)");
/// assert_eq!(password.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    #[must_use]
    pub fn new(password: impl Into<String>) -> Self {
        Self(password.into())
    }

    /// The password itself. Do not log it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Why hashing or verifying failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// The password is empty.
    #[error("the password is empty")]
    Empty,
    /// The password is longer than [`MAX_PASSWORD_LEN`] bytes.
    #[error("the password is longer than {max} bytes")]
    TooLong {
        /// The limit, in bytes.
        max: usize,
    },
    /// The stored hash is neither a PHC argon2 string nor a bcrypt hash.
    #[error("the stored password hash has an unrecognised format")]
    UnrecognizedHash,
    /// argon2 refused the parameters given to
    /// [`PasswordHasher::with_params`].
    #[error("invalid argon2 parameters: {0}")]
    InvalidParams(argon2::Error),
    /// argon2 failed while hashing or verifying.
    #[error("password hashing failed: {0}")]
    Hashing(argon2::password_hash::Error),
    /// The blocking task doing the work panicked or was cancelled.
    #[error("the password hashing task did not finish")]
    WorkerLost,
}

/// The result of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// The password is right. If `needs_rehash`, store a fresh
    /// [`PasswordHasher::hash`] of it: the old hash uses bcrypt or weaker
    /// argon2 parameters.
    Match {
        /// Whether the stored hash should be replaced.
        needs_rehash: bool,
    },
    /// The password is wrong.
    Mismatch,
}

/// Hashes and verifies passwords.
///
/// New hashes are argon2id with the OWASP Password Storage Cheat Sheet
/// parameters (19 MiB of memory, 2 iterations, 1 lane). Existing bcrypt
/// hashes (`$2a$`, `$2b$`, `$2y$`) verify too and report `needs_rehash`, as
/// passlib's `CryptContext(deprecated="auto")` does.
///
/// Cloning is cheap; clones share one limit on concurrent hashes (twice the
/// number of CPUs), so a burst of logins queues instead of exhausting memory.
///
/// # Example
///
/// ```
/// use auth_core::{PasswordHasher, Verification};
///
/// let hasher = PasswordHasher::new();
/// let hash = hasher.hash_blocking("correct horse").unwrap();
/// assert!(hash.starts_with("$argon2id$"));
/// assert_eq!(
///     hasher.verify_blocking("correct horse", &hash).unwrap(),
///     Verification::Match { needs_rehash: false },
/// );
/// assert_eq!(hasher.verify_blocking("wrong", &hash).unwrap(), Verification::Mismatch);
/// ```
///
/// # Security
///
/// Use the async [`hash`](Self::hash) and [`verify`](Self::verify) in request
/// handlers: they run on the blocking pool. For unknown users call
/// [`verify_dummy`](Self::verify_dummy) so that both paths cost the same.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    limiter: Arc<Semaphore>,
    dummy: Arc<OnceLock<String>>,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("m_cost", &self.params.m_cost())
            .field("t_cost", &self.params.t_cost())
            .field("p_cost", &self.params.p_cost())
            .finish_non_exhaustive()
    }
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl PasswordHasher {
    /// OWASP's argon2id parameters: memory in KiB, iterations, lanes. They
    /// are the `argon2` crate's defaults, which [`Self::new`] uses (a unit
    /// test keeps the two equal).
    pub const OWASP_PARAMS: (u32, u32, u32) = (19_456, 2, 1);

    /// A hasher with [`Self::OWASP_PARAMS`].
    #[must_use]
    pub fn new() -> Self {
        Self::from_params(Params::DEFAULT)
    }

    /// A hasher with custom argon2id parameters (memory in KiB, iterations,
    /// lanes). Hashes with other parameters report `needs_rehash`.
    ///
    /// # Errors
    ///
    /// [`PasswordError::InvalidParams`] if argon2 rejects the parameters.
    pub fn with_params(m_cost: u32, t_cost: u32, p_cost: u32) -> Result<Self, PasswordError> {
        let params =
            Params::new(m_cost, t_cost, p_cost, None).map_err(PasswordError::InvalidParams)?;
        Ok(Self::from_params(params))
    }

    fn from_params(params: Params) -> Self {
        let permits = std::thread::available_parallelism().map_or(2, |n| n.get() * 2);
        Self {
            params,
            limiter: Arc::new(Semaphore::new(permits)),
            dummy: Arc::new(OnceLock::new()),
        }
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Hashes `password` into a PHC string, on the calling thread.
    ///
    /// # Errors
    ///
    /// [`PasswordError::Empty`], [`PasswordError::TooLong`], or
    /// [`PasswordError::Hashing`].
    pub fn hash_blocking(&self, password: &str) -> Result<String, PasswordError> {
        check_length(password)?;
        let salt = SaltString::generate(&mut OsRng);
        self.argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(PasswordError::Hashing)
    }

    /// Checks `password` against a stored argon2 or bcrypt hash, on the
    /// calling thread. The comparison is constant-time.
    ///
    /// # Errors
    ///
    /// [`PasswordError::TooLong`] before any work is done,
    /// [`PasswordError::UnrecognizedHash`] for a hash of another format.
    pub fn verify_blocking(
        &self,
        password: &str,
        hash: &str,
    ) -> Result<Verification, PasswordError> {
        if password.len() > MAX_PASSWORD_LEN {
            return Err(PasswordError::TooLong {
                max: MAX_PASSWORD_LEN,
            });
        }
        if is_bcrypt(hash) {
            return match bcrypt::verify(password, hash) {
                Ok(true) => Ok(Verification::Match { needs_rehash: true }),
                Ok(false) => Ok(Verification::Mismatch),
                Err(_) => Err(PasswordError::UnrecognizedHash),
            };
        }
        let parsed = PasswordHash::new(hash).map_err(|_| PasswordError::UnrecognizedHash)?;
        if !parsed.algorithm.as_str().starts_with("argon2") {
            return Err(PasswordError::UnrecognizedHash);
        }
        // Argon2's verifier reads the algorithm, version and parameters from
        // the hash itself, so older parameter sets still verify.
        match self.argon2().verify_password(password.as_bytes(), &parsed) {
            Ok(()) => Ok(Verification::Match {
                needs_rehash: self.needs_rehash(hash),
            }),
            Err(argon2::password_hash::Error::Password) => Ok(Verification::Mismatch),
            Err(e) => Err(PasswordError::Hashing(e)),
        }
    }

    /// Whether `hash` should be replaced by a fresh hash: anything but
    /// argon2id v19 with this hasher's parameters.
    #[must_use]
    pub fn needs_rehash(&self, hash: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(hash) else {
            return true;
        };
        let Ok(params) = Params::try_from(&parsed) else {
            return true;
        };
        parsed.algorithm != Algorithm::Argon2id.ident()
            || parsed.version != Some(Version::V0x13.into())
            || params.m_cost() != self.params.m_cost()
            || params.t_cost() != self.params.t_cost()
            || params.p_cost() != self.params.p_cost()
    }

    /// [`hash_blocking`](Self::hash_blocking) on the blocking pool.
    ///
    /// # Errors
    ///
    /// As [`hash_blocking`](Self::hash_blocking).
    pub async fn hash(&self, password: &str) -> Result<String, PasswordError> {
        check_length(password)?;
        let password = Password::new(password);
        self.run_blocking(move |hasher| hasher.hash_blocking(password.expose()))
            .await
    }

    /// [`verify_blocking`](Self::verify_blocking) on the blocking pool.
    ///
    /// # Errors
    ///
    /// As [`verify_blocking`](Self::verify_blocking).
    pub async fn verify(&self, password: &str, hash: &str) -> Result<Verification, PasswordError> {
        if password.len() > MAX_PASSWORD_LEN {
            return Err(PasswordError::TooLong {
                max: MAX_PASSWORD_LEN,
            });
        }
        let password = Password::new(password);
        let hash = hash.to_owned();
        self.run_blocking(move |hasher| hasher.verify_blocking(password.expose(), &hash))
            .await
    }

    /// Spends the same work as verifying a real argon2id hash, and always
    /// fails: call it for unknown users so that a wrong username and a wrong
    /// password take the same time.
    pub async fn verify_dummy(&self, password: &str) {
        let password = Password::new(password.get(..MAX_PASSWORD_LEN).unwrap_or(password));
        let _ = self
            .run_blocking(move |hasher| {
                let dummy = hasher.dummy_hash()?;
                hasher.verify_blocking(password.expose(), dummy)
            })
            .await;
    }

    /// Makes the hash [`verify_dummy`](Self::verify_dummy) compares against
    /// now, so that the first unknown user costs no more than later ones.
    /// The [`crate::Auth`] fairing calls it at launch.
    ///
    /// # Errors
    ///
    /// [`PasswordError::Hashing`] if argon2 fails.
    pub async fn prepare(&self) -> Result<(), PasswordError> {
        self.run_blocking(|hasher| hasher.dummy_hash().map(|_| ()))
            .await
    }

    /// A hash of a random password, made once with this hasher's parameters.
    fn dummy_hash(&self) -> Result<&String, PasswordError> {
        if let Some(hash) = self.dummy.get() {
            return Ok(hash);
        }
        let random = SaltString::generate(&mut OsRng);
        let hash = self.hash_blocking(random.as_str())?;
        Ok(self.dummy.get_or_init(|| hash))
    }

    async fn run_blocking<T, F>(&self, work: F) -> Result<T, PasswordError>
    where
        F: FnOnce(&Self) -> Result<T, PasswordError> + Send + 'static,
        T: Send + 'static,
    {
        // The semaphore is never closed, so acquiring cannot fail.
        let _permit = self
            .limiter
            .acquire()
            .await
            .map_err(|_| PasswordError::WorkerLost)?;
        let hasher = self.clone();
        task::spawn_blocking(move || work(&hasher))
            .await
            .map_err(|_| PasswordError::WorkerLost)?
    }
}

fn check_length(password: &str) -> Result<(), PasswordError> {
    if password.is_empty() {
        return Err(PasswordError::Empty);
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(PasswordError::TooLong {
            max: MAX_PASSWORD_LEN,
        });
    }
    Ok(())
}

fn is_bcrypt(hash: &str) -> bool {
    ["$2a$", "$2b$", "$2y$", "$2x$"]
        .iter()
        .any(|prefix| hash.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cheap parameters keep the suite fast; the logic is the same.
    fn fast() -> PasswordHasher {
        PasswordHasher::with_params(256, 1, 1).unwrap()
    }

    #[test]
    fn argon2id_roundtrip_with_owasp_defaults() {
        let hasher = PasswordHasher::new();
        let hash = hasher.hash_blocking("s3cret").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert_eq!(
            hasher.verify_blocking("s3cret", &hash).unwrap(),
            Verification::Match {
                needs_rehash: false
            }
        );
        assert_eq!(
            hasher.verify_blocking("S3cret", &hash).unwrap(),
            Verification::Mismatch
        );
    }

    #[test]
    fn owasp_params_are_what_new_uses() {
        let (m, t, p) = PasswordHasher::OWASP_PARAMS;
        let hasher = PasswordHasher::new();
        assert_eq!(
            (
                hasher.params.m_cost(),
                hasher.params.t_cost(),
                hasher.params.p_cost()
            ),
            (m, t, p)
        );
    }

    #[test]
    fn salts_differ() {
        let hasher = fast();
        assert_ne!(
            hasher.hash_blocking("x").unwrap(),
            hasher.hash_blocking("x").unwrap()
        );
    }

    #[test]
    fn bcrypt_hashes_verify_and_need_rehash() {
        let hasher = fast();
        let hash = bcrypt::hash("secret", 4).unwrap();
        for prefix in ["$2a$", "$2b$", "$2y$"] {
            let variant = format!("{prefix}{}", &hash[4..]);
            assert_eq!(
                hasher.verify_blocking("secret", &variant).unwrap(),
                Verification::Match { needs_rehash: true },
                "{prefix}"
            );
            assert_eq!(
                hasher.verify_blocking("nope", &variant).unwrap(),
                Verification::Mismatch
            );
        }
    }

    #[test]
    fn weaker_argon2_parameters_need_rehash() {
        let old = fast().hash_blocking("pw").unwrap();
        let current = PasswordHasher::with_params(512, 1, 1).unwrap();
        assert_eq!(
            current.verify_blocking("pw", &old).unwrap(),
            Verification::Match { needs_rehash: true }
        );
        let fresh = current.hash_blocking("pw").unwrap();
        assert!(!current.needs_rehash(&fresh));
        assert!(current.needs_rehash("not a hash"));
    }

    #[test]
    fn argon2i_hashes_verify_but_need_rehash() {
        let salt = SaltString::generate(&mut OsRng);
        let argon2i = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x13,
            Params::new(256, 1, 1, None).unwrap(),
        );
        let hash = argon2i.hash_password(b"pw", &salt).unwrap().to_string();
        let hasher = PasswordHasher::with_params(256, 1, 1).unwrap();
        assert_eq!(
            hasher.verify_blocking("pw", &hash).unwrap(),
            Verification::Match { needs_rehash: true }
        );
    }

    #[test]
    fn length_limits_and_bad_hashes_are_errors_not_panics() {
        let hasher = fast();
        let long = "x".repeat(MAX_PASSWORD_LEN + 1);
        assert_eq!(
            hasher.hash_blocking(&long),
            Err(PasswordError::TooLong {
                max: MAX_PASSWORD_LEN
            })
        );
        assert_eq!(hasher.hash_blocking(""), Err(PasswordError::Empty));
        let hash = hasher.hash_blocking("ok").unwrap();
        assert!(matches!(
            hasher.verify_blocking(&long, &hash),
            Err(PasswordError::TooLong { .. })
        ));
        for bad in [
            "",
            "plain",
            "$2b$",
            "$pbkdf2$x",
            "$argon2id$v=19$m=1,t=1,p=1$$",
        ] {
            assert!(hasher.verify_blocking("pw", bad).is_err(), "{bad:?}");
        }
        // Exactly at the limit is fine.
        let max = "y".repeat(MAX_PASSWORD_LEN);
        let hash = hasher.hash_blocking(&max).unwrap();
        assert!(matches!(
            hasher.verify_blocking(&max, &hash),
            Ok(Verification::Match { .. })
        ));
    }

    #[rocket::async_test]
    async fn async_api_runs_on_the_blocking_pool() {
        let hasher = fast();
        let hash = hasher.hash("pw").await.unwrap();
        assert!(matches!(
            hasher.verify("pw", &hash).await,
            Ok(Verification::Match { .. })
        ));
        assert_eq!(hasher.verify("no", &hash).await, Ok(Verification::Mismatch));
        assert!(hasher.dummy.get().is_none());
        hasher.verify_dummy("anything").await;
        let dummy = hasher.dummy.get().cloned().unwrap();
        hasher.prepare().await.unwrap();
        assert_eq!(hasher.dummy.get(), Some(&dummy), "made once");
    }
}
