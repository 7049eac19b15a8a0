//! Column encodings shared by the SQL stores (`SQLite` and PostgreSQL).

use crate::scopes::Scopes;
use crate::store::{FamilyRecord, RefreshState, StoreError};

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
    /// A timestamp too large for a signed 64-bit SQL integer.
    #[error("`{field}` does not fit in a signed 64-bit integer")]
    OutOfRange { field: &'static str },
}

pub(crate) fn corrupt(
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
pub(crate) fn conflict_or_backend(error: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict { what: what() }
        }
        _ => StoreError::backend(error),
    }
}

pub(crate) fn to_sql_int(field: &'static str, value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::backend(DataError::OutOfRange { field }))
}

pub(crate) fn scopes_from_sql(table: &'static str, stored: &str) -> Result<Scopes, StoreError> {
    Scopes::parse(stored).map_err(|e| corrupt(table, "scopes", format!("an invalid scope: {e}")))
}

pub(crate) fn timestamp_from_sql(column: &'static str, stored: i64) -> Result<u64, StoreError> {
    u64::try_from(stored).map_err(|_| corrupt("refresh_tokens", column, "a negative timestamp"))
}

pub(crate) fn state_to_sql(state: RefreshState) -> &'static str {
    match state {
        RefreshState::Active => "active",
        RefreshState::Used => "used",
        RefreshState::Revoked => "revoked",
    }
}

pub(crate) fn state_from_sql(stored: &str) -> Result<RefreshState, StoreError> {
    match stored {
        "active" => Ok(RefreshState::Active),
        "used" => Ok(RefreshState::Used),
        "revoked" => Ok(RefreshState::Revoked),
        _ => Err(corrupt("refresh_tokens", "state", "an unknown state")),
    }
}

pub(crate) fn token_hash_from_sql(stored: &[u8]) -> Result<crate::store::TokenHash, StoreError> {
    stored.try_into().map_err(|_| {
        corrupt(
            "refresh_tokens",
            "token_hash",
            format!("{} bytes instead of 32", stored.len()),
        )
    })
}

/// A family from its stored columns (times as SQL integers).
pub(crate) fn family_from_sql(
    family_id: String,
    username: String,
    revoked: bool,
    created_at: i64,
    expires_at: i64,
) -> Result<FamilyRecord, StoreError> {
    let time = |column, stored: i64| {
        u64::try_from(stored)
            .map_err(|_| corrupt("refresh_families", column, "a negative timestamp"))
    };
    Ok(FamilyRecord::new(
        family_id,
        username,
        revoked,
        time("created_at", created_at)?,
        time("expires_at", expires_at)?,
    ))
}
