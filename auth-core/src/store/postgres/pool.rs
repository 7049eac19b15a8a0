//! Opening a database: connection options and pools.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::store::StoreError;
use crate::store::pool_settings::PoolSettings;

/// Parses a `postgres://` or `postgresql://` URL into connection options.
///
/// Everything libpq-style URLs say is honoured (host, port, user, password,
/// database, `sslmode`, `application_name`, ...). Without TLS support
/// compiled in (see the [module docs](super#tls)), `sslmode=prefer` (the
/// default) connects in plain text and `sslmode=require` fails.
///
/// # Example
///
/// ```
/// let options = auth_core::postgres::connect_options("postgres://app@db.internal:5433/auth").unwrap();
/// assert_eq!(options.get_port(), 5433);
/// assert_eq!(options.get_database(), Some("auth"));
/// ```
///
/// # Errors
///
/// [`StoreError::Backend`] if the URL cannot be parsed.
pub fn connect_options(url: &str) -> Result<PgConnectOptions, StoreError> {
    PgConnectOptions::from_str(url).map_err(StoreError::backend)
}

/// Opens a pool and checks that the database can be reached.
///
/// At most `settings.max_connections` connections; a request waits at most
/// `settings.acquire_timeout` for one. Does not run migrations: see
/// [`migrate`](super::migrate).
///
/// # Example
///
/// ```no_run
/// # async fn start() -> Result<(), auth_core::StoreError> {
/// use auth_core::database::PoolSettings;
///
/// let pool = auth_core::postgres::open("postgres://app@localhost/app", &PoolSettings::default()).await?;
/// # let _ = pool;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
///
/// [`StoreError::Backend`] if the URL is invalid or the server cannot be
/// reached or refuses the login.
pub async fn open(url: &str, settings: &PoolSettings) -> Result<PgPool, StoreError> {
    let options = connect_options(url)?;
    pool_options(settings)
        .connect_with(options)
        .await
        .map_err(StoreError::backend)
}

/// Creates a pool without connecting, for code that is not async.
///
/// The same settings as [`open`], but no connection is made until the pool
/// is first used, and no async runtime needs to be running.
///
/// # Example
///
/// ```
/// use auth_core::database::PoolSettings;
///
/// let pool = auth_core::postgres::open_lazy("postgres://app@localhost/app", &PoolSettings::default()).unwrap();
/// let store = auth_core::postgres::PgStore::new(pool);
/// # let _ = store;
/// ```
///
/// # Errors
///
/// [`StoreError::Backend`] if the URL cannot be parsed.
pub fn open_lazy(url: &str, settings: &PoolSettings) -> Result<PgPool, StoreError> {
    let options = connect_options(url)?;
    Ok(pool_options(settings).connect_lazy_with(options))
}

/// Pool settings. No idle timeout, no maximum lifetime and no minimum size:
/// sqlx then spawns no maintenance task, so a lazy pool can be created
/// outside a runtime. A connection the server closed is noticed when it is
/// next acquired (sqlx pings it first) and replaced.
fn pool_options(settings: &PoolSettings) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        .min_connections(0)
        .idle_timeout(None)
        .max_lifetime(None)
}
