//! The SQL store, written once for `SQLite` and PostgreSQL: [`SqlStore`],
//! generic over the sqlx database it runs on.
//!
//! Every query is the same text for both databases (`$1`-style parameters,
//! which `SQLite` reads too); what differs between them is a handful of
//! words, each kept in one constant of [`Dialect`]: how a write transaction
//! begins, how rows are locked, the insertion-order column, and so on.
//!
//! `encode` holds the column encodings, `tokens` the refresh-token store
//! and `users` the user store and its administration.

mod encode;
mod tokens;
mod users;

use std::sync::Arc;

use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Type};

#[cfg(feature = "postgres")]
pub(crate) use encode::corrupt;
use encode::{TOKEN_COLUMNS, TokenRow, count_from_sql, state_to_sql, token_from_row};
pub(crate) use encode::{conflict_or_backend, to_sql_int};

use crate::store::counters::SharedCounters;
use crate::store::{MAX_FAMILY_TOKENS, PRUNE_BATCH, RefreshTokenRecord, StoreError, TokenHash};

mod sealed {
    pub trait Sealed {}
}

/// What sets one SQL database apart from the other, for [`SqlStore`].
///
/// Implemented for [`sqlx::Sqlite`] (feature `sqlite`) and
/// [`sqlx::Postgres`] (feature `postgres`) only.
pub trait Dialect: Database + sealed::Sealed {
    /// Opens a write transaction. `SQLite`'s `BEGIN IMMEDIATE` takes the
    /// database's write lock at once, so nothing else writes until commit.
    const BEGIN: &'static str;
    /// Appended to a `SELECT` whose rows the transaction locks until it
    /// ends; empty where the transaction holds the whole database already.
    const FOR_UPDATE: &'static str;
    /// Appended to a `SELECT` of rows to delete in housekeeping: rows other
    /// transactions hold are skipped, so pruning never waits.
    const SKIP_LOCKED: &'static str;
    /// The function that gives the larger of two values.
    const GREATEST: &'static str;
    /// A column that orders a table's rows by insertion.
    const INSERTION_ORDER: &'static str;
    /// A `LIMIT` clause that limits nothing (before an `OFFSET`).
    const NO_LIMIT: &'static str;
    /// Appended to `ORDER BY username` to order by bytes.
    const BYTE_ORDER: &'static str;

    /// How many rows a statement changed (each driver has its own result
    /// type).
    fn rows_affected(done: &Self::QueryResult) -> u64;

    /// The failed-login counters that instances on this store share, if
    /// the database keeps them (see [`crate::UserStore::shared_counters`]).
    #[must_use]
    fn shared_counters(store: &SqlStore<Self>) -> Option<Arc<dyn SharedCounters>> {
        let _ = store;
        None
    }
}

#[cfg(feature = "sqlite")]
impl sealed::Sealed for sqlx::Sqlite {}
#[cfg(feature = "postgres")]
impl sealed::Sealed for sqlx::Postgres {}

/// Users and refresh tokens in one SQL database: [`SqliteStore`] or
/// [`PgStore`], the same code over either.
///
/// Implements [`UserStore`](crate::UserStore),
/// [`RefreshTokenStore`](crate::RefreshTokenStore) and
/// [`UserAdmin`](crate::UserAdmin); clones share the pool. Scopes are
/// stored as their space-separated string form.
///
/// [`SqliteStore`]: crate::sqlite::SqliteStore
/// [`PgStore`]: crate::postgres::PgStore
pub struct SqlStore<DB: Database> {
    pool: Pool<DB>,
}

impl<DB: Database> Clone for SqlStore<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
        }
    }
}

impl<DB: Database> std::fmt::Debug for SqlStore<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("pool", &self.pool)
            .finish()
    }
}

impl<DB: Database> SqlStore<DB> {
    /// Wraps a pool whose database has been migrated (see
    /// [`crate::sqlite::migrate`] and [`crate::postgres::migrate`]).
    #[must_use]
    pub fn new(pool: Pool<DB>) -> Self {
        Self { pool }
    }

    /// The underlying pool, for an application's own tables.
    #[must_use]
    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }
}

/// A database's connection, as transactions lend it.
type Connection<DB> = <DB as Database>::Connection;

