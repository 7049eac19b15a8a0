//! Rows to records and back: the column encodings of the `SQLite` store.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::store::sql::family_from_sql;
pub(super) use crate::store::sql::{conflict_or_backend, corrupt, state_to_sql, to_sql_int};
use crate::store::sql::{scopes_from_sql, state_from_sql, timestamp_from_sql, token_hash_from_sql};
use crate::store::{FamilyRecord, RefreshTokenRecord, StoreError, UserRecord};

fn get<'r, T>(row: &'r SqliteRow, column: &'static str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(column).map_err(StoreError::backend)
}

pub(super) fn user_from_row(row: &SqliteRow) -> Result<UserRecord, StoreError> {
    let scopes: String = get(row, "scopes")?;
    let disabled: i64 = get(row, "disabled")?;
    Ok(UserRecord {
        username: get(row, "username")?,
        password_hash: get(row, "password_hash")?,
        scopes: scopes_from_sql("users", &scopes)?,
        disabled: disabled != 0,
    })
}

pub(super) fn token_from_row(row: &SqliteRow) -> Result<RefreshTokenRecord, StoreError> {
    let hash: Vec<u8> = get(row, "token_hash")?;
    let token_hash = token_hash_from_sql(&hash)?;
    let scopes: String = get(row, "scopes")?;
    let state: String = get(row, "state")?;
    Ok(RefreshTokenRecord {
        token_hash,
        family_id: get(row, "family_id")?,
        username: get(row, "username")?,
        client_id: get(row, "client_id")?,
        scopes: scopes_from_sql("refresh_tokens", &scopes)?,
        issued_at: timestamp_from_sql("issued_at", get(row, "issued_at")?)?,
        expires_at: timestamp_from_sql("expires_at", get(row, "expires_at")?)?,
        family_expires_at: timestamp_from_sql("family_expires_at", get(row, "family_expires_at")?)?,
        state: state_from_sql(&state)?,
    })
}

pub(super) fn family_from_row(row: &SqliteRow) -> Result<FamilyRecord, StoreError> {
    let revoked: i64 = get(row, "revoked")?;
    family_from_sql(
        get(row, "family_id")?,
        get(row, "username")?,
        revoked != 0,
        get(row, "created_at")?,
        get(row, "expires_at")?,
    )
}
