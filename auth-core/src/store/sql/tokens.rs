//! [`RefreshTokenStore`] for [`SqlStore`]: every write to a family's
//! tokens runs in one transaction that holds the family's row (locked on
//! PostgreSQL, the whole database on `SQLite`), so rotations and
//! revocations of one family never interleave.

use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::encode::{FAMILY_COLUMNS, TOKEN_COLUMNS, TokenRow, family_from_row, token_from_row};
use super::{Dialect, SqlStore, to_sql_int};
use crate::store::{
    FamilyRecord, RefreshState, RefreshTokenRecord, RefreshTokenStore, RotateOutcome, StoreError,
    TokenHash,
};

// The bounds of `SqlStore`'s other `impl`s (see `sql/mod.rs`).
#[rocket::async_trait]
impl<DB> RefreshTokenStore for SqlStore<DB>
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
    async fn insert(&self, record: RefreshTokenRecord) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        Self::add_token(&mut tx, &record).await?;
        Self::prune(&mut tx, &record.family_id, record.issued_at).await?;
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
        let revoked = Self::lock_family(&mut tx, &family).await?;
        let consumed = if revoked == Some(false) {
            let done = sqlx::query(
                "UPDATE refresh_tokens SET state = 'used' \
                 WHERE token_hash = $1 AND state = 'active'",
            )
            .bind(&old[..])
            .execute(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
            DB::rows_affected(&done) == 1
        } else {
            false
        };
        if !consumed {
            // Read under the family lock: used (a replay), or revoked,
            // pruned or never active.
            let record = Self::find_in(&mut tx, old).await?;
            return Ok(match record {
                Some(record) if record.state == RefreshState::Used => RotateOutcome::Reused(record),
                _ => RotateOutcome::Refused,
            });
        }
        match Self::add_token(&mut tx, &successor).await {
            Ok(()) => {}
            // A successor named into another, revoked family.
            Err(StoreError::Conflict { .. }) if successor.family_id != family => {
                return Ok(RotateOutcome::Refused);
            }
            Err(e) => return Err(e),
        }
        Self::prune(&mut tx, &successor.family_id, successor.issued_at).await?;
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(RotateOutcome::Rotated)
    }

    async fn consume(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<RefreshTokenRecord>, StoreError> {
        // One statement: the row lock (PostgreSQL) or the database's write
        // lock (`SQLite`) makes exactly one of any number of concurrent
        // callers match `state = 'active'`. `fetch_all` steps the statement
        // to completion, so on `SQLite` its implicit transaction ends
        // before this returns.
        let mut rows: Vec<TokenRow> = sqlx::query_as(&format!(
            "UPDATE refresh_tokens SET state = 'used' \
             WHERE token_hash = $1 AND state = 'active' RETURNING {TOKEN_COLUMNS}"
        ))
        .bind(&token_hash[..])
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        if let Some(row) = rows.pop() {
            // RETURNING shows the row after the update; before it, the token
            // was active, or the WHERE clause would not have matched.
            let mut record = token_from_row(row)?;
            record.state = RefreshState::Active;
            return Ok(Some(record));
        }
        // Unknown, or already used or revoked: states never return to
        // active, so reading it now is as good as reading it before.
        self.find(token_hash).await
    }

    async fn revoke_family(&self, family_id: &str) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        Self::revoke_family_in(&mut tx, family_id).await?;
        tx.commit().await.map_err(StoreError::backend)
    }

    async fn revoke_user(&self, username: &str) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let live = Self::revoke_user_in(&mut tx, username).await?;
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(live)
    }

    async fn find(&self, token_hash: &TokenHash) -> Result<Option<RefreshTokenRecord>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(StoreError::backend)?;
        Self::find_in(&mut conn, token_hash).await
    }

    async fn family(&self, family_id: &str) -> Result<Option<FamilyRecord>, StoreError> {
        let row = sqlx::query_as(&format!(
            "SELECT {FAMILY_COLUMNS} FROM refresh_families WHERE family_id = $1"
        ))
        .bind(family_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        row.map(family_from_row).transpose()
    }

    async fn revoke_oldest_families(
        &self,
        username: &str,
        keep: usize,
        now: u64,
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.begin().await?;
        Self::lock_user_families(&mut tx, username).await?;
        // Every live family of the user but the newest `keep`.
        let oldest: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT family_id FROM refresh_families \
             WHERE username = $1 AND NOT revoked AND expires_at > $2 \
             ORDER BY created_at DESC, {} DESC {} OFFSET $3",
            DB::INSERTION_ORDER,
            DB::NO_LIMIT
        ))
        .bind(username)
        .bind(to_sql_int("now", now)?)
        .bind(i64::try_from(keep).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await
        .map_err(StoreError::backend)?;
        for family_id in &oldest {
            Self::revoke_family_in(&mut tx, family_id).await?;
        }
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(oldest)
    }
}
