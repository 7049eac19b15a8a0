//! Rows to records and back: the column encodings of the `SQLite` store.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::scopes::Scopes;
use crate::store::{RefreshState, RefreshTokenRecord, StoreError, TokenHash, UserRecord};

/// A stored value the toolkit cannot use. Never carries the value itself.
#[derive(Debug, thiserror::Error)]
enum DataError {
    /// A column holds something its type does not allow.
    #[error("corrupt {table} row: column `{column}` holds {problem}")]
    Corrupt {
        table: &'static str,
        column: &'static str,
        problem: String,
    },
    /// A timestamp too large for `SQLite`'s signed 64-bit integers.
    #[error("`{field}` does not fit in a sqlite integer")]
    OutOfRange { field: &'static str },
}

pub(super) fn corrupt(
    table: &'static str,
    column: &'static str,
    problem: impl Into<String>,
) -> StoreError {
    StoreError::backend(DataError::Corrupt {
        table,
        column,
        problem: problem.into(),
    })
}

/// `Conflict` for a unique-constraint violation, `Backend` otherwise.
pub(super) fn conflict_or_backend(error: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict { what: what() }
        }
        _ => StoreError::backend(error),
    }
}

pub(super) fn to_sql_int(field: &'static str, value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::backend(DataError::OutOfRange { field }))
}

fn get<'r, T>(row: &'r SqliteRow, column: &'static str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(column).map_err(StoreError::backend)
}

fn scopes_from_sql(table: &'static str, stored: &str) -> Result<Scopes, StoreError> {
    Scopes::parse(stored).map_err(|e| corrupt(table, "scopes", format!("an invalid scope: {e}")))
}

fn timestamp_from_sql(column: &'static str, stored: i64) -> Result<u64, StoreError> {
    u64::try_from(stored).map_err(|_| corrupt("refresh_tokens", column, "a negative timestamp"))
}

pub(super) fn state_to_sql(state: RefreshState) -> &'static str {
    match state {
        RefreshState::Active => "active",
        RefreshState::Used => "used",
        RefreshState::Revoked => "revoked",
    }
}

fn state_from_sql(stored: &str) -> Result<RefreshState, StoreError> {
    match stored {
        "active" => Ok(RefreshState::Active),
        "used" => Ok(RefreshState::Used),
        "revoked" => Ok(RefreshState::Revoked),
        _ => Err(corrupt("refresh_tokens", "state", "an unknown state")),
    }
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
    let token_hash = TokenHash::try_from(hash.as_slice()).map_err(|_| {
        corrupt(
            "refresh_tokens",
            "token_hash",
            format!("{} bytes instead of 32", hash.len()),
        )
    })?;
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
