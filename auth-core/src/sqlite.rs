//! `SQLite` implementations of [`UserStore`] and [`RefreshTokenStore`], behind
//! the `sqlite` cargo feature.
//!
//! One [`SqliteStore`] serves both traits from one database. Open a pool with
//! [`open`] (async) or [`open_lazy`] (sync, for a Rocket built outside a
//! runtime), create the tables with [`migrate`], then wrap the pool with
//! [`SqliteStore::new`]; [`SqliteStore::connect`] does all three.
//!
//! # Sharing the database with application migrations
//!
//! The toolkit's migrations use versions `1..=999` (see [`MIGRATOR`]). An
//! application that keeps its own tables in the same database numbers its
//! migrations from `1001` up. sqlx records every applied version in one
//! `_sqlx_migrations` table, and by default a migrator refuses to run when
//! that table lists a version it does not know. So each side must ignore the
//! other's versions: [`migrate`] does this for the toolkit, and the
//! application calls `set_ignore_missing(true)` on its own migrator. The two
//! may then run in either order, on every start.
//!
//! ```no_run
//! # async fn start() -> Result<(), Box<dyn std::error::Error>> {
//! let pool = auth_core::sqlite::open("sqlite://app.db").await?;
//! auth_core::sqlite::migrate(&pool).await?;
//!
//! // The application's own migrations, numbered from 1001.
//! let mut app_migrations = sqlx::migrate!("./migrations");
//! app_migrations.set_ignore_missing(true);
//! app_migrations.run(&pool).await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Concurrency
//!
//! Every write is one statement, so `SQLite`'s own locking makes it atomic:
//! [`RefreshTokenStore::consume`] is a single conditional `UPDATE`, and of any
//! number of concurrent callers, across connections and processes, exactly one
//! sees the token `Active`. Pools from [`open`] and [`open_lazy`] use
//! write-ahead logging and wait up to ten seconds for a busy database instead
//! of failing with "database is locked".

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::time::Duration;

use sqlx::Row;
use sqlx::error::BoxDynError;
use sqlx::migrate::{MigrateError, Migration, MigrationSource, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};

use crate::scopes::Scopes;
use crate::store::{
    RefreshState, RefreshTokenRecord, RefreshTokenStore, StoreError, TokenHash, UserRecord,
    UserStore,
};

/// The toolkit's own migrations: the `users` and `refresh_tokens` tables.
///
/// Versions `1..=999` are reserved for the toolkit; applications sharing the
/// database number theirs from `1001`. Prefer [`migrate`], which runs these
/// migrations while tolerating the application's versions in the same
/// database; `MIGRATOR.run(&pool)` alone fails with `VersionMissing` once an
/// application migration has been applied.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Connections per file-backed pool.
const MAX_CONNECTIONS: u32 = 8;

/// How long a statement waits for another writer before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Tries for [`open`] and [`migrate`], which can collide with another
/// process starting on the same new database file (0.7 s of waiting in all).
const STARTUP_ATTEMPTS: u32 = 8;

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
    let mut attempt = 1;
    loop {
        match migrator.run(pool).await {
            Ok(()) => return Ok(()),
            // sqlx takes no migration lock on SQLite, so two processes
            // starting on one new file may both apply a version. Each
            // migration runs in its own transaction, so the loser rolled back
            // cleanly; the next run sees the winner's work and skips it.
            Err(error) if attempt < STARTUP_ATTEMPTS && is_database_error(&error) => {
                back_off(attempt).await;
                attempt += 1;
            }
            Err(error) => return Err(StoreError::backend(error)),
        }
    }
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

/// Whether `SQLite` refused because another connection holds a lock
/// (`SQLITE_BUSY` or `SQLITE_LOCKED`, with any extended code).
fn is_busy(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = error else {
        return false;
    };
    db.code()
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| matches!(code & 0xff, 5 | 6))
}

/// Waits a little longer after each failed start-up attempt.
async fn back_off(attempt: u32) {
    rocket::tokio::time::sleep(Duration::from_millis(25 * u64::from(attempt))).await;
}

/// Migrations already in memory, as a source for [`Migrator::new`].
#[derive(Debug)]
struct FixedMigrations(Vec<Migration>);

impl MigrationSource<'static> for FixedMigrations {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 'static>> {
        Box::pin(std::future::ready(Ok(self.0)))
    }
}

