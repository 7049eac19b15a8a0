//! The client registry (RFC 6749 §2): which OAuth clients exist, whether
//! they are confidential (hold a secret) or public, and which grants and
//! scopes each may use.
//!
//! * [`ClientStore`]: the trait the token endpoint reads clients through,
//!   with the administrative operations beside it;
//! * [`ClientRecord`], [`GrantType`]: what a store keeps per client;
//! * [`ClientSecret`]: a new secret (32 random bytes, base64url), shown
//!   once and stored only as its SHA-256 ([`hash_client_secret`]);
//! * [`MemoryClientStore`]: in memory, for tests and small apps; the SQL
//!   store (`SQLite`, PostgreSQL) implements [`ClientStore`] too.
//!
//! A client secret carries 256 random bits, so a fast hash is the right
//! one here: nobody can search that space, and a machine client must not
//! cost a password hash per token. Secrets are compared in constant time.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::scopes::Scopes;
use crate::store::StoreError;

mod memory;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;

pub use memory::MemoryClientStore;

/// SHA-256 of a client secret: the only form in which a store sees it.
pub type ClientSecretHash = [u8; 32];

/// A grant type a client may be allowed (RFC 6749 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum GrantType {
    /// `password` (RFC 6749 §4.3).
    Password,
    /// `refresh_token` (RFC 6749 §6).
    RefreshToken,
    /// `client_credentials` (RFC 6749 §4.4).
    ClientCredentials,
}

impl GrantType {
    /// Every grant type, in declaration order.
    pub const ALL: [Self; 3] = [Self::Password, Self::RefreshToken, Self::ClientCredentials];

    /// The `grant_type` value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
        }
    }

    /// The grant type named `value`, if any.
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == value)
    }

    /// A space-separated list, as stores keep it.
    #[must_use]
    pub fn join(grants: &[Self]) -> String {
        grants
            .iter()
            .map(|g| g.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Parses a space-separated list; `None` if a name is unknown.
    #[must_use]
    pub fn parse_list(value: &str) -> Option<Vec<Self>> {
        let mut grants = Vec::new();
        for name in value.split([' ', ',']).filter(|s| !s.is_empty()) {
            let grant = Self::parse(name)?;
            if !grants.contains(&grant) {
                grants.push(grant);
            }
        }
        grants.sort();
        Some(grants)
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A registered client. `Debug` never shows the secret's hash.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientRecord {
    /// The `client_id`; also the `sub` of its client-credentials tokens.
    pub client_id: String,
    /// SHA-256 of the secret for a confidential client; `None` for a public
    /// client (a first-party app that cannot keep a secret).
    pub secret_hash: Option<ClientSecretHash>,
    /// The grants the client may use.
    pub grants: Vec<GrantType>,
    /// The scopes the client may be granted: on its own
    /// (`client_credentials`) or on behalf of a user (narrowing the user's).
    pub scopes: Scopes,
    /// A disabled client cannot authenticate, and its client-credentials
    /// tokens are refused.
    pub enabled: bool,
    /// When it was registered, seconds since the Unix epoch.
    pub created_at: u64,
}

impl fmt::Debug for ClientRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientRecord")
            .field("client_id", &self.client_id)
            .field("confidential", &self.is_confidential())
            .field("grants", &self.grants)
            .field("scopes", &self.scopes)
            .field("enabled", &self.enabled)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

impl ClientRecord {
    /// A public client (no secret), enabled.
    #[must_use]
    pub fn public(
        client_id: impl Into<String>,
        grants: Vec<GrantType>,
        scopes: Scopes,
        created_at: u64,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            secret_hash: None,
            grants,
            scopes,
            enabled: true,
            created_at,
        }
    }

    /// A confidential client, enabled, with a new secret: the record to
    /// store and the secret to hand over once.
    #[must_use]
    pub fn confidential(
        client_id: impl Into<String>,
        grants: Vec<GrantType>,
        scopes: Scopes,
        created_at: u64,
    ) -> (Self, ClientSecret) {
        let secret = ClientSecret::generate();
        let mut record = Self::public(client_id, grants, scopes, created_at);
        record.secret_hash = Some(secret.hash());
        (record, secret)
    }

    /// Whether the client holds a secret.
    #[must_use]
    pub fn is_confidential(&self) -> bool {
        self.secret_hash.is_some()
    }

    /// Whether the client may use `grant`.
    #[must_use]
    pub fn allows(&self, grant: GrantType) -> bool {
        self.grants.contains(&grant)
    }

    /// Whether `secret` is this client's, in constant time. A public client
    /// matches no secret.
    #[must_use]
    pub fn secret_matches(&self, secret: &str) -> bool {
        let presented = hash_client_secret(secret);
        let stored = self.secret_hash.unwrap_or(DUMMY_HASH);
        bool::from(presented.ct_eq(&stored)) && self.secret_hash.is_some()
    }
}

/// Compared against when a client has no hash, so the work is the same.
const DUMMY_HASH: ClientSecretHash = [0; 32];

/// SHA-256 of a client secret.
#[must_use]
pub fn hash_client_secret(secret: &str) -> ClientSecretHash {
    Sha256::digest(secret.as_bytes()).into()
}

/// A newly generated client secret: 32 random bytes, base64url (43
/// characters). `Debug` is redacted; [`expose`](Self::expose) it once, to
/// hand it over.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// A new secret from the operating system's random source.
    #[must_use]
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The secret itself.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Its hash, as stores keep it.
    #[must_use]
    pub fn hash(&self) -> ClientSecretHash {
        hash_client_secret(&self.0)
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(<redacted>)")
    }
}

