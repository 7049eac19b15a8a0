//! One entry point for the SQL stores: the database URL's scheme picks
//! `SQLite` (feature `sqlite`) or PostgreSQL (feature `postgres`).
//!
//! [`Database::open_lazy`] (sync) or [`Database::connect`] (async, also
//! migrates) take a URL and give a [`Database`], which implements
//! [`UserStore`], [`RefreshTokenStore`] and
//! [`ApiKeyStore`]; [`Database::admin`] gives the
//! administrative operations on users ([`UserAdmin`]: creating, disabling
//! and deleting users, ...). Applications keeping their own tables in the
//! same database match on the variant to reach the pool.
//!
//! Both stores are one [`SqlStore`], generic over the database; what sets
//! `SQLite` and PostgreSQL apart in it is their [`Dialect`].
//!
//! | URL | store | feature |
//! |---|---|---|
//! | `sqlite://path`, `sqlite:path`, `sqlite::memory:` | [`crate::store::sqlite::SqliteStore`] | `sqlite` |
//! | `postgres://...`, `postgresql://...` | [`crate::store::postgres::PgStore`] | `postgres` |
//!
//! Any other scheme, or a scheme whose feature is off, is a
//! [`DatabaseError`] that names what to do.
//!
//! # Example
//!
//! ```
//! # #[cfg(feature = "sqlite")] {
//! use auth_core::database::{Database, PoolSettings};
//! use auth_core::{Scopes, UserStore};
//!
//! # rocket::async_test(async {
//! let db = Database::connect("sqlite::memory:", &PoolSettings::default()).await?;
//! db.admin().create_user("alice", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", &Scopes::new(), false).await?;
//! assert!(db.find_user("alice").await?.is_some());
//!
//! let err = Database::open_lazy("mysql://db/app", &PoolSettings::default()).unwrap_err();
//! assert!(err.to_string().contains("postgres://"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! # }
//! ```

use std::sync::Arc;

use crate::store::api_keys::{ApiKeyRecord, ApiKeyStore};
use crate::store::counters::SharedCounters;
pub use crate::store::pool_settings::PoolSettings;
pub use crate::store::sql::{Dialect, SqlStore};
use crate::store::{
    ClientRecord, ClientStore, FamilyRecord, RefreshTokenRecord, RefreshTokenStore, RotateOutcome,
    StoreError, TokenHash, UserAdmin, UserRecord, UserStore,
};

/// A database URL the toolkit cannot open.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum DatabaseError {
    /// The scheme is none the toolkit knows.
    #[error(
        "unsupported database URL scheme {scheme:?}; use sqlite://PATH, postgres://... \
         or postgresql://..."
    )]
    UnsupportedScheme {
        /// The scheme as written (`mysql`), or the whole URL's first
        /// characters when it has no scheme.
        scheme: String,
    },
    /// The scheme's store is behind a cargo feature that is off.
    #[error(
        "{scheme}:// URLs need auth-core's `{feature}` cargo feature; enable it in Cargo.toml \
         (auth-core = {{ features = [\"{feature}\"] }})"
    )]
    FeatureDisabled {
        /// The scheme as written.
        scheme: String,
        /// The feature to enable.
        feature: &'static str,
    },
    /// The store could not be opened or migrated.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Which store a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// `sqlite:` URLs.
    Sqlite,
    /// `postgres:` and `postgresql:` URLs.
    Postgres,
}

impl Backend {
    /// The backend `url` selects, whether or not its feature is enabled.
    ///
    /// # Example
    ///
    /// ```
    /// use auth_core::database::Backend;
    ///
    /// assert_eq!(Backend::of("postgresql://db/app").ok(), Some(Backend::Postgres));
    /// assert_eq!(Backend::of("SQLite://demo.db").ok(), Some(Backend::Sqlite));
    /// assert!(Backend::of("demo.db").is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// [`DatabaseError::UnsupportedScheme`] for any other scheme.
    pub fn of(url: &str) -> Result<Self, DatabaseError> {
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            _ => Err(DatabaseError::UnsupportedScheme {
                scheme: if scheme.is_empty() || scheme.contains('/') {
                    url.chars().take(16).collect()
                } else {
                    scheme.to_owned()
                },
            }),
        }
    }

    fn disabled(self) -> DatabaseError {
        let (scheme, feature) = match self {
            Self::Sqlite => ("sqlite", "sqlite"),
            Self::Postgres => ("postgres", "postgres"),
        };
        DatabaseError::FeatureDisabled {
            scheme: scheme.to_owned(),
            feature,
        }
    }
}

