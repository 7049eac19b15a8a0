//! [`PgStore`]: the queries behind the user and refresh-token stores.

use sqlx::postgres::{PgConnection, PgPool};

use super::migrate::migrate;
use super::pool::open;
use super::rows::{family_from_row, token_from_row, user_from_row};
use crate::scopes::Scopes;
use crate::store::counters::{CounterChange, SharedCounter, SharedCounters};
use crate::store::pool_settings::PoolSettings;
use crate::store::sql::{conflict_or_backend, corrupt, state_to_sql, to_sql_int};
use crate::store::{
    FamilyRecord, MAX_FAMILY_TOKENS, PRUNE_BATCH, RefreshState, RefreshTokenRecord,
    RefreshTokenStore, RotateOutcome, StoreError, TokenHash, UserRecord, UserStore,
};

/// The columns of a refresh token, in the order of [`add_token`].
const TOKEN_COLUMNS: &str = "token_hash, family_id, username, client_id, scopes, \
                             issued_at, expires_at, family_expires_at, state";

type Transaction = sqlx::Transaction<'static, sqlx::Postgres>;

/// Adds a token: creates its family row if needed, locks it, and refuses
/// if the family is revoked. Runs inside the caller's transaction.
async fn add_token(conn: &mut PgConnection, record: &RefreshTokenRecord) -> Result<(), StoreError> {
    let family_end = record.family_expires_at.max(record.expires_at);
    // An upsert takes the family row's lock whether it inserts or updates.
    let revoked: bool = sqlx::query_scalar(
        "INSERT INTO refresh_families (family_id, username, expires_at, created_at) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (family_id) DO UPDATE \
         SET expires_at = GREATEST(refresh_families.expires_at, EXCLUDED.expires_at) \
         RETURNING revoked",
    )
    .bind(&record.family_id)
    .bind(&record.username)
    .bind(to_sql_int("family_expires_at", family_end)?)
    .bind(to_sql_int("issued_at", record.issued_at)?)
    .fetch_one(&mut *conn)
    .await
    .map_err(StoreError::backend)?;
    if revoked {
        return Err(StoreError::Conflict {
            what: "a token in a revoked refresh-token family".to_owned(),
        });
    }
    sqlx::query(&format!(
        "INSERT INTO refresh_tokens ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(&record.token_hash[..])
    .bind(&record.family_id)
    .bind(&record.username)
    .bind(&record.client_id)
    .bind(record.scopes.to_string())
    .bind(to_sql_int("issued_at", record.issued_at)?)
    .bind(to_sql_int("expires_at", record.expires_at)?)
    .bind(to_sql_int("family_expires_at", record.family_expires_at)?)
    .bind(state_to_sql(record.state))
    .execute(&mut *conn)
    .await
    .map_err(|e| conflict_or_backend(e, || "refresh token".to_owned()))?;
    Ok(())
}

/// Locks a family's row until the transaction ends; `Some(revoked)`, or
/// `None` if the family has no row (never existed, or pruned).
async fn lock_family(conn: &mut PgConnection, family_id: &str) -> Result<Option<bool>, StoreError> {
    sqlx::query_scalar("SELECT revoked FROM refresh_families WHERE family_id = $1 FOR UPDATE")
        .bind(family_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(StoreError::backend)
}

/// Marks a family and its tokens revoked. Takes the family lock first
/// (waiting for a rotation in progress to commit), so the second statement
/// sees its successor.
async fn revoke_family_in(conn: &mut PgConnection, family_id: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE refresh_families SET revoked = TRUE WHERE family_id = $1")
        .bind(family_id)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::backend)?;
    sqlx::query(
        "UPDATE refresh_tokens SET state = 'revoked' \
         WHERE family_id = $1 AND state <> 'revoked'",
    )
    .bind(family_id)
    .execute(&mut *conn)
    .await
    .map_err(StoreError::backend)?;
    Ok(())
}

/// Bounded housekeeping after a write at time `now`: the family keeps its
/// newest [`MAX_FAMILY_TOKENS`] tokens, and at most [`PRUNE_BATCH`] expired
/// tokens and families are deleted. Rows other transactions hold are
/// skipped, so pruning never waits for a lock.
async fn prune(conn: &mut PgConnection, family_id: &str, now: u64) -> Result<(), StoreError> {
    let cap = i64::try_from(MAX_FAMILY_TOKENS).unwrap_or(i64::MAX);
    let batch = i64::try_from(PRUNE_BATCH).unwrap_or(i64::MAX);
    let now = to_sql_int("now", now)?;
    sqlx::query(
        "DELETE FROM refresh_tokens WHERE token_hash IN \
         (SELECT token_hash FROM refresh_tokens WHERE family_id = $1 AND state <> 'active' \
          AND token_hash NOT IN (SELECT token_hash FROM refresh_tokens WHERE family_id = $1 \
                                 ORDER BY issued_at DESC, seq DESC LIMIT $2) \
          FOR UPDATE SKIP LOCKED)",
    )
    .bind(family_id)
    .bind(cap)
    .execute(&mut *conn)
    .await
    .map_err(StoreError::backend)?;
    sqlx::query(
        "DELETE FROM refresh_tokens WHERE token_hash IN \
         (SELECT token_hash FROM refresh_tokens WHERE expires_at <= $1 \
          LIMIT $2 FOR UPDATE SKIP LOCKED)",
    )
    .bind(now)
    .bind(batch)
    .execute(&mut *conn)
    .await
    .map_err(StoreError::backend)?;
    // No token of a family outlives the family's row.
    sqlx::query(
        "DELETE FROM refresh_families WHERE family_id IN \
         (SELECT family_id FROM refresh_families WHERE expires_at <= $1 \
          LIMIT $2 FOR UPDATE SKIP LOCKED)",
    )
    .bind(now)
    .bind(batch)
    .execute(&mut *conn)
    .await
    .map_err(StoreError::backend)?;
    Ok(())
}

/// Revokes every family of `username`; returns how many had an active
/// token. Locks the user's family rows in one order (by id), so two of
/// these never deadlock, and waits for rotations in progress to commit
/// first. Lock order everywhere: the user's row, then family rows, then
/// token rows.
async fn revoke_user_in(conn: &mut PgConnection, username: &str) -> Result<u64, StoreError> {
    sqlx::query(
        "SELECT family_id FROM refresh_families WHERE username = $1 \
         ORDER BY family_id FOR UPDATE",
    )
    .bind(username)
    .execute(&mut *conn)
    .await
    .map_err(StoreError::backend)?;
    let live: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT family_id) FROM refresh_tokens \
         WHERE username = $1 AND state = 'active'",
    )
    .bind(username)
    .fetch_one(&mut *conn)
    .await
    .map_err(StoreError::backend)?;
    sqlx::query("UPDATE refresh_families SET revoked = TRUE WHERE username = $1")
        .bind(username)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::backend)?;
    sqlx::query(
        "UPDATE refresh_tokens SET state = 'revoked' WHERE username = $1 AND state <> 'revoked'",
    )
    .bind(username)
    .execute(&mut *conn)
    .await
    .map_err(StoreError::backend)?;
    Ok(u64::try_from(live).unwrap_or(0))
}

