//! [`SqliteStore`]: the SQL store on `SQLite`, and what sets `SQLite`
//! apart from PostgreSQL in it.

use super::migrate::migrate;
use super::pool::open;
use crate::store::StoreError;
use crate::store::sql::{Dialect, SqlStore};

/// Users and refresh tokens in one `SQLite` database.
///
/// Implements [`UserStore`](crate::UserStore),
/// [`RefreshTokenStore`](crate::RefreshTokenStore) and
/// [`UserAdmin`](crate::UserAdmin); clones share the pool. Scopes are
/// stored as their space-separated string form.
///
/// # Example
///
/// ```
/// use auth_core::sqlite::SqliteStore;
/// use auth_core::{Scopes, UserAdmin, UserStore};
///
/// # rocket::async_test(async {
/// // In memory for the example; use "sqlite://app.db" for a file.
/// let store = SqliteStore::connect("sqlite::memory:").await?;
/// let scopes = Scopes::parse("read:items write:items")?;
/// store.create_user("alice", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", &scopes, false).await?;
///
/// let alice = store.find_user("alice").await?.expect("just created");
/// assert_eq!(alice.scopes, scopes);
/// assert_eq!(store.count_users().await?, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub type SqliteStore = SqlStore<sqlx::Sqlite>;

/// `SQLite` serialises writers: a write transaction takes the database's
/// write lock at its start (`BEGIN IMMEDIATE`), so reads inside it see what
/// its writes act on, and no row needs a lock of its own.
impl Dialect for sqlx::Sqlite {
    const BEGIN: &'static str = "BEGIN IMMEDIATE";
    const FOR_UPDATE: &'static str = "";
    const SKIP_LOCKED: &'static str = "";
    const GREATEST: &'static str = "max";
    const INSERTION_ORDER: &'static str = "rowid";
    const NO_LIMIT: &'static str = "LIMIT -1";
    // `SQLite` compares text byte by byte unless told otherwise.
    const BYTE_ORDER: &'static str = "";

    fn rows_affected(done: &Self::QueryResult) -> u64 {
        done.rows_affected()
    }
}

impl SqlStore<sqlx::Sqlite> {
    /// Opens `url` with [`open`], runs [`migrate`] and wraps the pool.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the database cannot be opened or migrated.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = open(url).await?;
        migrate(&pool).await?;
        Ok(Self::new(pool))
    }
}