/// Where clients are registered.
///
/// # Example
///
/// ```
/// use auth_core::{ClientRecord, ClientStore, GrantType, MemoryClientStore, Scopes};
///
/// # rocket::async_test(async {
/// let clients = MemoryClientStore::new();
/// let (record, secret) = ClientRecord::confidential(
///     "billing", vec![GrantType::ClientCredentials], Scopes::parse("read:items").unwrap(), 0,
/// );
/// clients.create_client(record).await.unwrap();
/// let found = clients.find_client("billing").await.unwrap().unwrap();
/// assert!(found.secret_matches(secret.expose()));
/// # });
/// ```
#[rocket::async_trait]
pub trait ClientStore: Send + Sync + 'static {
    /// Finds a client by exact id.
    ///
    /// # Errors
    ///
    /// Only for backend failures; an unknown client is `Ok(None)`.
    async fn find_client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError>;

    /// Registers a client.
    ///
    /// # Errors
    ///
    /// [`StoreError::Conflict`] if the id is taken; backend failures.
    async fn create_client(&self, record: ClientRecord) -> Result<(), StoreError>;

    /// Every client, ordered by id.
    ///
    /// # Errors
    ///
    /// Backend failures.
    async fn list_clients(&self) -> Result<Vec<ClientRecord>, StoreError>;

    /// Enables or disables a client; `false` if it does not exist.
    ///
    /// # Errors
    ///
    /// Backend failures.
    async fn set_client_enabled(&self, client_id: &str, enabled: bool) -> Result<bool, StoreError>;

    /// Deletes a client; `false` if it did not exist. The SQL store also
    /// revokes the refresh tokens issued to it, in the same transaction,
    /// so that nobody redeems them under its id once it is free.
    ///
    /// # Errors
    ///
    /// Backend failures.
    async fn delete_client(&self, client_id: &str) -> Result<bool, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_hashed_and_redacted() {
        let (record, secret) =
            ClientRecord::confidential("c", vec![GrantType::ClientCredentials], Scopes::new(), 1);
        assert_eq!(secret.expose().len(), 43);
        assert_ne!(secret, ClientSecret::generate());
        assert!(record.secret_matches(secret.expose()));
        assert!(!record.secret_matches("wrong"));
        assert!(!record.secret_matches(""));
        let public = ClientRecord::public("p", vec![GrantType::Password], Scopes::new(), 1);
        assert!(!public.secret_matches(""));
        assert!(!format!("{secret:?}").contains(secret.expose()));
        assert!(!format!("{record:?}").contains("secret_hash"));
    }

    #[test]
    fn grant_lists_round_trip() {
        let grants = GrantType::parse_list("refresh_token password,password").unwrap();
        assert_eq!(grants, vec![GrantType::Password, GrantType::RefreshToken]);
        assert_eq!(GrantType::join(&grants), "password refresh_token");
        assert!(GrantType::parse_list("implicit").is_none());
        assert_eq!(GrantType::parse_list("").unwrap(), vec![]);
    }
}
