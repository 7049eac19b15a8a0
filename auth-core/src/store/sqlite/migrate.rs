//! The toolkit's tables, and running migrations beside an application's own.

use std::future::Future;
use std::pin::Pin;

use sqlx::error::BoxDynError;
use sqlx::migrate::{MigrateError, Migration, MigrationSource, Migrator};
use sqlx::sqlite::SqlitePool;

use super::startup::retry;
use crate::store::StoreError;

/// The toolkit's own migrations: the `users` and `refresh_tokens` tables.
///
/// Versions `1..=999` are reserved for the toolkit; applications sharing the
/// database number theirs from `1001`. Prefer [`migrate`], which runs these
/// migrations while tolerating the application's versions in the same
/// database; `MIGRATOR.run(&pool)` alone fails with `VersionMissing` once an
/// application migration has been applied.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Creates or updates the toolkit's tables, leaving other migrations alone.
///
/// Runs [`MIGRATOR`] with sqlx's `ignore_missing` set, so versions applied by
/// an application's own migrator in the same database are not an error. Safe
/// to call on every start: applied migrations are skipped. Also safe when
/// several processes start on one new file at once: a migration that lost
/// the race is rolled back and the run retried (a few times, under a second
/// in all).
///
/// # Example
///
/// ```
/// # rocket::async_test(async {
/// let pool = auth_core::sqlite::open("sqlite::memory:").await?;
/// auth_core::sqlite::migrate(&pool).await?;
/// auth_core::sqlite::migrate(&pool).await?; // a no-op the second time
/// # Ok::<(), auth_core::StoreError>(())
/// # }).unwrap();
/// ```
///
/// # Errors
///
/// [`StoreError::Backend`] if the database cannot be reached, a migration
/// fails, or an applied toolkit migration differs from the one compiled in.
pub async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    let migrator = Migrator::new(FixedMigrations(MIGRATOR.iter().cloned().collect()))
        .await
        .map_err(StoreError::backend)?;
    run_migrator(pool, migrator).await
}

/// Runs an application's own migrations in the database the toolkit's
/// tables live in, with the same rules as [`migrate`]: versions applied by
/// the other migrator are ignored, and a run that collided with another
/// process starting on the same new file is retried.
///
/// # Example
///
/// ```no_run
/// # async fn start(pool: sqlx::SqlitePool) -> Result<(), auth_core::StoreError> {
/// auth_core::sqlite::migrate(&pool).await?;
/// auth_core::sqlite::run_migrator(&pool, sqlx::migrate!("./migrations")).await?;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
///
/// [`StoreError::Backend`] if the database cannot be reached, a migration
/// fails, or an applied migration differs from the one compiled in.
pub async fn run_migrator(pool: &SqlitePool, mut migrator: Migrator) -> Result<(), StoreError> {
    migrator.set_ignore_missing(true);
    // sqlx takes no migration lock on SQLite, so two processes starting on
    // one new file may both apply a version. Each migration runs in its own
    // transaction, so the loser rolled back cleanly; the next run sees the
    // winner's work and skips it.
    retry(|| migrator.run(pool), is_database_error)
        .await
        .map_err(StoreError::backend)
}

/// Whether a migration failed inside the database (possibly a race with
/// another migrator), as opposed to a changed or missing migration.
fn is_database_error(error: &MigrateError) -> bool {
    matches!(
        error,
        MigrateError::Execute(sqlx::Error::Database(_))
            | MigrateError::ExecuteMigration(sqlx::Error::Database(_), _)
    )
}
/// Migrations already in memory, as a source for [`Migrator::new`].
#[derive(Debug)]
pub(super) struct FixedMigrations(pub(super) Vec<Migration>);

impl MigrationSource<'static> for FixedMigrations {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 'static>> {
        Box::pin(std::future::ready(Ok(self.0)))
    }
}
