//! [`UserStore`] and [`UserAdmin`] for [`SqlStore`]. A change that ends a
//! user's sessions revokes them in the same transaction.

use std::sync::Arc;

use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::encode::{USER_COLUMNS, UserRow, count_from_sql, user_from_row};
use super::{Dialect, SqlStore, conflict_or_backend};
use crate::scopes::Scopes;
use crate::store::counters::SharedCounters;
use crate::store::{RefreshTokenStore, StoreError, UserAdmin, UserRecord, UserStore};

// The bounds of `SqlStore`'s other `impl`s (see `sql/mod.rs`).
#[rocket::async_trait]
impl<DB> UserStore for SqlStore<DB>
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
    async fn find_user(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        row.map(user_from_row).transpose()
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

    fn shared_counters(&self) -> Option<Arc<dyn SharedCounters>> {
        DB::shared_counters(self)
    }

    fn clients(&self) -> Option<Arc<dyn crate::store::ClientStore>> {
        Some(Arc::new(self.clone()))
    }
}

#[rocket::async_trait]
impl<DB> UserAdmin for SqlStore<DB>
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
    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let rows: Vec<UserRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY username{}",
            DB::BYTE_ORDER
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        rows.into_iter().map(user_from_row).collect()
    }

    async fn count_users(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        count_from_sql("users", count)
    }

    async fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        scopes: &Scopes,
        disabled: bool,
    ) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO users ({USER_COLUMNS}) VALUES ($1, $2, $3, $4)"
        ))
        .bind(username)
        .bind(password_hash)
        .bind(scopes.to_string())
        .bind(disabled)
        .execute(&self.pool)
        .await
        .map_err(|e| conflict_or_backend(e, || format!("user {username:?}")))?;
        Ok(())
    }

    async fn set_disabled(&self, username: &str, disabled: bool) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let result = sqlx::query("UPDATE users SET disabled = $1 WHERE username = $2")
            .bind(disabled)
            .bind(username)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        if disabled {
            Self::revoke_user_in(&mut tx, username).await?;
        }
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(DB::rows_affected(&result) > 0)
    }

    async fn set_password(&self, username: &str, password_hash: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let result = sqlx::query("UPDATE users SET password_hash = $1 WHERE username = $2")
            .bind(password_hash)
            .bind(username)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        Self::revoke_user_in(&mut tx, username).await?;
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(DB::rows_affected(&result) > 0)
    }

    async fn set_scopes(&self, username: &str, scopes: &Scopes) -> Result<bool, StoreError> {
        let result = sqlx::query("UPDATE users SET scopes = $1 WHERE username = $2")
            .bind(scopes.to_string())
            .bind(username)
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(DB::rows_affected(&result) > 0)
    }

    async fn revoke_sessions(&self, username: &str) -> Result<u64, StoreError> {
        self.revoke_user(username).await
    }

    async fn delete_user(&self, username: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let result = sqlx::query("DELETE FROM users WHERE username = $1")
            .bind(username)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        // Waits for rotations in progress; later ones find no family.
        Self::lock_user_families(&mut tx, username).await?;
        for table in ["refresh_families", "refresh_tokens"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE username = $1"))
                .bind(username)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::backend)?;
        }
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(DB::rows_affected(&result) > 0)
    }
}
