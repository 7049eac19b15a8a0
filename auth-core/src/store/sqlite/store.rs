//! [`SqliteStore`]: the queries behind the user and refresh-token stores.

use sqlx::sqlite::{SqliteConnection, SqlitePool};

use super::migrate::migrate;
use super::pool::open;
use super::rows::{
    conflict_or_backend, corrupt, family_from_row, state_to_sql, to_sql_int, token_from_row,
    user_from_row,
};
use crate::scopes::Scopes;
use crate::store::{
    FamilyRecord, MAX_FAMILY_TOKENS, PRUNE_BATCH, RefreshState, RefreshTokenRecord,
    RefreshTokenStore, RotateOutcome, StoreError, TokenHash, UserRecord, UserStore,
};

/// The columns of a family, as [`family_from_row`] reads them.
const FAMILY_COLUMNS: &str = "family_id, username, revoked, created_at, expires_at";

/// The columns of a refresh token, in the order of [`insert_token`].
const TOKEN_COLUMNS: &str = "token_hash, family_id, username, client_id, scopes, \
                             issued_at, expires_at, family_expires_at, state";

/// Inserts a token unless its family is revoked, creating the family's row
/// with the first token (the login) and extending its end if need be.
async fn insert_token(
    conn: &mut SqliteConnection,
    record: &RefreshTokenRecord,
) -> Result<(), StoreError> {
    let family_end = record.family_expires_at.max(record.expires_at);
    let revoked: i64 = sqlx::query_scalar(
        "INSERT INTO refresh_families (family_id, username, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (family_id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at) \
         RETURNING revoked",
    )
    .bind(&record.family_id)
    .bind(&record.username)
    .bind(to_sql_int("issued_at", record.issued_at)?)
    .bind(to_sql_int("family_expires_at", family_end)?)
    .fetch_one(&mut *conn)
    .await
    .map_err(StoreError::backend)?;
    if revoked != 0 {
        return Err(StoreError::Conflict {
            what: "a token in a revoked refresh-token family".to_owned(),
        });
    }
    sqlx::query(&format!(
        "INSERT INTO refresh_tokens ({TOKEN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
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

/// Marks a family and all its tokens revoked.
async fn revoke_family_in(conn: &mut SqliteConnection, family_id: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE refresh_families SET revoked = 1 WHERE family_id = ?1")
        .bind(family_id)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::backend)?;
    sqlx::query(
        "UPDATE refresh_tokens SET state = 'revoked' WHERE family_id = ?1 AND state <> 'revoked'",
    )
    .bind(family_id)
    .execute(&mut *conn)
    .await
    .map_err(StoreError::backend)?;
    Ok(())
}

/// Bounded housekeeping after a write at time `now`: the family keeps its
/// newest [`MAX_FAMILY_TOKENS`] tokens, and at most [`PRUNE_BATCH`] expired
/// tokens are deleted.
async fn prune(conn: &mut SqliteConnection, family_id: &str, now: u64) -> Result<(), StoreError> {
    let cap = i64::try_from(MAX_FAMILY_TOKENS).unwrap_or(i64::MAX);
    let batch = i64::try_from(PRUNE_BATCH).unwrap_or(i64::MAX);
    sqlx::query(
        "DELETE FROM refresh_tokens WHERE family_id = ?1 AND state <> 'active' \
         AND token_hash NOT IN (SELECT token_hash FROM refresh_tokens WHERE family_id = ?1 \
                                ORDER BY issued_at DESC, rowid DESC LIMIT ?2)",
    )
    .bind(family_id)
    .bind(cap)
    .execute(&mut *conn)
    .await
    .map_err(StoreError::backend)?;
    sqlx::query(
        "DELETE FROM refresh_tokens WHERE rowid IN \
         (SELECT rowid FROM refresh_tokens WHERE expires_at <= ?1 LIMIT ?2)",
    )
    .bind(to_sql_int("now", now)?)
    .bind(batch)
    .execute(&mut *conn)
    .await
    .map_err(StoreError::backend)?;
    // A family is remembered until its absolute end, then forgotten with
    // any token left (none can be valid by then).
    let ended: Vec<String> = sqlx::query_scalar(
        "DELETE FROM refresh_families WHERE rowid IN \
         (SELECT rowid FROM refresh_families WHERE expires_at <= ?1 LIMIT ?2) \
         RETURNING family_id",
    )
    .bind(to_sql_int("now", now)?)
    .bind(batch)
    .fetch_all(&mut *conn)
    .await
    .map_err(StoreError::backend)?;
    for family_id in ended {
        sqlx::query("DELETE FROM refresh_tokens WHERE family_id = ?1")
            .bind(family_id)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::backend)?;
    }
    Ok(())
}

/// Revokes every family of `username`; returns how many had an active token.
async fn revoke_user_in(conn: &mut SqliteConnection, username: &str) -> Result<u64, StoreError> {
    let live: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT family_id) FROM refresh_tokens \
         WHERE username = ?1 AND state = 'active'",
    )
    .bind(username)
    .fetch_one(&mut *conn)
    .await
    .map_err(StoreError::backend)?;
    sqlx::query("UPDATE refresh_families SET revoked = 1 WHERE username = ?1")
        .bind(username)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::backend)?;
    sqlx::query(
        "UPDATE refresh_tokens SET state = 'revoked' WHERE family_id IN \
         (SELECT family_id FROM refresh_tokens WHERE username = ?1)",
    )
    .bind(username)
    .execute(&mut *conn)
    .await
    .map_err(StoreError::backend)?;
    Ok(u64::try_from(live).unwrap_or(0))
}