/// `url` safe to log: the password of its user information, and the value
/// of every query parameter named like a credential (`password`, `pass`,
/// `pwd`, `secret`, `token`, `access_token`, `refresh_token`,
/// `client_secret`, `code`, `api_key`, ..., in any case), replaced by `***`.
/// Other parameters are kept.
///
/// # Example
///
/// ```
/// assert_eq!(
///     auth_core::database::redact_url("postgres://app:hunter2@db/app"),
///     "postgres://app:***@db/app"
/// );
/// assert_eq!(
///     auth_core::database::redact_url("postgres://app@db/app?Password=hunter2&sslmode=require"),
///     "postgres://app@db/app?Password=***&sslmode=require"
/// );
/// assert_eq!(auth_core::database::redact_url("sqlite://demo.db"), "sqlite://demo.db");
/// ```
#[must_use]
pub fn redact_url(url: &str) -> String {
    crate::log::redact::url(url)
}

/// The user and refresh-token store a database URL selects.
///
/// Clones share the pool. Implements [`UserStore`] and
/// [`RefreshTokenStore`]; pass it to
/// [`AuthFairing::store`](crate::AuthFairing::store). Its administrative
/// operations are behind [`admin`](Self::admin).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Database {
    /// A `SQLite` database.
    #[cfg(feature = "sqlite")]
    Sqlite(crate::store::sqlite::SqliteStore),
    /// A PostgreSQL database.
    #[cfg(feature = "postgres")]
    Postgres(crate::store::postgres::PgStore),
}

/// What every SQL store is: the trait objects [`Database`] hands its
/// calls to.
trait Store: UserAdmin + RefreshTokenStore + ClientStore + ApiKeyStore {}

impl<S: UserAdmin + RefreshTokenStore + ClientStore + ApiKeyStore> Store for S {}