/// Parses a database URL into connection options with the toolkit's settings.
///
/// Accepts `sqlite://path` (relative or absolute), `sqlite:path` and
/// `sqlite::memory:`, with `SQLite` URI parameters such as `?mode=ro`. On top of
/// what the URL says, it sets:
///
/// * `create_if_missing`: the file is created on first use;
/// * `journal_mode = WAL`: readers do not block the writer;
/// * `synchronous = NORMAL`: durable across application crashes, and the
///   usual pairing with WAL;
/// * `foreign_keys = ON`;
/// * a busy timeout of 10 seconds, so concurrent writers wait their turn
///   instead of failing with "database is locked".
///
/// # Example
///
/// ```
/// let options = auth_core::sqlite::connect_options("sqlite://demo.db").unwrap();
/// assert_eq!(options.get_filename(), std::path::Path::new("demo.db"));
/// ```
///
/// # Errors
///
/// [`StoreError::Backend`] if the URL cannot be parsed, e.g. an unknown
/// `mode` parameter.
pub fn connect_options(url: &str) -> Result<SqliteConnectOptions, StoreError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(StoreError::backend)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT);
    Ok(options)
}

/// Opens a pool and checks that the database can be reached.
///
/// Uses [`connect_options`]. A file database gets up to 8 connections; an
/// in-memory database (`sqlite::memory:`) exists only while a connection to it
/// is open, so it gets exactly one, kept for the life of the pool. Idle
/// connections are never closed. Does not run migrations: see [`migrate`].
///
/// Two processes opening one new file at the same moment can collide while
/// the file is switched to WAL mode; `open` retries that for under a second.
///
/// # Example
///
/// ```
/// # rocket::async_test(async {
/// let pool = auth_core::sqlite::open("sqlite::memory:").await?;
/// # let _ = pool;
/// # Ok::<(), auth_core::StoreError>(())
/// # }).unwrap();
/// ```
///
/// # Errors
///
/// [`StoreError::Backend`] if the URL is invalid or the database cannot be
/// opened (missing directory, permissions, not a database file).
pub async fn open(url: &str) -> Result<SqlitePool, StoreError> {
    let options = connect_options(url)?;
    let mut attempt = 1;
    loop {
        match pool_options(url).connect_with(options.clone()).await {
            Ok(pool) => return Ok(pool),
            // Switching a new file to WAL takes a lock that the busy timeout
            // does not wait for, so two processes opening one new file at
            // once can collide; once the file is in WAL mode this cannot
            // happen.
            Err(error) if attempt < STARTUP_ATTEMPTS && is_busy(&error) => {
                back_off(attempt).await;
                attempt += 1;
            }
            Err(error) => return Err(StoreError::backend(error)),
        }
    }
}

/// Creates a pool without connecting, for code that is not async.
///
/// The same settings as [`open`], but no connection is made until the pool is
/// first used, so a bad path shows up then. It needs no async runtime to be
/// running, which suits building a Rocket in a plain `fn rocket()`: connect
/// and [`migrate`] later, e.g. in an ignite fairing.
///
/// # Example
///
/// ```
/// let pool = auth_core::sqlite::open_lazy("sqlite://demo.db").unwrap();
/// let store = auth_core::sqlite::SqliteStore::new(pool);
/// # let _ = store;
/// ```
///
/// # Errors
///
/// [`StoreError::Backend`] if the URL cannot be parsed.
pub fn open_lazy(url: &str) -> Result<SqlitePool, StoreError> {
    let options = connect_options(url)?;
    Ok(pool_options(url).connect_lazy_with(options))
}

/// Pool settings for `url`. No idle timeout, no maximum lifetime and no
/// minimum size: sqlx then spawns no maintenance task, so a lazy pool can be
/// created outside a runtime, and an in-memory database is never dropped.
fn pool_options(url: &str) -> SqlitePoolOptions {
    let max_connections = if is_in_memory(url) {
        1
    } else {
        MAX_CONNECTIONS
    };
    SqlitePoolOptions::new()
        .max_connections(max_connections)
        .min_connections(0)
        .idle_timeout(None)
        .max_lifetime(None)
}

/// Whether `url` names an in-memory database, as sqlx parses it.
fn is_in_memory(url: &str) -> bool {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    database == ":memory:" || params.split('&').any(|param| param == "mode=memory")
}

