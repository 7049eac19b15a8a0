//! The database: migrations, seeding on start, and the demo's own tables
//! (`items`, `tasks`). Users and refresh tokens belong to auth-core's
//! store; [`Database`] is `SQLite` or PostgreSQL, chosen by the URL.
//!
//! Each statement is written once, with `$1`-style parameters that both
//! `SQLite` and PostgreSQL read; only the migrations differ per backend
//! (`migrations/` and `migrations-postgres/`).

use auth_core::database::Database;
use auth_core::{Auth, PasswordHasher, Scopes, StoreError, UserRecord, UserStore as _};
use rocket::fairing::AdHoc;
use schemars::JsonSchema;
use serde::Serialize;

/// Runs `$body` with `$pool` bound to the pool inside `$db`, whichever
/// backend it is; the body is the same code for both.
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            Database::Sqlite(store) => {
                let $pool = store.pool();
                $body
            }
            Database::Postgres(store) => {
                let $pool = store.pool();
                $body
            }
            _ => Err(sqlx::Error::Configuration(
                "a database backend the demo does not know".into(),
            )),
        }
    };
}

/// The demo users of contract §7: username, password, scopes, disabled.
const DEMO_USERS: [(&str, &str, &str, bool); 3] = [
    ("johndoe", "secret", "read:items write:items", false),
    ("alice", "secret2", "read:items", true),
    ("admin", "adminpass", "read:items write:items admin", false),
];

/// Seed tasks: title and owner (`None` is public).
const DEMO_TASKS: [(&str, Option<&str>); 4] = [
    ("Read the README", None),
    ("Try the token endpoint", None),
    ("Water johndoe's plants", Some("johndoe")),
    ("Renew johndoe's passport", Some("johndoe")),
];

/// Creates or updates every table: auth-core's (`users`, refresh tokens)
/// and the demo's (`items`, `tasks`, versions 1001 and up). Safe to run on
/// every start, and by several processes at once.
///
/// # Errors
///
/// [`StoreError::Backend`] if the database cannot be reached or a migration
/// fails.
pub async fn migrate(db: &Database) -> Result<(), StoreError> {
    db.migrate().await?;
    match db {
        Database::Sqlite(store) => {
            auth_core::sqlite::run_migrator(store.pool(), sqlx::migrate!("./migrations")).await
        }
        Database::Postgres(store) => {
            auth_core::postgres::run_migrator(store.pool(), sqlx::migrate!("./migrations-postgres"))
                .await
        }
        _ => Err(StoreError::backend(sqlx::Error::Configuration(
            "a database backend the demo does not know".into(),
        ))),
    }
}

/// The ignite fairing that migrates and seeds the database. Attach it after
/// the [`Auth`] fairing, whose password hasher it uses.
pub(crate) fn fairing(store: Database) -> AdHoc {
    AdHoc::try_on_ignite("demo database", |rocket| {
        Box::pin(async move {
            // The auth fairing runs first: if it refused the configuration,
            // the launch fails anyway, so leave the database untouched.
            let Some(auth) = rocket.state::<Auth>() else {
                log::error!("demo: not preparing the database: the auth configuration was refused");
                return Err(rocket);
            };
            let Some(issuer) = auth.issuer() else {
                log::error!(
                    "demo: refusing to start: the demo issues tokens, not a resource server"
                );
                return Err(rocket);
            };
            let hasher = issuer.hasher().clone();
            match prepare(&store, &hasher).await {
                Ok(()) => Ok(rocket),
                Err(e) => {
                    log::error!("demo: refusing to start: database: {e}");
                    Err(rocket)
                }
            }
        })
    })
}

/// Migrates, then seeds users and tasks where there are none.
async fn prepare(store: &Database, hasher: &PasswordHasher) -> Result<(), StoreError> {
    log::info!("demo: creating and migrating the database");
    migrate(store).await?;
    seed_users(store, hasher).await?;
    seed_tasks(store).await.map_err(StoreError::backend)?;
    // A release build is meant for real use: say loudly when anyone who
    // read the README can log in (debug builds skip the hashes).
    if !cfg!(debug_assertions) {
        let exposed = with_documented_passwords(store, hasher).await?;
        if !exposed.is_empty() {
            log::error!("{}", documented_passwords_warning(&exposed));
        }
    }
    let users = store.admin().count_users().await?;
    log::info!("demo: database ready, {users} users");
    Ok(())
}