impl Database {
    /// Creates the store `url` selects without connecting (no async runtime
    /// needed); connect and [`migrate`](Self::migrate) later.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")] {
    /// use auth_core::database::{Database, PoolSettings};
    ///
    /// let db = Database::open_lazy("sqlite://app.db", &PoolSettings::default()).unwrap();
    /// assert!(matches!(db, Database::Sqlite(_)));
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`DatabaseError::UnsupportedScheme`], [`DatabaseError::FeatureDisabled`],
    /// or [`DatabaseError::Store`] if the URL cannot be parsed.
    pub fn open_lazy(url: &str, settings: &PoolSettings) -> Result<Self, DatabaseError> {
        match Backend::of(url)? {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => Ok(Self::Sqlite(crate::store::sqlite::SqliteStore::new(
                crate::store::sqlite::open_lazy_with(url, settings)?,
            ))),
            #[cfg(feature = "postgres")]
            Backend::Postgres => Ok(Self::Postgres(crate::store::postgres::PgStore::new(
                crate::store::postgres::open_lazy(url, settings)?,
            ))),
            #[allow(unreachable_patterns, reason = "reachable when a feature is off")]
            backend => {
                let _ = settings;
                Err(backend.disabled())
            }
        }
    }

    /// Opens the store `url` selects and creates or updates its tables.
    ///
    /// # Errors
    ///
    /// As [`open_lazy`](Self::open_lazy), and [`DatabaseError::Store`] if
    /// the database cannot be reached or migrated.
    pub async fn connect(url: &str, settings: &PoolSettings) -> Result<Self, DatabaseError> {
        let db = match Backend::of(url)? {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => Self::Sqlite(crate::store::sqlite::SqliteStore::new(
                crate::store::sqlite::open_with(url, settings).await?,
            )),
            #[cfg(feature = "postgres")]
            Backend::Postgres => Self::Postgres(crate::store::postgres::PgStore::new(
                crate::store::postgres::open(url, settings).await?,
            )),
            #[allow(unreachable_patterns, reason = "reachable when a feature is off")]
            backend => {
                let _ = settings;
                return Err(backend.disabled());
            }
        };
        db.migrate().await?;
        Ok(db)
    }

    /// Which backend this is.
    #[must_use]
    pub fn backend(&self) -> Backend {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// Creates or updates the toolkit's tables (see
    /// [`crate::store::sqlite::migrate`] and [`crate::store::postgres::migrate`]).
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the database cannot be reached or a
    /// migration fails.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(store) => crate::store::sqlite::migrate(store.pool()).await,
            #[cfg(feature = "postgres")]
            Self::Postgres(store) => crate::store::postgres::migrate(store.pool()).await,
        }
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(store) => store.pool().close().await,
            #[cfg(feature = "postgres")]
            Self::Postgres(store) => store.pool().close().await,
        }
    }

    /// The administrative operations on users (listing, creating,
    /// disabling, ...), on whichever store this is.
    ///
    /// # Example
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")] {
    /// use auth_core::database::{Database, PoolSettings};
    /// use auth_core::Scopes;
    ///
    /// # rocket::async_test(async {
    /// let db = Database::connect("sqlite::memory:", &PoolSettings::default()).await?;
    /// let admin = db.admin();
    /// admin.create_user("bob", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", &Scopes::new(), false).await?;
    /// assert!(admin.set_disabled("bob", true).await?);
    /// assert_eq!(admin.list_users().await?.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// # }
    /// ```
    #[must_use]
    pub fn admin(&self) -> &dyn UserAdmin {
        self.store()
    }

    /// The store inside, whichever it is: the one place that tells the
    /// variants apart for the stores' operations.
    fn store(&self) -> &dyn Store {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(store) => store,
            #[cfg(feature = "postgres")]
            Self::Postgres(store) => store,
        }
    }
}

#[rocket::async_trait]
impl UserStore for Database {
    async fn find_user(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        self.store().find_user(username).await
    }

    async fn set_password_hash(
        &self,
        username: &str,
        password_hash: &str,
    ) -> Result<(), StoreError> {
        self.store()
            .set_password_hash(username, password_hash)
            .await
    }

    fn shared_counters(&self) -> Option<Arc<dyn SharedCounters>> {
        self.store().shared_counters()
    }

    fn clients(&self) -> Option<Arc<dyn ClientStore>> {
        Some(Arc::new(self.clone()))
    }
}

#[rocket::async_trait]
impl ClientStore for Database {
    async fn find_client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        self.store().find_client(client_id).await
    }

    async fn create_client(&self, record: ClientRecord) -> Result<(), StoreError> {
        self.store().create_client(record).await
    }

    async fn list_clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        self.store().list_clients().await
    }

    async fn set_client_enabled(&self, client_id: &str, enabled: bool) -> Result<bool, StoreError> {
        self.store().set_client_enabled(client_id, enabled).await
    }

    async fn delete_client(&self, client_id: &str) -> Result<bool, StoreError> {
        self.store().delete_client(client_id).await
    }
}

#[rocket::async_trait]
impl RefreshTokenStore for Database {
    async fn insert(&self, record: RefreshTokenRecord) -> Result<(), StoreError> {
        self.store().insert(record).await
    }

    async fn rotate(
        &self,
        old: &TokenHash,
        successor: RefreshTokenRecord,
    ) -> Result<RotateOutcome, StoreError> {
        self.store().rotate(old, successor).await
    }

