//! [`ApiKeyStore`] for [`SqlStore`], on `SQLite` and PostgreSQL alike: the
//! `api_keys` table (migrations `0006_api_keys.sql` and, for PostgreSQL,
//! `0007_api_keys.sql`). A key's row goes with its owner's (`ON DELETE
//! CASCADE`), so a user created again under the same name gets none of the
//! old keys.

use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::{ApiKeyRecord, ApiKeyStore};
use crate::scopes::Scopes;
use crate::store::sql::{Dialect, SqlStore, conflict_or_backend, to_sql_int};
use crate::store::{StoreError, TokenHash};

/// The columns of a key, as [`KeyRow`] holds them.
const KEY_COLUMNS: &str =
    "id, key_hash, username, name, scopes, created_at, expires_at, revoked_at";

/// A key's row: [`KEY_COLUMNS`].
type KeyRow = (
    String,
    Vec<u8>,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
);

/// A stored key the toolkit cannot use. Never carries the value itself.
#[derive(Debug, thiserror::Error)]
#[error("corrupt api_keys row: column `{column}` holds {problem}")]
struct Corrupt {
    column: &'static str,
    problem: &'static str,
}

fn corrupt(column: &'static str, problem: &'static str) -> StoreError {
    StoreError::backend(Corrupt { column, problem })
}

fn time_from_sql(column: &'static str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| corrupt(column, "a negative time"))
}

fn key_from_row(row: KeyRow) -> Result<ApiKeyRecord, StoreError> {
    let (id, hash, username, name, scopes, created_at, expires_at, revoked_at) = row;
    let key_hash: TokenHash = hash
        .try_into()
        .map_err(|_| corrupt("key_hash", "a hash that is not 32 bytes"))?;
    let scopes = Scopes::parse(&scopes).map_err(|_| corrupt("scopes", "an invalid scope"))?;
    Ok(ApiKeyRecord::new(
        id,
        key_hash,
        username,
        name,
        scopes,
        time_from_sql("created_at", created_at)?,
        expires_at
            .map(|t| time_from_sql("expires_at", t))
            .transpose()?,
        revoked_at
            .map(|t| time_from_sql("revoked_at", t))
            .transpose()?,
    ))
}

// The bounds of `SqlStore`'s other `impl`s (see `sql/mod.rs`), and one
// more: the optional times.
#[rocket::async_trait]
impl<DB> ApiKeyStore for SqlStore<DB>
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
    for<'q> Option<i64>: Encode<'q, DB>,
{
    async fn insert_api_key(&self, record: ApiKeyRecord) -> Result<(), StoreError> {
        let expires_at = record
            .expires_at
            .map(|t| to_sql_int("expires_at", t))
            .transpose()?;
        let revoked_at = record
            .revoked_at
            .map(|t| to_sql_int("revoked_at", t))
            .transpose()?;
        sqlx::query(&format!(
            "INSERT INTO api_keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(record.id.as_str())
        .bind(&record.key_hash[..])
        .bind(record.username.as_str())
        .bind(record.name.as_str())
        .bind(record.scopes.to_string())
        .bind(to_sql_int("created_at", record.created_at)?)
        .bind(expires_at)
        .bind(revoked_at)
        .execute(self.pool())
        .await
        .map_err(|e| conflict_or_backend(e, || format!("API key {:?}", record.id)))?;
        Ok(())
    }

    async fn find_api_key(&self, key_hash: &TokenHash) -> Result<Option<ApiKeyRecord>, StoreError> {
        let row: Option<KeyRow> = sqlx::query_as(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = $1"
        ))
        .bind(&key_hash[..])
        .fetch_optional(self.pool())
        .await
        .map_err(StoreError::backend)?;
        row.map(key_from_row).transpose()
    }

    async fn list_api_keys(&self, username: Option<&str>) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let order = format!("ORDER BY username{}, created_at, id", DB::BYTE_ORDER);
        let rows: Vec<KeyRow> = match username {
            Some(username) => {
                sqlx::query_as(&format!(
                    "SELECT {KEY_COLUMNS} FROM api_keys WHERE username = $1 {order}"
                ))
                .bind(username)
                .fetch_all(self.pool())
                .await
            }
            None => {
                sqlx::query_as(&format!("SELECT {KEY_COLUMNS} FROM api_keys {order}"))
                    .fetch_all(self.pool())
                    .await
            }
        }
        .map_err(StoreError::backend)?;
        rows.into_iter().map(key_from_row).collect()
    }

    async fn revoke_api_key(&self, id: &str, now: u64) -> Result<Option<ApiKeyRecord>, StoreError> {
        let row: Option<KeyRow> = sqlx::query_as(&format!(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 \
             RETURNING {KEY_COLUMNS}"
        ))
        .bind(id)
        .bind(to_sql_int("now", now)?)
        .fetch_optional(self.pool())
        .await
        .map_err(StoreError::backend)?;
        row.map(key_from_row).transpose()
    }
}