/// Users and refresh tokens in one PostgreSQL database, shared by any
/// number of processes.
///
/// Implements both [`UserStore`] and [`RefreshTokenStore`]; clones share the
/// pool. See the [module docs](super#concurrency) for the locking.
///
/// # Example
///
/// ```no_run
/// use auth_core::database::PoolSettings;
/// use auth_core::postgres::PgStore;
/// use auth_core::{Scopes, UserStore};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = PgStore::connect("postgres://app@localhost/app", &PoolSettings::default()).await?;
/// let scopes = Scopes::parse("read:items")?;
/// store.create_user("alice", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", &scopes, false).await?;
/// assert!(store.find_user("alice").await?.is_some());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Wraps a pool whose database has been migrated with [`migrate`].
    #[must_use]
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

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

    /// The underlying pool, for an application's own tables.
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn begin(&self) -> Result<Transaction, StoreError> {
        self.pool.begin().await.map_err(StoreError::backend)
    }

    /// Adds a user whose password is already hashed (see
    /// [`crate::PasswordHasher::hash`]).
    ///
    /// # Errors
    ///
    /// [`StoreError::Conflict`] if the username is taken,
    /// [`StoreError::Backend`] for other failures (including a username
    /// longer than 256 bytes).
    pub async fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        scopes: &Scopes,
        disabled: bool,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO users (username, password_hash, scopes, disabled) VALUES ($1, $2, $3, $4)",
        )
        .bind(username)
        .bind(password_hash)
        .bind(scopes.to_string())
        .bind(disabled)
        .execute(&self.pool)
        .await
        .map_err(|e| conflict_or_backend(e, || format!("user {username:?}")))?;
        Ok(())
    }

    /// Every user, ordered by username.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the query fails or a stored row is corrupt.
    pub async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT username, password_hash, scopes, disabled FROM users \
             ORDER BY username COLLATE \"C\"",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        rows.iter().map(user_from_row).collect()
    }

    /// How many users exist.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the query fails.
    pub async fn count_users(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        u64::try_from(count).map_err(|_| corrupt("users", "count", "negative row count"))
    }

    /// Enables or disables a user; returns whether the user exists.
    /// Disabling also revokes all the user's refresh-token families in the
    /// same transaction.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the update fails.
    pub async fn set_disabled(&self, username: &str, disabled: bool) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let result = sqlx::query("UPDATE users SET disabled = $1 WHERE username = $2")
            .bind(disabled)
            .bind(username)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        if disabled {
            revoke_user_in(&mut tx, username).await?;
        }
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(result.rows_affected() > 0)
    }

    /// A password change: replaces the hash and revokes all the user's
    /// refresh-token families, in one transaction. Returns whether the user
    /// exists.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the update fails.
    pub async fn set_password(
        &self,
        username: &str,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let result = sqlx::query("UPDATE users SET password_hash = $1 WHERE username = $2")
            .bind(password_hash)
            .bind(username)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        revoke_user_in(&mut tx, username).await?;
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(result.rows_affected() > 0)
    }

    /// Replaces the scopes a user may be granted; returns whether the user
    /// exists.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the update fails.
    pub async fn set_scopes(&self, username: &str, scopes: &Scopes) -> Result<bool, StoreError> {
        let result = sqlx::query("UPDATE users SET scopes = $1 WHERE username = $2")
            .bind(scopes.to_string())
            .bind(username)
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(result.rows_affected() > 0)
    }

    /// Deletes a user, their refresh tokens and families, in one
    /// transaction. Returns whether the user existed.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the delete fails.
    pub async fn delete_user(&self, username: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let result = sqlx::query("DELETE FROM users WHERE username = $1")
            .bind(username)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        // Locks the user's families in the order `revoke_user_in` does, so
        // the two never deadlock; waits for rotations in progress, and
        // later ones find no family.
        sqlx::query(
            "SELECT family_id FROM refresh_families WHERE username = $1 \
             ORDER BY family_id FOR UPDATE",
        )
        .bind(username)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::backend)?;
        sqlx::query("DELETE FROM refresh_families WHERE username = $1")
            .bind(username)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        sqlx::query("DELETE FROM refresh_tokens WHERE username = $1")
            .bind(username)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(result.rows_affected() > 0)
    }

    /// How many refresh tokens are stored (active, used and revoked).
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the query fails.
    pub async fn count_refresh_tokens(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM refresh_tokens")
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        u64::try_from(count).map_err(|_| corrupt("refresh_tokens", "count", "negative row count"))
    }

    /// Deletes refresh tokens that expired at or before `now` (seconds
    /// since the Unix epoch); returns how many were deleted.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the delete fails or `now` does not fit in
    /// a signed 64-bit integer.
    pub async fn delete_expired_refresh_tokens(&self, now: u64) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM refresh_tokens WHERE expires_at <= $1")
            .bind(to_sql_int("now", now)?)
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(result.rows_affected())
    }
}

