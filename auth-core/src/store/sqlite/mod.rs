//! `SQLite` implementations of [`UserStore`](crate::UserStore) and [`RefreshTokenStore`](crate::RefreshTokenStore), behind
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
//! Every write is one statement or one `BEGIN IMMEDIATE` transaction (which
//! takes `SQLite`'s write lock at its start), so each is atomic across
//! connections and processes:
//! [`RefreshTokenStore::rotate`](crate::RefreshTokenStore::rotate) reads the
//! old token, marks it used and inserts the successor in one transaction, so
//! of any number of concurrent rotations exactly one succeeds, and a family
//! revoked concurrently never keeps a live successor. Disabling a user,
//! changing their password
//! ([`UserAdmin::set_password`](crate::UserAdmin::set_password)) or
//! deleting them revokes their refresh tokens in the same transaction.
//! Writes prune as they go: at most [`PRUNE_BATCH`](crate::PRUNE_BATCH)
//! expired tokens per write, and used tokens beyond
//! [`MAX_FAMILY_TOKENS`](crate::MAX_FAMILY_TOKENS) per family. Pools from
//! [`open`] and [`open_lazy`] use write-ahead logging and wait up to ten
//! seconds for a busy database instead
//! of failing with "database is locked".
//!
//! # Layout
//!
//! `pool` opens databases, `migrate` creates the tables, `store` is
//! [`SqliteStore`]: the SQL store ([`crate::database::SqlStore`], shared
//! with PostgreSQL) and what is particular to `SQLite` in it; `startup`
//! retries what can collide when processes start together.

mod migrate;
mod pool;
mod startup;
mod store;
#[cfg(test)]
mod tests;

pub use migrate::{MIGRATOR, migrate, run_migrator};
pub use pool::{connect_options, open, open_lazy, open_lazy_with, open_with};
pub use store::SqliteStore;
