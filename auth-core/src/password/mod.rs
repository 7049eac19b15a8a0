//! Password hashing: argon2id for new hashes, bcrypt accepted for old ones,
//! and "needs rehash" so apps upgrade hashes as users log in.
//!
//! Free of Rocket types. The async methods run the work on a few dedicated
//! hashing threads at a lower scheduling priority, so hashing never stalls
//! the async workers and a login flood yields the cores to bearer requests.

use std::fmt;
use std::sync::{Arc, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rocket::tokio::sync::oneshot;
use subtle::ConstantTimeEq as _;

use admission::Admission;
pub use policy::{PasswordPolicy, PolicyViolation};

mod admission;
mod area;
mod policy;
#[cfg(test)]
mod tests;
mod workers;

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
    /// Every hashing slot is busy and the wait queue is full: the work was
    /// not started. Answered as 503 `temporarily_unavailable`.
    #[error("too many password hashes are in progress")]
    Busy,
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
/// Cloning is cheap; clones share one admission control: at most
/// `concurrency` hashes run at once (default: the number of CPUs), at most
/// `queue` more wait (default: four times that), and beyond that the async
/// methods fail at once with [`PasswordError::Busy`]. A waiting call that is
/// dropped (the client hung up) leaves the queue without hashing.
///
/// argon2's work area (19 MiB with the default parameters) is kept in a pool
/// of at most `concurrency` areas and reused, so the memory used for hashing
/// is bounded by `concurrency` × `m_cost` however many logins arrive,
/// instead of growing with the allocator's arenas. About a second after the
/// last hash the pooled areas go back to the OS (on Linux each area is a
/// mapping of its own), so an idle server holds none of it.
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
/// handlers: they run on dedicated hashing threads. For unknown users call
/// [`verify_dummy`](Self::verify_dummy) so that both paths cost the same.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    admission: Arc<Admission>,
    dummy: Arc<OnceLock<String>>,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("m_cost", &self.params.m_cost())
            .field("t_cost", &self.params.t_cost())
            .field("p_cost", &self.params.p_cost())
            .field("concurrency", &self.admission.concurrency)
            .field("queue", &self.admission.queue)
            .field("nice", &self.admission.nice)
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
        let cores = default_concurrency();
        Self {
            params,
            admission: Arc::new(Admission::new(cores, cores * 4, DEFAULT_NICE)),
            dummy: Arc::new(OnceLock::new()),
        }
    }

    /// The same hasher with its own admission control: at most
    /// `concurrency` hashes at once (at least 1), at most `queue` waiting.
    /// Clones made before do not share the new limit.
    #[must_use]
    pub fn with_admission(mut self, concurrency: usize, queue: usize) -> Self {
        let nice = self.admission.nice;
        self.admission = Arc::new(Admission::new(concurrency, queue, nice));
        self
    }

    /// The same hasher with its hashing threads `steps` nice values below
    /// the process's scheduling priority (at most to 19; 0 keeps the
    /// process's priority). The default, 19 (the lowest priority), lets the
    /// scheduler run request handling before hashing when both want a core,
    /// so a login flood slows logins, not every bearer-token request. Linux
    /// only; elsewhere the threads keep the process's priority. Clones made
    /// before keep their own threads.
    #[must_use]
    pub fn with_nice(mut self, steps: u8) -> Self {
        let (concurrency, queue) = (self.admission.concurrency, self.admission.queue);
        self.admission = Arc::new(Admission::new(concurrency, queue, steps));
        self
    }

    /// How many nice values below the process the hashing threads run.
    #[must_use]
    pub fn nice(&self) -> u8 {
        self.admission.nice
    }

    /// How many hashes may run at once.
    #[must_use]
    pub fn concurrency(&self) -> usize {
        self.admission.concurrency
    }

    /// How many hashes may wait for a slot before calls fail with
    /// [`PasswordError::Busy`].
    #[must_use]
    pub fn queue(&self) -> usize {
        self.admission.queue
    }

    /// Raw argon2 into `out`, in a pooled work area.
    fn raw_hash(
        &self,
        argon2: &Argon2<'_>,
        params: &Params,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> Result<(), PasswordError> {
        let blocks = params.block_count();
        let mut area = self.admission.areas.take(blocks);
        let result = argon2.hash_password_into_with_memory(
            password,
            salt,
            out,
            &mut area.blocks()[..blocks],
        );
        self.admission
            .areas
            .give_back(area, self.params.block_count());
        result.map_err(|e| PasswordError::Hashing(e.into()))
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
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt
            .decode_b64(&mut salt_bytes)
            .map_err(PasswordError::Hashing)?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone());
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        self.raw_hash(
            &argon2,
            &self.params,
            password.as_bytes(),
            salt_bytes,
            &mut out,
        )?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params).map_err(PasswordError::Hashing)?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(PasswordError::Hashing)?),
        };
        Ok(phc.to_string())
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
        // The algorithm, version and parameters come from the hash itself,
        // so older parameter sets still verify.
        let algorithm = Algorithm::try_from(parsed.algorithm).map_err(unrecognized)?;
        let version = parsed
            .version
            .map(Version::try_from)
            .transpose()
            .map_err(unrecognized)?
            .unwrap_or_default();
        let params = Params::try_from(&parsed).map_err(unrecognized)?;
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Err(PasswordError::UnrecognizedHash);
        };
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(unrecognized)?;
        let mut out = [0u8; Output::MAX_LENGTH];
        let out = &mut out[..expected.len()];
        let argon2 = Argon2::new(algorithm, version, params.clone());
        self.raw_hash(&argon2, &params, password.as_bytes(), salt_bytes, out)?;
        if bool::from(expected.as_bytes().ct_eq(out)) {
            Ok(Verification::Match {
                needs_rehash: self.needs_rehash(hash),
            })
        } else {
            Ok(Verification::Mismatch)
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

    /// [`hash_blocking`](Self::hash_blocking) on a hashing thread.
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

    /// [`verify_blocking`](Self::verify_blocking) on a hashing thread.
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
    ///
    /// # Errors
    ///
    /// [`PasswordError::Busy`] when admission control refused the work, as
    /// [`verify`](Self::verify) would have for a known user: answer it the
    /// same way, so that a full queue does not reveal which users exist.
    pub async fn verify_dummy(&self, password: &str) -> Result<(), PasswordError> {
        let password = Password::new(password.get(..MAX_PASSWORD_LEN).unwrap_or(password));
        let result = self
            .run_blocking(move |hasher| {
                let dummy = hasher.dummy_hash()?;
                hasher.verify_blocking(password.expose(), dummy)
            })
            .await;
        match result {
            Err(PasswordError::Busy) => Err(PasswordError::Busy),
            _ => Ok(()),
        }
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
        // The permit is taken while the caller's future is alive, and only
        // then is the work handed to a hashing thread; it moves with the
        // work, so a caller that goes away after that point still cannot
        // make more than `concurrency` hashes run at once. Work whose caller
        // has gone by the time a thread picks it up is not done.
        let permit = self.admission.admit().await?;
        let hasher = self.clone();
        let (done, result) = oneshot::channel();
        self.admission.run(Box::new(move || {
            let result = (!done.is_closed()).then(|| work(&hasher));
            // The slot is free before the caller hears back, so its next
            // hash finds it free.
            drop(permit);
            if let Some(result) = result {
                let _ = done.send(result);
            }
        }));
        result.await.map_err(|_| PasswordError::WorkerLost)?
    }
}

/// How many nice values below the process the hashing threads run by
/// default (see [`PasswordHasher::with_nice`]).
pub const DEFAULT_NICE: u8 = 19;

/// The default number of concurrent hashes: the number of CPUs.
#[must_use]
pub(crate) fn default_concurrency() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
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

/// For `map_err`: any parse failure of a stored hash.
fn unrecognized<E>(_: E) -> PasswordError {
    PasswordError::UnrecognizedHash
}

fn is_bcrypt(hash: &str) -> bool {
    ["$2a$", "$2b$", "$2y$", "$2x$"]
        .iter()
        .any(|prefix| hash.starts_with(prefix))
}