#[rocket::async_trait]
impl UserStore for PgStore {
    fn shared_counters(&self) -> Option<std::sync::Arc<dyn SharedCounters>> {
        Some(std::sync::Arc::new(self.clone()))
    }

    async fn find_user(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT username, password_hash, scopes, disabled FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn set_password_hash(
        &self,
        username: &str,
        password_hash: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE username = $2")
            .bind(password_hash)
            .bind(username)
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }
}

#[rocket::async_trait]
impl RefreshTokenStore for PgStore {
    async fn insert(&self, record: RefreshTokenRecord) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        add_token(&mut tx, &record).await?;
        prune(&mut tx, &record.family_id, record.issued_at).await?;
        tx.commit().await.map_err(StoreError::backend)
    }

    async fn rotate(
        &self,
        old: &TokenHash,
        successor: RefreshTokenRecord,
    ) -> Result<RotateOutcome, StoreError> {
        // Dropped without commit, the transaction rolls back.
        let mut tx = self.begin().await?;
        let family: Option<String> =
            sqlx::query_scalar("SELECT family_id FROM refresh_tokens WHERE token_hash = $1")
                .bind(&old[..])
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::backend)?;
        let Some(family) = family else {
            return Ok(RotateOutcome::Refused);
        };
        // From here until commit, no other rotation or revocation of this
        // family can run.
        let revoked = lock_family(&mut tx, &family).await?;
        let consumed = if revoked == Some(false) {
            sqlx::query(
                "UPDATE refresh_tokens SET state = 'used' \
                 WHERE token_hash = $1 AND state = 'active'",
            )
            .bind(&old[..])
            .execute(&mut *tx)
            .await
            .map_err(StoreError::backend)?
            .rows_affected()
                == 1
        } else {
            false
        };
        if !consumed {
            // Read under the family lock: used (a replay), or revoked,
            // pruned or never active.
            let row = sqlx::query(&format!(
                "SELECT {TOKEN_COLUMNS} FROM refresh_tokens WHERE token_hash = $1"
            ))
            .bind(&old[..])
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
            let record = row.as_ref().map(token_from_row).transpose()?;
            return Ok(match record {
                Some(record) if record.state == RefreshState::Used => RotateOutcome::Reused(record),
                _ => RotateOutcome::Refused,
            });
        }
        match add_token(&mut tx, &successor).await {
            Ok(()) => {}
            // A successor named into another, revoked family.
            Err(StoreError::Conflict { .. }) if successor.family_id != family => {
                return Ok(RotateOutcome::Refused);
            }
            Err(e) => return Err(e),
        }
        prune(&mut tx, &successor.family_id, successor.issued_at).await?;
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(RotateOutcome::Rotated)
    }

    async fn consume(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<RefreshTokenRecord>, StoreError> {
        // One statement: the row lock makes exactly one of any number of
        // concurrent callers match `state = 'active'`.
        let row = sqlx::query(&format!(
            "UPDATE refresh_tokens SET state = 'used' \
             WHERE token_hash = $1 AND state = 'active' RETURNING {TOKEN_COLUMNS}"
        ))
        .bind(&token_hash[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        if let Some(row) = row {
            let mut record = token_from_row(&row)?;
            record.state = RefreshState::Active;
            return Ok(Some(record));
        }
        self.find(token_hash).await
    }

    async fn revoke_family(&self, family_id: &str) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        revoke_family_in(&mut tx, family_id).await?;
        tx.commit().await.map_err(StoreError::backend)
    }

    async fn revoke_user(&self, username: &str) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let live = revoke_user_in(&mut tx, username).await?;
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(live)
    }

    async fn find(&self, token_hash: &TokenHash) -> Result<Option<RefreshTokenRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM refresh_tokens WHERE token_hash = $1"
        ))
        .bind(&token_hash[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn family(&self, family_id: &str) -> Result<Option<FamilyRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT family_id, username, revoked, created_at, expires_at \
             FROM refresh_families WHERE family_id = $1",
        )
        .bind(family_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        row.as_ref().map(family_from_row).transpose()
    }

    async fn revoke_oldest_families(
        &self,
        username: &str,
        keep: usize,
        now: u64,
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.begin().await?;
        // Lock order as in `revoke_user_in`: the user's families by id.
        sqlx::query(
            "SELECT family_id FROM refresh_families WHERE username = $1 \
             ORDER BY family_id FOR UPDATE",
        )
        .bind(username)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::backend)?;
        let oldest: Vec<String> = sqlx::query_scalar(
            "SELECT family_id FROM refresh_families \
             WHERE username = $1 AND NOT revoked AND expires_at > $2 \
             ORDER BY created_at DESC, seq DESC OFFSET $3",
        )
        .bind(username)
        .bind(to_sql_int("now", now)?)
        .bind(i64::try_from(keep).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await
        .map_err(StoreError::backend)?;
        for family_id in &oldest {
            revoke_family_in(&mut tx, family_id).await?;
        }
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(oldest)
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