/// Users and refresh tokens in one `SQLite` database.
///
/// Implements both [`UserStore`] and [`RefreshTokenStore`]; clones share the
/// pool. Scopes are stored as their space-separated string form.
///
/// # Example
///
/// ```
/// use auth_core::sqlite::SqliteStore;
/// use auth_core::{Scopes, UserStore};
///
/// # rocket::async_test(async {
/// // In memory for the example; use "sqlite://app.db" for a file.
/// let store = SqliteStore::connect("sqlite::memory:").await?;
/// let scopes = Scopes::parse("read:items write:items")?;
/// store.create_user("alice", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", &scopes, false).await?;
///
/// let alice = store.find_user("alice").await?.expect("just created");
/// assert_eq!(alice.scopes, scopes);
/// assert_eq!(store.count_users().await?, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Wraps a pool whose database has been migrated with [`migrate`].
    #[must_use]
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }

    /// Opens `url` with [`open`], runs [`migrate`] and wraps the pool.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the database cannot be opened or migrated.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = open(url).await?;
        migrate(&pool).await?;
        Ok(Self::new(pool))
    }

    /// The underlying pool, for an application's own tables.
    #[must_use]
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Adds a user whose password is already hashed (see
    /// [`crate::PasswordHasher::hash`]).
    ///
    /// # Errors
    ///
    /// [`StoreError::Conflict`] if the username is taken,
    /// [`StoreError::Backend`] for other failures.
    pub async fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        scopes: &Scopes,
        disabled: bool,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO users (username, password_hash, scopes, disabled) \
             VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(username)
        .bind(password_hash)
        .bind(scopes.to_string())
        .bind(disabled)
        .execute(&self.pool)
        .await
        .map_err(|e| conflict_or_backend(e, || format!("user {username:?}")))?;
        Ok(())
    }

    /// Every user, ordered by username.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the query fails or a stored row is corrupt
    /// (e.g. scopes that are not valid scope-tokens).
    pub async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT username, password_hash, scopes, disabled FROM users ORDER BY username",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        rows.iter().map(user_from_row).collect()
    }

    /// How many users exist (an application seeds demo users when it is 0).
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the query fails.
    pub async fn count_users(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        u64::try_from(count).map_err(|_| corrupt("users", "count", "negative row count"))
    }

    /// Enables or disables a user; returns whether the user exists.
    ///
    /// A disabled user cannot log in, refresh, or use access tokens already
    /// issued.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the update fails.
    pub async fn set_disabled(&self, username: &str, disabled: bool) -> Result<bool, StoreError> {
        let result = sqlx::query("UPDATE users SET disabled = ?1 WHERE username = ?2")
            .bind(disabled)
            .bind(username)
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(result.rows_affected() > 0)
    }

    /// Deletes refresh tokens that expired at or before `now` (seconds since
    /// the Unix epoch); returns how many were deleted.
    ///
    /// Housekeeping only: expired tokens are refused whether or not they are
    /// still stored.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the delete fails or `now` does not fit in
    /// a `SQLite` integer.
    pub async fn delete_expired_refresh_tokens(&self, now: u64) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM refresh_tokens WHERE expires_at <= ?1")
            .bind(to_sql_int("now", now)?)
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(result.rows_affected())
    }
}

#[rocket::async_trait]
impl UserStore for SqliteStore {
    async fn find_user(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT username, password_hash, scopes, disabled FROM users WHERE username = ?1",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn set_password_hash(
        &self,
        username: &str,
        password_hash: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET password_hash = ?1 WHERE username = ?2")
            .bind(password_hash)
            .bind(username)
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }
}

#[rocket::async_trait]
impl RefreshTokenStore for SqliteStore {
    async fn insert(&self, record: RefreshTokenRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO refresh_tokens \
             (token_hash, family_id, username, client_id, scopes, issued_at, expires_at, state) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .bind(&record.token_hash[..])
        .bind(&record.family_id)
        .bind(&record.username)
        .bind(&record.client_id)
        .bind(record.scopes.to_string())
        .bind(to_sql_int("issued_at", record.issued_at)?)
        .bind(to_sql_int("expires_at", record.expires_at)?)
        .bind(state_to_sql(record.state))
        .execute(&self.pool)
        .await
        .map_err(|e| conflict_or_backend(e, || "refresh token".to_owned()))?;
        Ok(())
    }