/// Users and refresh tokens in one `SQLite` database.
///
/// Implements both [`UserStore`] and [`RefreshTokenStore`]; clones share the
/// pool. Scopes are stored as their space-separated string form.
///
/// # Example
///
/// ```
/// use auth_core::sqlite::SqliteStore;
/// use auth_core::{Scopes, UserStore};
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
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Wraps a pool whose database has been migrated with [`migrate`].
    #[must_use]
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }

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

    /// The underlying pool, for an application's own tables.
    #[must_use]
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Adds a user whose password is already hashed (see
    /// [`crate::PasswordHasher::hash`]).
    ///
    /// # Errors
    ///
    /// [`StoreError::Conflict`] if the username is taken,
    /// [`StoreError::Backend`] for other failures.
    pub async fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        scopes: &Scopes,
        disabled: bool,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO users (username, password_hash, scopes, disabled) \
             VALUES (?1, ?2, ?3, ?4)",
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
    /// [`StoreError::Backend`] if the query fails or a stored row is corrupt
    /// (e.g. scopes that are not valid scope-tokens).
    pub async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT username, password_hash, scopes, disabled FROM users ORDER BY username",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        rows.iter().map(user_from_row).collect()
    }

    /// How many users exist (an application seeds demo users when it is 0).
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
    ///
    /// A disabled user cannot log in, refresh, or use access tokens already
    /// issued. Disabling also revokes all the user's refresh-token families
    /// in the same transaction, so enabling the user again revives none.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the update fails.
    pub async fn set_disabled(&self, username: &str, disabled: bool) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let result = sqlx::query("UPDATE users SET disabled = ?1 WHERE username = ?2")
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

    /// A password change by the user or an administrator: replaces the hash
    /// and revokes all the user's refresh-token families, in one
    /// transaction. Returns whether the user exists.
    ///
    /// ([`UserStore::set_password_hash`] is the silent upgrade of an old
    /// hash at login; it keeps sessions.)
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
        let result = sqlx::query("UPDATE users SET password_hash = ?1 WHERE username = ?2")
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
    /// exists. Sessions continue: their next refresh drops scopes the user
    /// no longer holds (access tokens keep theirs until they expire).
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the update fails.
    pub async fn set_scopes(&self, username: &str, scopes: &Scopes) -> Result<bool, StoreError> {
        let result = sqlx::query("UPDATE users SET scopes = ?1 WHERE username = ?2")
            .bind(scopes.to_string())
            .bind(username)
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(result.rows_affected() > 0)
    }

    /// Deletes a user and every refresh token issued to them, in one
    /// transaction, so a user later created with the same name inherits no
    /// session. Returns whether the user existed.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the delete fails.
    pub async fn delete_user(&self, username: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let result = sqlx::query("DELETE FROM users WHERE username = ?1")
            .bind(username)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        sqlx::query("DELETE FROM refresh_tokens WHERE username = ?1")
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

    /// A write transaction that takes the database's write lock at once
    /// (`BEGIN IMMEDIATE`), so reads inside it see what the writes act on.
    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(StoreError::backend)
    }

    /// Deletes refresh tokens that expired at or before `now` (seconds since
    /// the Unix epoch); returns how many were deleted.
    ///
    /// Housekeeping only: expired tokens are refused whether or not they are
    /// still stored.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the delete fails or `now` does not fit in
    /// a `SQLite` integer.
    pub async fn delete_expired_refresh_tokens(&self, now: u64) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM refresh_tokens WHERE expires_at <= ?1")
            .bind(to_sql_int("now", now)?)
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(result.rows_affected())
    }
}

