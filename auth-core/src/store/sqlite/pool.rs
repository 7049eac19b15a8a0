//! Opening a database: connection options and pools.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::startup::retry;
use crate::store::StoreError;
use crate::store::pool_settings::PoolSettings;

/// How long a statement waits for another writer before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

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
/// Uses [`connect_options`] and [`PoolSettings::default`]. A file database
/// gets up to `max_connections` connections (10 by default); an
/// in-memory database (`sqlite::memory:`) exists only while a connection to it
/// is open, so it gets exactly one, kept for the life of the pool. Idle
/// connections are never closed. Does not run migrations: see [`migrate`](super::migrate).
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
    open_with(url, &PoolSettings::default()).await
}

/// [`open`] with the given pool limits.
///
/// # Example
///
/// ```
/// use auth_core::database::PoolSettings;
///
/// # rocket::async_test(async {
/// let pool = auth_core::sqlite::open_with("sqlite::memory:", &PoolSettings::default()).await?;
/// # let _ = pool;
/// # Ok::<(), auth_core::StoreError>(())
/// # }).unwrap();
/// ```
///
/// # Errors
///
/// As [`open`].
pub async fn open_with(url: &str, settings: &PoolSettings) -> Result<SqlitePool, StoreError> {
    let options = connect_options(url)?;
    // Switching a new file to WAL takes a lock that the busy timeout does
    // not wait for, so two processes opening one new file at once can
    // collide; once the file is in WAL mode this cannot happen.
    retry(
        || pool_options(url, settings).connect_with(options.clone()),
        is_busy,
    )
    .await
    .map_err(StoreError::backend)
}

/// Creates a pool without connecting, for code that is not async.
///
/// The same settings as [`open`], but no connection is made until the pool is
/// first used, so a bad path shows up then. It needs no async runtime to be
/// running, which suits building a Rocket in a plain `fn rocket()`: connect
/// and [`migrate`](super::migrate) later, e.g. in an ignite fairing.
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
    open_lazy_with(url, &PoolSettings::default())
}

/// [`open_lazy`] with the given pool limits.
///
/// # Example
///
/// ```
/// use auth_core::database::PoolSettings;
///
/// let pool = auth_core::sqlite::open_lazy_with("sqlite://demo.db", &PoolSettings::default()).unwrap();
/// # let _ = pool;
/// ```
///
/// # Errors
///
/// As [`open_lazy`].
pub fn open_lazy_with(url: &str, settings: &PoolSettings) -> Result<SqlitePool, StoreError> {
    let options = connect_options(url)?;
    Ok(pool_options(url, settings).connect_lazy_with(options))
}

/// Pool settings for `url`. No idle timeout, no maximum lifetime and no
/// minimum size: sqlx then spawns no maintenance task, so a lazy pool can be
/// created outside a runtime, and an in-memory database is never dropped.
fn pool_options(url: &str, settings: &PoolSettings) -> SqlitePoolOptions {
    let max_connections = if is_in_memory(url) {
        1
    } else {
        settings.max_connections
    };
    SqlitePoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(settings.acquire_timeout)
        .min_connections(0)
        .idle_timeout(None)
        .max_lifetime(None)
}

/// Whether `url` names an in-memory database, as sqlx parses it.
pub(super) fn is_in_memory(url: &str) -> bool {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    database == ":memory:" || params.split('&').any(|param| param == "mode=memory")
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