    async fn consume(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<RefreshTokenRecord>, StoreError> {
        self.store().consume(token_hash).await
    }

    async fn revoke_family(&self, family_id: &str) -> Result<(), StoreError> {
        self.store().revoke_family(family_id).await
    }

    async fn revoke_user(&self, username: &str) -> Result<u64, StoreError> {
        self.store().revoke_user(username).await
    }

    async fn find(&self, token_hash: &TokenHash) -> Result<Option<RefreshTokenRecord>, StoreError> {
        self.store().find(token_hash).await
    }

    async fn family(&self, family_id: &str) -> Result<Option<FamilyRecord>, StoreError> {
        self.store().family(family_id).await
    }

    async fn revoke_oldest_families(
        &self,
        username: &str,
        keep: usize,
        now: u64,
    ) -> Result<Vec<String>, StoreError> {
        self.store()
            .revoke_oldest_families(username, keep, now)
            .await
    }
}

#[rocket::async_trait]
impl ApiKeyStore for Database {
    async fn insert_api_key(&self, record: ApiKeyRecord) -> Result<(), StoreError> {
        self.store().insert_api_key(record).await
    }

    async fn find_api_key(&self, key_hash: &TokenHash) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.store().find_api_key(key_hash).await
    }

    async fn list_api_keys(&self, username: Option<&str>) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.store().list_api_keys(username).await
    }

    async fn revoke_api_key(&self, id: &str, now: u64) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.store().revoke_api_key(id, now).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_pick_the_backend_and_unknown_ones_name_the_choices() {
        assert_eq!(Backend::of("sqlite::memory:").ok(), Some(Backend::Sqlite));
        assert_eq!(Backend::of("sqlite://a.db").ok(), Some(Backend::Sqlite));
        assert_eq!(Backend::of("postgres://h/db").ok(), Some(Backend::Postgres));
        assert_eq!(
            Backend::of("PostgreSQL://h/db").ok(),
            Some(Backend::Postgres)
        );
        for url in ["mysql://h/db", "demo.db", "", "/var/lib/x.db"] {
            let message = Backend::of(url).unwrap_err().to_string();
            assert!(
                message.contains("sqlite://") && message.contains("postgres://"),
                "{url}: {message}"
            );
        }
        let message = Database::open_lazy("mysql://u:pw@h/db", &PoolSettings::default())
            .unwrap_err()
            .to_string();
        assert!(message.contains("\"mysql\""), "{message}");
        assert!(!message.contains("pw"), "{message}");
    }

    #[cfg(not(feature = "postgres"))]
    #[test]
    fn a_postgres_url_without_the_feature_names_the_feature() {
        let err = Database::open_lazy("postgres://h/db", &PoolSettings::default()).unwrap_err();
        assert!(
            matches!(&err, DatabaseError::FeatureDisabled { scheme, feature: "postgres" } if scheme == "postgres"),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("`postgres` cargo feature"),
            "{err}"
        );
    }

    #[cfg(not(feature = "sqlite"))]
    #[test]
    fn a_sqlite_url_without_the_feature_names_the_feature() {
        let err = Database::open_lazy("sqlite://a.db", &PoolSettings::default()).unwrap_err();
        assert!(err.to_string().contains("`sqlite` cargo feature"), "{err}");
    }

    #[test]
    fn passwords_are_redacted_from_urls() {
        for (url, shown) in [
            (
                "postgres://u:secret@h:5432/db?x=1",
                "postgres://u:***@h:5432/db?x=1",
            ),
            ("postgresql://u@h/db", "postgresql://u@h/db"),
            ("postgres://h/db", "postgres://h/db"),
            ("postgres://u:p@ss@h/db", "postgres://u:***@h/db"),
            (
                "postgres://u@h/db?password=hunter2&application_name=demo",
                "postgres://u@h/db?password=***&application_name=demo",
            ),
            ("sqlite::memory:", "sqlite::memory:"),
        ] {
            assert_eq!(redact_url(url), shown);
        }
    }

    #[cfg(feature = "postgres")]
    #[rocket::async_test]
    async fn an_unreachable_server_is_a_backend_error_naming_no_password() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let settings =
            PoolSettings::default().with_acquire_timeout(std::time::Duration::from_secs(2));
        let url = format!("postgres://u:hunter2@127.0.0.1:{port}/db");
        let err = Database::connect(&url, &settings).await.unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
