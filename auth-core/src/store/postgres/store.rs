//! [`PgStore`]: the SQL store on PostgreSQL, and what sets PostgreSQL
//! apart from `SQLite` in it, including the failed-login counters that only
//! this store keeps.

use std::sync::Arc;

use super::migrate::migrate;
use super::pool::open;
use crate::store::PRUNE_BATCH;
use crate::store::StoreError;
use crate::store::counters::{CounterChange, SharedCounter, SharedCounters};
use crate::store::pool_settings::PoolSettings;
use crate::store::sql::{Dialect, SqlStore, corrupt, to_sql_int};

/// Users and refresh tokens in one PostgreSQL database, shared by any
/// number of processes.
///
/// Implements [`UserStore`](crate::UserStore),
/// [`RefreshTokenStore`](crate::RefreshTokenStore) and
/// [`UserAdmin`](crate::UserAdmin); clones share the pool. See the
/// [module docs](super#concurrency) for the locking.
///
/// # Example
///
/// ```no_run
/// use auth_core::database::PoolSettings;
/// use auth_core::postgres::PgStore;
/// use auth_core::{Scopes, UserAdmin, UserStore};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = PgStore::connect("postgres://app@localhost/app", &PoolSettings::default()).await?;
/// let scopes = Scopes::parse("read:items")?;
/// store.create_user("alice", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", &scopes, false).await?;
/// assert!(store.find_user("alice").await?.is_some());
/// # Ok(())
/// # }
/// ```
pub type PgStore = SqlStore<sqlx::Postgres>;

/// PostgreSQL runs transactions side by side: each write locks the rows it
/// depends on (`FOR UPDATE`), and housekeeping skips rows others hold.
impl Dialect for sqlx::Postgres {
    const BEGIN: &'static str = "BEGIN";
    const FOR_UPDATE: &'static str = " FOR UPDATE";
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";
    const GREATEST: &'static str = "GREATEST";
    const INSERTION_ORDER: &'static str = "seq";
    const NO_LIMIT: &'static str = "LIMIT ALL";
    const BYTE_ORDER: &'static str = " COLLATE \"C\"";

    fn rows_affected(done: &Self::QueryResult) -> u64 {
        done.rows_affected()
    }

    fn shared_counters(store: &PgStore) -> Option<Arc<dyn SharedCounters>> {
        Some(Arc::new(store.clone()))
    }
}

impl SqlStore<sqlx::Postgres> {
    /// Opens `url` with [`open`], runs [`migrate`] and wraps the pool.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the database cannot be reached or migrated.
    pub async fn connect(url: &str, settings: &PoolSettings) -> Result<Self, StoreError> {
        let pool = open(url, settings).await?;
        migrate(&pool).await?;
        Ok(Self::new(pool))
    }
}

/// The failed-login counters per username (table `login_throttle`): each
/// update locks the username's row, so instances count in turn.
#[rocket::async_trait]
impl SharedCounters for PgStore {
    async fn update(
        &self,
        username: &str,
        forget_before: u64,
        change: CounterChange<'_>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "DELETE FROM login_throttle WHERE username IN (SELECT username FROM login_throttle \
             WHERE last_seen < $1 ORDER BY last_seen LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(to_sql_int("last_seen", forget_before)?)
        .bind(to_sql_int("limit", PRUNE_BATCH as u64)?)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::backend)?;
        sqlx::query(
            "INSERT INTO login_throttle (username, failures, blocked_until, last_seen) \
             VALUES ($1, 0, 0, 0) ON CONFLICT (username) DO NOTHING",
        )
        .bind(username)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::backend)?;
        let (failures, blocked_until, last_seen): (i64, i64, i64) = sqlx::query_as(
            "SELECT failures, blocked_until, last_seen FROM login_throttle \
             WHERE username = $1 FOR UPDATE",
        )
        .bind(username)
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::backend)?;
        let unsigned = |column, v: i64| {
            u64::try_from(v).map_err(|_| corrupt("login_throttle", column, "negative"))
        };
        let mut counter = SharedCounter::new(
            unsigned("failures", failures)?,
            unsigned("blocked_until", blocked_until)?,
            unsigned("last_seen", last_seen)?,
        );
        let result = change(&mut counter);
        sqlx::query(
            "UPDATE login_throttle SET failures = $2, blocked_until = $3, last_seen = $4 \
             WHERE username = $1",
        )
        .bind(username)
        .bind(to_sql_int("failures", counter.failures)?)
        .bind(to_sql_int("blocked_until", counter.blocked_until)?)
        .bind(to_sql_int("last_seen", counter.last_seen)?)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::backend)?;
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(result)
    }
}
