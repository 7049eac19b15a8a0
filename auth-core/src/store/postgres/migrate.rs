//! The toolkit's tables, and running migrations beside an application's own.

use sqlx::migrate::Migrator;
use sqlx::postgres::PgPool;

use crate::store::StoreError;

/// The toolkit's own PostgreSQL migrations: `users`, `refresh_families` and
/// `refresh_tokens`.
///
/// Versions `1..=999` are reserved for the toolkit; applications sharing the
/// database number theirs from `1001`. Prefer [`migrate`], which tolerates
/// the application's versions in the same database.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations-postgres");

/// Creates or updates the toolkit's tables, leaving other migrations alone.
///
/// Safe to call on every start, and from several processes at once (sqlx
/// holds an advisory lock while it migrates).
///
/// # Example
///
/// ```no_run
/// # async fn start(pool: sqlx::PgPool) -> Result<(), auth_core::StoreError> {
/// auth_core::postgres::migrate(&pool).await?;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
///
/// [`StoreError::Backend`] if the database cannot be reached, a migration
/// fails, or an applied toolkit migration differs from the one compiled in.
pub async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    run_migrator(pool, sqlx::migrate!("./migrations-postgres")).await
}

/// Runs an application's own migrations in the database the toolkit's
/// tables live in, ignoring versions applied by the other migrator.
///
/// # Example
///
/// ```no_run
/// # async fn start(pool: sqlx::PgPool) -> Result<(), auth_core::StoreError> {
/// auth_core::postgres::migrate(&pool).await?;
/// auth_core::postgres::run_migrator(&pool, sqlx::migrate!("./migrations-postgres")).await?;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
///
/// [`StoreError::Backend`] if the database cannot be reached, a migration
/// fails, or an applied migration differs from the one compiled in.
pub async fn run_migrator(pool: &PgPool, mut migrator: Migrator) -> Result<(), StoreError> {
    migrator.set_ignore_missing(true);
    migrator.run(pool).await.map_err(StoreError::backend)
}