    async fn consume(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<RefreshTokenRecord>, StoreError> {
        // One statement: SQLite serialises writers, so of any number of
        // concurrent callers exactly one matches `state = 'active'`.
        // `fetch_all` steps the statement to completion, so the autocommit
        // transaction ends before this returns.
        let mut rows = sqlx::query(
            "UPDATE refresh_tokens SET state = 'used' \
             WHERE token_hash = ?1 AND state = 'active' \
             RETURNING token_hash, family_id, username, client_id, scopes, \
                       issued_at, expires_at, state",
        )
        .bind(&token_hash[..])
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        if let Some(row) = rows.pop() {
            // RETURNING shows the row after the update; before it, the token
            // was active, or the WHERE clause would not have matched.
            let mut record = token_from_row(&row)?;
            record.state = RefreshState::Active;
            return Ok(Some(record));
        }
        // Unknown, or already used or revoked: states never return to
        // active, so reading it now is as good as reading it before.
        self.find(token_hash).await
    }

    async fn revoke_family(&self, family_id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE refresh_tokens SET state = 'revoked' WHERE family_id = ?1")
            .bind(family_id)
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }

    async fn find(&self, token_hash: &TokenHash) -> Result<Option<RefreshTokenRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT token_hash, family_id, username, client_id, scopes, \
                    issued_at, expires_at, state \
             FROM refresh_tokens WHERE token_hash = ?1",
        )
        .bind(&token_hash[..])
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        row.as_ref().map(token_from_row).transpose()
    }
}

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

fn corrupt(table: &'static str, column: &'static str, problem: impl Into<String>) -> StoreError {
    StoreError::backend(DataError::Corrupt {
        table,
        column,
        problem: problem.into(),
    })
}

/// `Conflict` for a unique-constraint violation, `Backend` otherwise.
fn conflict_or_backend(error: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict { what: what() }
        }
        _ => StoreError::backend(error),
    }
}