// The same bounds stand on each generic `impl` of the SQL store: what sqlx
// needs to run a query, bind its parameters and decode its columns on any
// database. `SQLite` and PostgreSQL meet them; Rust does not carry them
// from one `impl` to another, so each states them.
impl<DB> SqlStore<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> bool: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Decode<'q, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    /// A write transaction (see [`Dialect::BEGIN`]); dropped without
    /// commit, it rolls back.
    pub(crate) async fn begin(&self) -> Result<sqlx::Transaction<'static, DB>, StoreError> {
        self.pool
            .begin_with(DB::BEGIN)
            .await
            .map_err(StoreError::backend)
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
        count_from_sql("refresh_tokens", count)
    }

    /// Deletes refresh tokens that expired at or before `now` (seconds
    /// since the Unix epoch); returns how many were deleted.
    ///
    /// Housekeeping only: expired tokens are refused whether or not they are
    /// still stored.
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
        Ok(DB::rows_affected(&result))
    }

    /// Adds a token unless its family is revoked: creates the family's row
    /// with the first token (the login), extends its end if need be, and
    /// (an upsert locks the row whether it inserts or updates) holds the
    /// family until the transaction ends.
    async fn add_token(
        conn: &mut Connection<DB>,
        record: &RefreshTokenRecord,
    ) -> Result<(), StoreError> {
        let family_end = record.family_expires_at.max(record.expires_at);
        let revoked: bool = sqlx::query_scalar(&format!(
            "INSERT INTO refresh_families (family_id, username, created_at, expires_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (family_id) DO UPDATE \
             SET expires_at = {}(refresh_families.expires_at, excluded.expires_at) \
             RETURNING revoked",
            DB::GREATEST
        ))
        .bind(record.family_id.as_str())
        .bind(record.username.as_str())
        .bind(to_sql_int("issued_at", record.issued_at)?)
        .bind(to_sql_int("family_expires_at", family_end)?)
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
        .bind(record.family_id.as_str())
        .bind(record.username.as_str())
        .bind(record.client_id.as_str())
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

    /// A token, read on `conn` (inside a transaction: under its locks).
    async fn find_in(
        conn: &mut Connection<DB>,
        token_hash: &TokenHash,
    ) -> Result<Option<RefreshTokenRecord>, StoreError> {
        let row: Option<TokenRow> = sqlx::query_as(&format!(
            "SELECT {TOKEN_COLUMNS} FROM refresh_tokens WHERE token_hash = $1"
        ))
        .bind(&token_hash[..])
        .fetch_optional(&mut *conn)
        .await
        .map_err(StoreError::backend)?;
        row.map(token_from_row).transpose()
    }

    /// Locks a family's row until the transaction ends; `Some(revoked)`, or
    /// `None` if the family has no row (never existed, or pruned).
    async fn lock_family(
        conn: &mut Connection<DB>,
        family_id: &str,
    ) -> Result<Option<bool>, StoreError> {
        sqlx::query_scalar(&format!(
            "SELECT revoked FROM refresh_families WHERE family_id = $1{}",
            DB::FOR_UPDATE
        ))
        .bind(family_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(StoreError::backend)
    }

    /// Locks every family row of `username`, in one order (by id), so two
    /// transactions doing this never deadlock, and waits for rotations in
    /// progress to commit. Lock order everywhere: the user's row, then
    /// family rows, then token rows.
    async fn lock_user_families(
        conn: &mut Connection<DB>,
        username: &str,
    ) -> Result<(), StoreError> {
        if DB::FOR_UPDATE.is_empty() {
            return Ok(());
        }
        sqlx::query(&format!(
            "SELECT family_id FROM refresh_families WHERE username = $1 \
             ORDER BY family_id{}",
            DB::FOR_UPDATE
        ))
        .bind(username)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::backend)?;
        Ok(())
    }

    /// Marks a family and its tokens revoked. The first statement takes
    /// the family's lock (waiting for a rotation in progress to commit), so
    /// the second sees its successor.
    async fn revoke_family_in(
        conn: &mut Connection<DB>,
        family_id: &str,
    ) -> Result<(), StoreError> {
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

    /// Revokes every family of `username`; returns how many had an active
    /// token.
    async fn revoke_user_in(conn: &mut Connection<DB>, username: &str) -> Result<u64, StoreError> {
        Self::lock_user_families(conn, username).await?;
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
            "UPDATE refresh_tokens SET state = 'revoked' \
             WHERE username = $1 AND state <> 'revoked'",
        )
        .bind(username)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::backend)?;
        Ok(u64::try_from(live).unwrap_or(0))
    }

    /// Bounded housekeeping after a write at time `now`: the family keeps
    /// its newest [`MAX_FAMILY_TOKENS`] tokens, and at most [`PRUNE_BATCH`]
    /// expired tokens and families are deleted. Rows other transactions
    /// hold are skipped ([`Dialect::SKIP_LOCKED`]).
    async fn prune(conn: &mut Connection<DB>, family_id: &str, now: u64) -> Result<(), StoreError> {
        let cap = i64::try_from(MAX_FAMILY_TOKENS).unwrap_or(i64::MAX);
        let batch = i64::try_from(PRUNE_BATCH).unwrap_or(i64::MAX);
        let now = to_sql_int("now", now)?;
        let skip_locked = DB::SKIP_LOCKED;
        sqlx::query(&format!(
            "DELETE FROM refresh_tokens WHERE token_hash IN \
             (SELECT token_hash FROM refresh_tokens WHERE family_id = $1 AND state <> 'active' \
              AND token_hash NOT IN (SELECT token_hash FROM refresh_tokens WHERE family_id = $1 \
                                     ORDER BY issued_at DESC, {} DESC LIMIT $2){skip_locked})",
            DB::INSERTION_ORDER
        ))
        .bind(family_id)
        .bind(cap)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::backend)?;
        sqlx::query(&format!(
            "DELETE FROM refresh_tokens WHERE token_hash IN \
             (SELECT token_hash FROM refresh_tokens WHERE expires_at <= $1 LIMIT $2{skip_locked})"
        ))
        .bind(now)
        .bind(batch)
        .execute(&mut *conn)
        .await
        .map_err(StoreError::backend)?;
        // A family is remembered until its absolute end, then forgotten
        // with any token left (none can be valid by then).
        let ended: Vec<String> = sqlx::query_scalar(&format!(
            "DELETE FROM refresh_families WHERE family_id IN \
             (SELECT family_id FROM refresh_families WHERE expires_at <= $1 \
              LIMIT $2{skip_locked}) \
             RETURNING family_id"
        ))
        .bind(now)
        .bind(batch)
        .fetch_all(&mut *conn)
        .await
        .map_err(StoreError::backend)?;
        for family_id in &ended {
            sqlx::query(&format!(
                "DELETE FROM refresh_tokens WHERE token_hash IN \
                 (SELECT token_hash FROM refresh_tokens WHERE family_id = $1{skip_locked})"
            ))
            .bind(family_id.as_str())
            .execute(&mut *conn)
            .await
            .map_err(StoreError::backend)?;
        }
        Ok(())
    }
}
