//! PostgreSQL implementations of [`UserStore`](crate::UserStore) and
//! [`RefreshTokenStore`](crate::RefreshTokenStore), behind the `postgres`
//! cargo feature.
//!
//! One [`PgStore`] serves both traits from one database, shared by any
//! number of application instances. Open a pool with [`open`] (async) or
//! [`open_lazy`] (sync, for a Rocket built outside a runtime), create the
//! tables with [`migrate`], then wrap the pool with [`PgStore::new`];
//! [`PgStore::connect`] does all three. To pick `SQLite` or PostgreSQL by the
//! URL's scheme, use [`crate::store::database::Database`].
//!
//! # Sharing the database with application migrations
//!
//! As with `SQLite`, the toolkit's migrations use versions `1..=999` and an
//! application numbers its own from `1001`; [`migrate`] and
//! [`run_migrator`] ignore the other side's versions. sqlx takes a
//! PostgreSQL advisory lock while it migrates, so several instances may
//! start (and migrate) at once.
//!
//! ```no_run
//! # async fn start() -> Result<(), Box<dyn std::error::Error>> {
//! use auth_core::database::PoolSettings;
//!
//! let pool = auth_core::postgres::open("postgres://app@db.internal/app", &PoolSettings::default()).await?;
//! auth_core::postgres::migrate(&pool).await?;
//! auth_core::postgres::run_migrator(&pool, sqlx::migrate!("./migrations-postgres")).await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Concurrency
//!
//! Each family of refresh tokens (one login) has a row in
//! `refresh_families`. Every write to a family's tokens runs in one
//! transaction that first locks that row (`SELECT ... FOR UPDATE`, or an
//! `UPDATE` of it), so rotation, [`revoke_family`] and [`revoke_user`] of
//! one family are serialised across connections and processes, while
//! different families never wait for each other:
//!
//! * a rotation locks the family row, marks the old token `used` with a
//!   conditional `UPDATE ... WHERE state = 'active'`, inserts the successor
//!   and commits: of any number of concurrent rotations of one token,
//!   exactly one succeeds, the others see a replay;
//! * a revocation locks the family row, marks it revoked and then revokes
//!   its tokens: a rotation that committed first has its successor revoked
//!   (the `UPDATE` of the tokens runs after the lock is granted, so it sees
//!   the successor); a rotation that comes after finds the family revoked
//!   and stores nothing.
//!
//! Writes prune as they go, skipping rows other transactions hold
//! (`FOR UPDATE SKIP LOCKED`), so housekeeping never waits or deadlocks:
//! at most [`PRUNE_BATCH`](crate::PRUNE_BATCH) expired tokens and families
//! per write, and used tokens beyond
//! [`MAX_FAMILY_TOKENS`](crate::MAX_FAMILY_TOKENS) per family.
//!
//! [`revoke_family`]: crate::RefreshTokenStore::revoke_family
//! [`revoke_user`]: crate::RefreshTokenStore::revoke_user
//!
//! # TLS
//!
//! The feature builds sqlx without TLS, so `sslmode=require` fails to
//! connect. To connect over TLS, enable one of sqlx's TLS features in the
//! application (`sqlx = { version = "0.8", features = ["tls-rustls"] }`);
//! cargo's feature unification then gives the toolkit's pool TLS too, and
//! `?sslmode=verify-full` in the URL asks for it.
//!
//! # Layout
//!
//! `pool` opens databases, `migrate` creates the tables, `store` is
//! [`PgStore`]: the SQL store ([`crate::database::SqlStore`], shared with
//! `SQLite`), what is particular to PostgreSQL in it, and the shared
//! failed-login counters.

mod migrate;
mod pool;
mod store;
#[cfg(test)]
pub(crate) mod tests;

pub use migrate::{MIGRATOR, migrate, run_migrator};
pub use pool::{connect_options, open, open_lazy};
pub use store::PgStore;