#[rocket::async_trait]
impl UserStore for SqliteStore {
    async fn find_user(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT username, password_hash, scopes, disabled FROM users WHERE username = ?1",
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
        sqlx::query("UPDATE users SET password_hash = ?1 WHERE username = ?2")
            .bind(password_hash)
            .bind(username)
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }
}

#[rocket::async_trait]
impl RefreshTokenStore for SqliteStore {
    async fn insert(&self, record: RefreshTokenRecord) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        insert_token(&mut tx, &record).await?;
        prune(&mut tx, &record.family_id, record.issued_at).await?;
        tx.commit().await.map_err(StoreError::backend)
    }

    async fn rotate(
        &self,
        old: &TokenHash,
        successor: RefreshTokenRecord,
    ) -> Result<RotateOutcome, StoreError> {
        // One IMMEDIATE transaction: it holds the write lock from its first
        // statement, so no revocation or other rotation can land between
        // the read, the update and the insert. Dropped without commit, it
        // rolls back.
        let mut tx = self.begin().await?;
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM refresh_tokens WHERE token_hash = ?1"
        ))
        .bind(&old[..])
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::backend)?;
        let Some(record) = row.as_ref().map(token_from_row).transpose()? else {
            return Ok(RotateOutcome::Refused);
        };
        match record.state {
            RefreshState::Used => return Ok(RotateOutcome::Reused(record)),
            RefreshState::Revoked => return Ok(RotateOutcome::Refused),
            RefreshState::Active => {}
        }
        sqlx::query("UPDATE refresh_tokens SET state = 'used' WHERE token_hash = ?1")
            .bind(&old[..])
            .execute(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        match insert_token(&mut tx, &successor).await {
            Ok(()) => {}
            // The family is revoked (an active token of a revoked family
            // cannot exist, but a store written by older code may hold one).
            Err(StoreError::Conflict { .. }) if successor.family_id == record.family_id => {
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
        // One statement: SQLite serialises writers, so of any number of
        // concurrent callers exactly one matches `state = 'active'`.
        // `fetch_all` steps the statement to completion, so the autocommit
        // transaction ends before this returns.
        let mut rows = sqlx::query(&format!(
            "UPDATE refresh_tokens SET state = 'used' \
             WHERE token_hash = ?1 AND state = 'active' RETURNING {TOKEN_COLUMNS}"
        ))
        .bind(&token_hash[..])
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        if let Some(row) = rows.pop() {
            // RETURNING shows the row after the update; before it, the token
            // was active, or the WHERE clause would not have matched.
            let mut record = token_from_row(&row)?;
            record.state = RefreshState::Active;
            return Ok(Some(record));
        }
        // Unknown, or already used or revoked: states never return to
        // active, so reading it now is as good as reading it before.
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
            "SELECT {TOKEN_COLUMNS} FROM refresh_tokens WHERE token_hash = ?1"
        ))
        .bind(&token_hash[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn family(&self, family_id: &str) -> Result<Option<FamilyRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {FAMILY_COLUMNS} FROM refresh_families WHERE family_id = ?1"
        ))
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
        // Every live family of the user but the newest `keep`.
        let oldest: Vec<String> = sqlx::query_scalar(
            "SELECT family_id FROM refresh_families \
             WHERE username = ?1 AND revoked = 0 AND expires_at > ?2 \
             ORDER BY created_at DESC, rowid DESC LIMIT -1 OFFSET ?3",
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