fn to_sql_int(field: &'static str, value: u64) -> Result<i64, StoreError> {
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

fn state_to_sql(state: RefreshState) -> &'static str {
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

fn user_from_row(row: &SqliteRow) -> Result<UserRecord, StoreError> {
    let scopes: String = get(row, "scopes")?;
    let disabled: i64 = get(row, "disabled")?;
    Ok(UserRecord {
        username: get(row, "username")?,
        password_hash: get(row, "password_hash")?,
        scopes: scopes_from_sql("users", &scopes)?,
        disabled: disabled != 0,
    })
}

fn token_from_row(row: &SqliteRow) -> Result<RefreshTokenRecord, StoreError> {
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
        state: state_from_sql(&state)?,
    })
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use rocket::tokio::sync::Barrier;
    use sqlx::migrate::MigrationType;

    use super::*;

    /// A database file in the system temp directory, deleted on drop.
    struct TempDb {
        path: PathBuf,
    }

    impl TempDb {
        fn new(name: &str) -> Self {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let unique = NEXT.fetch_add(1, Ordering::Relaxed);
            let file = format!("auth-core-sqlite-{}-{name}-{unique}.db", std::process::id());
            let db = Self {
                path: std::env::temp_dir().join(file),
            };
            db.remove_files();
            db
        }

        fn url(&self) -> String {
            format!("sqlite://{}", self.path.display())
        }

        fn remove_files(&self) {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut name = self.path.clone().into_os_string();
                name.push(suffix);
                let _ = std::fs::remove_file(Path::new(&name));
            }
        }
    }

    impl Drop for TempDb {
        fn drop(&mut self) {
            self.remove_files();
        }
    }

    async fn memory_store() -> SqliteStore {
        SqliteStore::connect("sqlite::memory:").await.unwrap()
    }

    fn scopes(list: &str) -> Scopes {
        Scopes::parse(list).unwrap()
    }

    fn token(hash: u8, family: &str) -> RefreshTokenRecord {
        RefreshTokenRecord {
            token_hash: [hash; 32],
            family_id: family.into(),
            username: "alice".into(),
            client_id: "web".into(),
            scopes: scopes("read:items write:items"),
            issued_at: 1_700_000_000,
            expires_at: 1_700_003_600,
            state: RefreshState::Active,
        }
    }

    /// A stand-in for an application's migrator, numbered from 1001.
    async fn app_migrator(ignore_missing: bool) -> Migrator {
        let migration = Migration::new(
            1001,
            "create items".into(),
            MigrationType::Simple,
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);".into(),
            false,
        );
        let mut migrator = Migrator::new(FixedMigrations(vec![migration]))
            .await
            .unwrap();
        migrator.set_ignore_missing(ignore_missing);
        migrator
    }

    async fn applied_versions(pool: &SqlitePool) -> Vec<i64> {
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(pool)
            .await
            .unwrap()
    }

    #[rocket::async_test]
    async fn users_create_find_list_count_update() {
        let store = memory_store().await;
        assert_eq!(store.count_users().await.unwrap(), 0);
        store
            .create_user("johndoe", "h1", &scopes("write:items read:items"), false)
            .await
            .unwrap();
        store
            .create_user("alice", "h2", &scopes("read:items"), true)
            .await
            .unwrap();
        store
            .create_user("admin", "h3", &Scopes::new(), false)
            .await
            .unwrap();

        let john = store.find_user("johndoe").await.unwrap().unwrap();
        assert_eq!(
            john,
            UserRecord {
                username: "johndoe".into(),
                password_hash: "h1".into(),
                scopes: scopes("read:items write:items"),
                disabled: false,
            }
        );
        assert!(store.find_user("alice").await.unwrap().unwrap().disabled);
        assert!(store.find_user("nobody").await.unwrap().is_none());
        assert!(store.find_user("JOHNDOE").await.unwrap().is_none());

        let names: Vec<String> = store
            .list_users()
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.username)
            .collect();
        assert_eq!(names, ["admin", "alice", "johndoe"]);
        assert_eq!(store.count_users().await.unwrap(), 3);
        assert!(
            store
                .find_user("admin")
                .await
                .unwrap()
                .unwrap()
                .scopes
                .is_empty()
        );

        store.set_password_hash("johndoe", "h1-new").await.unwrap();
        store.set_password_hash("nobody", "x").await.unwrap();
        let john = store.find_user("johndoe").await.unwrap().unwrap();
        assert_eq!(john.password_hash, "h1-new");

        assert!(store.set_disabled("alice", false).await.unwrap());
        assert!(!store.set_disabled("nobody", true).await.unwrap());
        assert!(!store.find_user("alice").await.unwrap().unwrap().disabled);
    }

    #[rocket::async_test]
    async fn duplicate_user_is_a_conflict() {
        let store = memory_store().await;
        store
            .create_user("alice", "h", &Scopes::new(), false)
            .await
            .unwrap();
        let err = store
            .create_user("alice", "other", &scopes("admin"), false)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Conflict { what } if what.contains("alice")),
            "{err:?}"
        );
        let alice = store.find_user("alice").await.unwrap().unwrap();
        assert_eq!(alice.password_hash, "h");
    }

    #[rocket::async_test]
    async fn corrupt_scopes_are_a_backend_error() {
        let store = memory_store().await;
        sqlx::query("INSERT INTO users (username, password_hash, scopes) VALUES ('x', 'h', ?1)")
            .bind("read:items bad\"scope")
            .execute(store.pool())
            .await
            .unwrap();
        let err = store.find_user("x").await.unwrap_err();
        assert!(matches!(err, StoreError::Backend { .. }), "{err:?}");
        assert!(err.to_string().contains("scopes"), "{err}");
        assert!(!err.to_string().contains("bad\"scope"), "{err}");
        assert!(store.list_users().await.is_err());

        store.insert(token(1, "f")).await.unwrap();
        sqlx::query("UPDATE refresh_tokens SET scopes = 'a\\b'")
            .execute(store.pool())
            .await
            .unwrap();
        assert!(store.find(&[1; 32]).await.is_err());
    }

    #[rocket::async_test]
    async fn refresh_token_roundtrip_and_duplicate() {
        let store = memory_store().await;
        let record = token(7, "family");
        store.insert(record.clone()).await.unwrap();
        assert_eq!(store.find(&[7; 32]).await.unwrap(), Some(record.clone()));
        assert!(store.find(&[8; 32]).await.unwrap().is_none());
        let err = store.insert(record).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    }

    #[rocket::async_test]
    async fn consume_marks_active_used_exactly_once() {
        let store = memory_store().await;
        store.insert(token(1, "f")).await.unwrap();

        let first = store.consume(&[1; 32]).await.unwrap().unwrap();
        assert_eq!(first, token(1, "f"));
        assert_eq!(first.state, RefreshState::Active);

        let second = store.consume(&[1; 32]).await.unwrap().unwrap();
        assert_eq!(second.state, RefreshState::Used);
        let third = store.consume(&[1; 32]).await.unwrap().unwrap();
        assert_eq!(third.state, RefreshState::Used);
        assert_eq!(
            store.find(&[1; 32]).await.unwrap().unwrap().state,
            RefreshState::Used
        );

        assert!(store.consume(&[2; 32]).await.unwrap().is_none());
    }

    #[rocket::async_test]
    async fn revoke_family_touches_only_that_family() {
        let store = memory_store().await;
        store.insert(token(1, "f")).await.unwrap();
        store.insert(token(2, "f")).await.unwrap();
        store.insert(token(3, "g")).await.unwrap();
        store.consume(&[1; 32]).await.unwrap();

        store.revoke_family("f").await.unwrap();
        store.revoke_family("unknown").await.unwrap();

        for (hash, state) in [
            (1, RefreshState::Revoked),
            (2, RefreshState::Revoked),
            (3, RefreshState::Active),
        ] {
            let found = store.find(&[hash; 32]).await.unwrap().unwrap();
            assert_eq!(found.state, state, "token {hash}");
        }
        let revoked = store.consume(&[2; 32]).await.unwrap().unwrap();
        assert_eq!(revoked.state, RefreshState::Revoked);
        assert_eq!(
            store.find(&[2; 32]).await.unwrap().unwrap().state,
            RefreshState::Revoked
        );
    }

    #[rocket::async_test]
    async fn delete_expired_keeps_live_tokens() {
        let store = memory_store().await;
        let mut old = token(1, "f");
        old.expires_at = 100;
        let mut edge = token(2, "f");
        edge.expires_at = 200;
        let mut live = token(3, "f");
        live.expires_at = 201;
        for record in [old, edge, live] {
            store.insert(record).await.unwrap();
        }
        assert_eq!(store.delete_expired_refresh_tokens(200).await.unwrap(), 2);
        assert!(store.find(&[1; 32]).await.unwrap().is_none());
        assert!(store.find(&[2; 32]).await.unwrap().is_none());
        assert!(store.find(&[3; 32]).await.unwrap().is_some());
        assert!(store.delete_expired_refresh_tokens(u64::MAX).await.is_err());
    }

    #[rocket::async_test]
    async fn concurrent_consumers_see_active_exactly_once() {
        const TOKENS: u8 = 8;
        const CONSUMERS_PER_POOL: usize = 12;

        let db = TempDb::new("race");
        let first = SqliteStore::connect(&db.url()).await.unwrap();
        // A second pool on the same file: separate connections, as another
        // process would have.
        let second = SqliteStore::connect(&db.url()).await.unwrap();
        for hash in 0..TOKENS {
            first.insert(token(hash, "f")).await.unwrap();
        }

        for hash in 0..TOKENS {
            let barrier = Arc::new(Barrier::new(2 * CONSUMERS_PER_POOL));
            let mut tasks = Vec::new();
            for store in [&first, &second] {
                for _ in 0..CONSUMERS_PER_POOL {
                    let store = store.clone();
                    let barrier = Arc::clone(&barrier);
                    tasks.push(rocket::tokio::spawn(async move {
                        barrier.wait().await;
                        store.consume(&[hash; 32]).await
                    }));
                }
            }
            let mut active = 0;
            for task in tasks {
                let record = task.await.unwrap().unwrap().unwrap();
                match record.state {
                    RefreshState::Active => active += 1,
                    RefreshState::Used => {}
                    RefreshState::Revoked => panic!("nobody revoked token {hash}"),
                }
            }
            assert_eq!(active, 1, "token {hash}");
            let stored = second.find(&[hash; 32]).await.unwrap().unwrap();
            assert_eq!(stored.state, RefreshState::Used);
        }
        first.pool().close().await;
        second.pool().close().await;
    }

    #[rocket::async_test]
    async fn simultaneous_first_starts_on_a_new_file_all_succeed() {
        for round in 0..5 {
            let db = TempDb::new(&format!("first-start-{round}"));
            let url = db.url();
            let starts: Vec<_> = (0..4)
                .map(|_| {
                    let url = url.clone();
                    // Separate pools, as separate processes would have.
                    rocket::tokio::spawn(async move { SqliteStore::connect(&url).await })
                })
                .collect();
            for start in starts {
                let store = start.await.unwrap().unwrap();
                assert_eq!(applied_versions(store.pool()).await, [1, 2]);
                store.pool().close().await;
            }
        }
    }

    #[rocket::async_test]
    async fn data_survives_reopening_the_file() {
        let db = TempDb::new("reopen");
        {
            let store = SqliteStore::connect(&db.url()).await.unwrap();
            store
                .create_user("johndoe", "h", &scopes("read:items"), false)
                .await
                .unwrap();
            store.insert(token(5, "f")).await.unwrap();
            store.consume(&[5; 32]).await.unwrap();
            store.pool().close().await;
        }
        assert!(db.path.exists());

        let store = SqliteStore::connect(&db.url()).await.unwrap();
        let john = store.find_user("johndoe").await.unwrap().unwrap();
        assert_eq!(john.scopes, scopes("read:items"));
        let used = store.find(&[5; 32]).await.unwrap().unwrap();
        assert_eq!(used.state, RefreshState::Used);
        assert_eq!(applied_versions(store.pool()).await, [1, 2]);

        let pool = store.pool();
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(journal, "wal");
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(synchronous, 1, "NORMAL");
        let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(foreign_keys, 1);
        let busy_timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(busy_timeout, 10_000);
        pool.close().await;
    }

    #[rocket::async_test]
    async fn migrations_are_idempotent() {
        let pool = open("sqlite::memory:").await.unwrap();
        migrate(&pool).await.unwrap();
        migrate(&pool).await.unwrap();
        // With nothing else in the database the plain migrator agrees.
        MIGRATOR.run(&pool).await.unwrap();
        assert_eq!(applied_versions(&pool).await, [1, 2]);
        assert!(MIGRATOR.iter().all(|m| (1..=999).contains(&m.version)));
    }

    #[rocket::async_test]
    async fn shares_a_database_with_app_migrations_in_either_order() {
        let app = app_migrator(true).await;

        let toolkit_first = open("sqlite::memory:").await.unwrap();
        migrate(&toolkit_first).await.unwrap();
        app.run(&toolkit_first).await.unwrap();

        let app_first = open("sqlite::memory:").await.unwrap();
        app.run(&app_first).await.unwrap();
        migrate(&app_first).await.unwrap();

        for pool in [&toolkit_first, &app_first] {
            // Every later start runs both again.
            migrate(pool).await.unwrap();
            app.run(pool).await.unwrap();
            assert_eq!(applied_versions(pool).await, [1, 2, 1001]);
            let store = SqliteStore::new(pool.clone());
            store
                .create_user("u", "h", &Scopes::new(), false)
                .await
                .unwrap();
            sqlx::query("INSERT INTO items (name) VALUES ('x')")
                .execute(pool)
                .await
                .unwrap();
        }

        // What the docs warn about: an application migrator that does not
        // ignore the toolkit's versions refuses to run.
        let strict_app = app_migrator(false).await;
        let err = strict_app.run(&toolkit_first).await.unwrap_err();
        assert!(matches!(err, MigrateError::VersionMissing(1)), "{err:?}");
    }

    #[test]
    fn open_lazy_needs_no_runtime() {
        let db = TempDb::new("lazy");
        let pool = open_lazy(&db.url()).unwrap();
        assert!(!db.path.exists(), "lazy pools do not connect");
        rocket::async_test(async {
            migrate(&pool).await.unwrap();
            let store = SqliteStore::new(pool.clone());
            assert_eq!(store.count_users().await.unwrap(), 0);
            pool.close().await;
        });
        assert!(db.path.exists());
    }

    #[test]
    fn urls() {
        assert!(is_in_memory("sqlite::memory:"));
        assert!(is_in_memory("sqlite://:memory:"));
        assert!(is_in_memory("sqlite://?mode=memory"));
        assert!(!is_in_memory("sqlite://demo.db"));
        assert!(!is_in_memory("sqlite:data/memory.db"));

        let options = connect_options("sqlite://data/demo.db").unwrap();
        assert_eq!(options.get_filename(), Path::new("data/demo.db"));
        let options = connect_options("sqlite:///var/lib/app.db").unwrap();
        assert_eq!(options.get_filename(), Path::new("/var/lib/app.db"));
        let err = connect_options("sqlite://demo.db?mode=bogus").unwrap_err();
        assert!(matches!(err, StoreError::Backend { .. }));
    }
}