/// Adds the demo users when the user table is empty.
async fn seed_users(store: &Database, hasher: &PasswordHasher) -> Result<(), StoreError> {
    if store.admin().count_users().await? > 0 {
        log::info!("demo: users exist; not adding the demo users");
        return Ok(());
    }
    log::info!("demo: no users yet; adding johndoe, alice (disabled) and admin");
    for (username, password, scopes, disabled) in DEMO_USERS {
        let hash = hasher.hash(password).await.map_err(StoreError::backend)?;
        let scopes = Scopes::parse(scopes).map_err(StoreError::backend)?;
        match store
            .admin()
            .create_user(username, &hash, &scopes, disabled)
            .await
        {
            // Another process starting on the same new database got there
            // first: the user exists, which is all that matters.
            Ok(()) | Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The demo users that still have the password the README documents.
pub(crate) async fn with_documented_passwords(
    store: &Database,
    hasher: &PasswordHasher,
) -> Result<Vec<&'static str>, StoreError> {
    let mut exposed = Vec::new();
    for (username, password, _, _) in DEMO_USERS {
        let Some(user) = store.find_user(username).await? else {
            continue;
        };
        if matches!(
            hasher.verify(password, &user.password_hash).await,
            Ok(auth_core::Verification::Match { .. })
        ) {
            exposed.push(username);
        }
    }
    Ok(exposed)
}

/// The launch warning of a release build whose demo users keep their
/// documented passwords. Names the users, never the passwords.
pub(crate) fn documented_passwords_warning(users: &[&str]) -> String {
    format!(
        "demo: RELEASE BUILD WITH PUBLIC PASSWORDS: the demo users {} still have the passwords \
         documented in the README, so anyone can log in as them; set new ones with \
         `demo-app user passwd NAME` or remove them with `demo-app user delete NAME`",
        users.join(", ")
    )
}

/// Adds the demo tasks when the task table is empty, in one statement so
/// that two processes starting at once cannot both seed (on PostgreSQL the
/// statement runs after taking a lock on the table that only one
/// transaction may hold).
async fn seed_tasks(db: &Database) -> Result<(), sqlx::Error> {
    let placeholders: Vec<String> = (0..DEMO_TASKS.len())
        .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
        .collect();
    let sql = format!(
        "INSERT INTO tasks (title, owner) SELECT column1, column2 FROM (VALUES {}) AS seed \
         WHERE NOT EXISTS (SELECT 1 FROM tasks)",
        placeholders.join(", ")
    );
    // The same statement for either backend's query type.
    macro_rules! seed {
        () => {
            DEMO_TASKS
                .iter()
                .fold(sqlx::query(&sql), |query, (title, owner)| {
                    query.bind(*title).bind(*owner)
                })
        };
    }
    let seeded = match db {
        Database::Postgres(store) => {
            let mut tx = store.pool().begin().await?;
            sqlx::query("LOCK TABLE tasks IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await?;
            let seeded = seed!().execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            seeded
        }
        _ => on_pool!(db, |pool| seed!()
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))?,
    };
    if seeded > 0 {
        log::info!("demo: seeded {seeded} tasks");
    }
    Ok(())
}

/// An item, as stored and as served.
#[derive(Debug, Clone, Serialize, JsonSchema, sqlx::FromRow)]
pub(crate) struct Item {
    pub id: i64,
    pub name: String,
    pub owner: String,
}

/// A task, as stored and as served; `owner` is `null` for public tasks.
#[derive(Debug, Clone, Serialize, JsonSchema, sqlx::FromRow)]
pub(crate) struct Task {
    pub id: i64,
    pub title: String,
    pub owner: Option<String>,
}

/// The database as managed state: auth-core's store plus the demo's tables.
#[derive(Debug, Clone)]
pub(crate) struct Db {
    store: Database,
}

impl Db {
    pub(crate) fn new(store: Database) -> Self {
        Self { store }
    }

    /// Every item, oldest first.
    pub(crate) async fn items(&self) -> Result<Vec<Item>, sqlx::Error> {
        const SQL: &str = "SELECT id, name, owner FROM items ORDER BY id";
        on_pool!(&self.store, |pool| sqlx::query_as(SQL)
            .fetch_all(pool)
            .await)
    }

    /// Stores a new item and returns it with its id. One statement, so it
    /// is atomic.
    pub(crate) async fn insert_item(&self, name: &str, owner: &str) -> Result<Item, sqlx::Error> {
        const SQL: &str =
            "INSERT INTO items (name, owner) VALUES ($1, $2) RETURNING id, name, owner";
        on_pool!(&self.store, |pool| {
            sqlx::query_as(SQL)
                .bind(name)
                .bind(owner)
                .fetch_one(pool)
                .await
        })
    }

    /// Deletes the item `id`; returns whether it existed.
    pub(crate) async fn delete_item(&self, id: i64) -> Result<bool, sqlx::Error> {
        const SQL: &str = "DELETE FROM items WHERE id = $1";
        on_pool!(&self.store, |pool| {
            sqlx::query(SQL)
                .bind(id)
                .execute(pool)
                .await
                .map(|done| done.rows_affected() > 0)
        })
    }

    /// Public tasks, plus those of `user` when given.
    pub(crate) async fn tasks(&self, user: Option<&str>) -> Result<Vec<Task>, sqlx::Error> {
        const SQL: &str =
            "SELECT id, title, owner FROM tasks WHERE owner IS NULL OR owner = $1 ORDER BY id";
        on_pool!(&self.store, |pool| {
            sqlx::query_as(SQL).bind(user).fetch_all(pool).await
        })
    }

    /// Every user, by username.
    pub(crate) async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.store.admin().list_users().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::database::PoolSettings;

    #[rocket::async_test]
    async fn the_demo_users_documented_passwords_are_found_and_named_not_shown() {
        let store = Database::connect("sqlite::memory:", &PoolSettings::default())
            .await
            .expect("in-memory database");
        let hasher = PasswordHasher::new();
        prepare(&store, &hasher).await.expect("seeded");
        assert_eq!(
            with_documented_passwords(&store, &hasher).await.unwrap(),
            ["johndoe", "alice", "admin"]
        );
        let hash = hasher.hash("Glacier-Tuba-Orchard-58").await.unwrap();
        assert!(store.admin().set_password("johndoe", &hash).await.unwrap());
        let exposed = with_documented_passwords(&store, &hasher).await.unwrap();
        assert_eq!(exposed, ["alice", "admin"]);
        let warning = documented_passwords_warning(&exposed);
        assert!(warning.contains("alice, admin"), "{warning}");
        for (_, password, _, _) in DEMO_USERS {
            assert!(!warning.contains(password), "{warning}");
        }
    }
}
