//! Column encodings of the SQL store, the same for `SQLite` and
//! PostgreSQL: records to bound parameters, and rows (read as tuples of
//! columns) back to records.

use crate::scopes::Scopes;
use crate::store::{FamilyRecord, RefreshState, RefreshTokenRecord, StoreError, UserRecord};

/// The columns of a user, as [`UserRow`] holds them.
pub(super) const USER_COLUMNS: &str = "username, password_hash, scopes, disabled";

/// A user's row: [`USER_COLUMNS`].
pub(super) type UserRow = (String, String, String, bool);

/// The columns of a refresh token, as [`TokenRow`] holds them.
pub(super) const TOKEN_COLUMNS: &str = "token_hash, family_id, username, client_id, scopes, \
                                        issued_at, expires_at, family_expires_at, state";

/// A refresh token's row: [`TOKEN_COLUMNS`].
pub(super) type TokenRow = (
    Vec<u8>,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    String,
);

/// The columns of a family, as [`FamilyRow`] holds them.
pub(super) const FAMILY_COLUMNS: &str = "family_id, username, revoked, created_at, expires_at";

/// A family's row: [`FAMILY_COLUMNS`].
pub(super) type FamilyRow = (String, String, bool, i64, i64);

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

fn token_hash_from_sql(stored: &[u8]) -> Result<crate::store::TokenHash, StoreError> {
    stored.try_into().map_err(|_| {
        corrupt(
            "refresh_tokens",
            "token_hash",
            format!("{} bytes instead of 32", stored.len()),
        )
    })
}

pub(super) fn count_from_sql(table: &'static str, stored: i64) -> Result<u64, StoreError> {
    u64::try_from(stored).map_err(|_| corrupt(table, "count", "negative row count"))
}

pub(super) fn user_from_row(row: UserRow) -> Result<UserRecord, StoreError> {
    let (username, password_hash, scopes, disabled) = row;
    Ok(UserRecord {
        username,
        password_hash,
        scopes: scopes_from_sql("users", &scopes)?,
        disabled,
    })
}

pub(super) fn token_from_row(row: TokenRow) -> Result<RefreshTokenRecord, StoreError> {
    let (hash, family_id, username, client_id, scopes, issued_at, expires_at, family_end, state) =
        row;
    Ok(RefreshTokenRecord {
        token_hash: token_hash_from_sql(&hash)?,
        family_id,
        username,
        client_id,
        scopes: scopes_from_sql("refresh_tokens", &scopes)?,
        issued_at: timestamp_from_sql("issued_at", issued_at)?,
        expires_at: timestamp_from_sql("expires_at", expires_at)?,
        family_expires_at: timestamp_from_sql("family_expires_at", family_end)?,
        state: state_from_sql(&state)?,
    })
}

pub(super) fn family_from_row(row: FamilyRow) -> Result<FamilyRecord, StoreError> {
    let (family_id, username, revoked, created_at, expires_at) = row;
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
