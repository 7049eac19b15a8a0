//! [`ClientStore`] for the SQL store, the same text for `SQLite` and
//! PostgreSQL. A public client's `secret_hash` is the empty byte string.

use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::{ClientRecord, ClientStore, GrantType};
use crate::scopes::Scopes;
use crate::store::StoreError;
use crate::store::sql::{Dialect, SqlStore, conflict_or_backend, to_sql_int};

const CLIENT_COLUMNS: &str = "client_id, secret_hash, grants, scopes, enabled, created_at";

type ClientRow = (String, Vec<u8>, String, String, bool, i64);

/// A stored value the toolkit cannot use; never carries the value.
#[derive(Debug, thiserror::Error)]
#[error("corrupt oauth_clients row: column `{0}` holds an invalid value")]
struct Corrupt(&'static str);

fn client_from_row(row: ClientRow) -> Result<ClientRecord, StoreError> {
    let (client_id, secret_hash, grants, scopes, enabled, created_at) = row;
    let secret_hash = match secret_hash.len() {
        0 => None,
        _ => Some(
            <[u8; 32]>::try_from(secret_hash.as_slice())
                .map_err(|_| StoreError::backend(Corrupt("secret_hash")))?,
        ),
    };
    Ok(ClientRecord {
        client_id,
        secret_hash,
        grants: GrantType::parse_list(&grants)
            .ok_or_else(|| StoreError::backend(Corrupt("grants")))?,
        scopes: Scopes::parse(&scopes).map_err(|_| StoreError::backend(Corrupt("scopes")))?,
        enabled,
        created_at: u64::try_from(created_at)
            .map_err(|_| StoreError::backend(Corrupt("created_at")))?,
    })
}

// The bounds of `SqlStore`'s other `impl`s (see `store/sql/mod.rs`).
#[rocket::async_trait]
impl<DB> ClientStore for SqlStore<DB>
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
    async fn find_client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        let row: Option<ClientRow> = sqlx::query_as(&format!(
            "SELECT {CLIENT_COLUMNS} FROM oauth_clients WHERE client_id = $1"
        ))
        .bind(client_id)
        .fetch_optional(self.pool())
        .await
        .map_err(StoreError::backend)?;
        row.map(client_from_row).transpose()
    }

    async fn create_client(&self, record: ClientRecord) -> Result<(), StoreError> {
        let secret_hash: &[u8] = record.secret_hash.as_ref().map_or(&[], |h| &h[..]);
        sqlx::query(&format!(
            "INSERT INTO oauth_clients ({CLIENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
        ))
        .bind(record.client_id.as_str())
        .bind(secret_hash)
        .bind(GrantType::join(&record.grants))
        .bind(record.scopes.to_string())
        .bind(record.enabled)
        .bind(to_sql_int("created_at", record.created_at)?)
        .execute(self.pool())
        .await
        .map_err(|e| conflict_or_backend(e, || format!("client {:?}", record.client_id)))?;
        Ok(())
    }

    async fn list_clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        let rows: Vec<ClientRow> = sqlx::query_as(&format!(
            "SELECT {CLIENT_COLUMNS} FROM oauth_clients ORDER BY client_id{}",
            DB::BYTE_ORDER
        ))
        .fetch_all(self.pool())
        .await
        .map_err(StoreError::backend)?;
        rows.into_iter().map(client_from_row).collect()
    }

    async fn set_client_enabled(&self, client_id: &str, enabled: bool) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE oauth_clients SET enabled = $1 WHERE client_id = $2")
            .bind(enabled)
            .bind(client_id)
            .execute(self.pool())
            .await
            .map_err(StoreError::backend)?;
        Ok(DB::rows_affected(&done) > 0)
    }

    async fn delete_client(&self, client_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("DELETE FROM oauth_clients WHERE client_id = $1")
            .bind(client_id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        // Its refresh tokens go with it: once the id is free, nobody may
        // redeem them under it.
        sqlx::query(
            "UPDATE refresh_families SET revoked = TRUE WHERE family_id IN \
             (SELECT family_id FROM refresh_tokens WHERE client_id = $1)",
        )
        .bind(client_id)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::backend)?;
        sqlx::query(
            "UPDATE refresh_tokens SET state = 'revoked' \
             WHERE client_id = $1 AND state <> 'revoked'",
        )
        .bind(client_id)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::backend)?;
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(DB::rows_affected(&done) > 0)
    }
}
