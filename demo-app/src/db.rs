//! The database: migrations, seeding on start, and the demo's own tables
//! (`items`, `tasks`). Users and refresh tokens belong to auth-core's
//! [`SqliteStore`].

use auth_core::sqlite::SqliteStore;
use auth_core::{Auth, PasswordHasher, Scopes, StoreError, UserRecord};
use rocket::fairing::AdHoc;
use schemars::JsonSchema;
use serde::Serialize;
use sqlx::Row as _;
use sqlx::sqlite::{SqlitePool, SqliteRow};

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

/// Creates or updates every table: auth-core's (`users`, `refresh_tokens`)
/// and the demo's (`items`, `tasks`, versions 1001 and up). Safe to run on
/// every start, and by several processes at once.
///
/// # Errors
///
/// [`StoreError::Backend`] if the database cannot be reached or a migration
/// fails.
pub async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    auth_core::sqlite::migrate(pool).await?;
    auth_core::sqlite::run_migrator(pool, sqlx::migrate!("./migrations")).await
}

/// The ignite fairing that migrates and seeds the database. Attach it after
/// the [`Auth`] fairing, whose password hasher it uses.
pub(crate) fn fairing(store: SqliteStore) -> AdHoc {
    AdHoc::try_on_ignite("demo database", |rocket| {
        Box::pin(async move {
            // The auth fairing runs first: if it refused the configuration,
            // the launch fails anyway, so leave the database untouched.
            let Some(auth) = rocket.state::<Auth>() else {
                log::error!("demo: not preparing the database: the auth configuration was refused");
                return Err(rocket);
            };
            let hasher = auth.hasher().clone();
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
async fn prepare(store: &SqliteStore, hasher: &PasswordHasher) -> Result<(), StoreError> {
    log::info!("demo: creating and migrating the database");
    migrate(store.pool()).await?;
    seed_users(store, hasher).await?;
    seed_tasks(store.pool()).await?;
    let users = store.count_users().await?;
    log::info!("demo: database ready, {users} users");
    Ok(())
}

/// Adds the demo users when the user table is empty.
async fn seed_users(store: &SqliteStore, hasher: &PasswordHasher) -> Result<(), StoreError> {
    if store.count_users().await? > 0 {
        log::info!("demo: users exist; not adding the demo users");
        return Ok(());
    }
    log::info!("demo: no users yet; adding johndoe, alice (disabled) and admin");
    for (username, password, scopes, disabled) in DEMO_USERS {
        let hash = hasher.hash(password).await.map_err(StoreError::backend)?;
        let scopes = Scopes::parse(scopes).map_err(StoreError::backend)?;
        match store.create_user(username, &hash, &scopes, disabled).await {
            // Another process starting on the same new database got there
            // first: the user exists, which is all that matters.
            Ok(()) | Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Adds the demo tasks when the task table is empty, in one statement so
/// that two processes starting at once cannot both seed.
async fn seed_tasks(pool: &SqlitePool) -> Result<(), StoreError> {
    let placeholders = vec!["(?, ?)"; DEMO_TASKS.len()].join(", ");
    let sql = format!(
        "INSERT INTO tasks (title, owner) SELECT column1, column2 FROM (VALUES {placeholders}) \
         WHERE NOT EXISTS (SELECT 1 FROM tasks)"
    );
    let query = DEMO_TASKS
        .iter()
        .fold(sqlx::query(&sql), |query, (title, owner)| {
            query.bind(*title).bind(*owner)
        });
    let seeded = query
        .execute(pool)
        .await
        .map_err(StoreError::backend)?
        .rows_affected();
    if seeded > 0 {
        log::info!("demo: seeded {seeded} tasks");
    }
    Ok(())
}

/// An item, as stored and as served.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct Item {
    pub id: i64,
    pub name: String,
    pub owner: String,
}

/// A task, as stored and as served; `owner` is `null` for public tasks.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct Task {
    pub id: i64,
    pub title: String,
    pub owner: Option<String>,
}

fn item_from_row(row: &SqliteRow) -> Result<Item, sqlx::Error> {
    Ok(Item {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        owner: row.try_get("owner")?,
    })
}

fn task_from_row(row: &SqliteRow) -> Result<Task, sqlx::Error> {
    Ok(Task {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        owner: row.try_get("owner")?,
    })
}

/// The database as managed state: auth-core's store plus the demo's tables.
#[derive(Debug, Clone)]
pub(crate) struct Db {
    store: SqliteStore,
}

impl Db {
    pub(crate) fn new(store: SqliteStore) -> Self {
        Self { store }
    }

    fn pool(&self) -> &SqlitePool {
        self.store.pool()
    }

    /// Every item, oldest first.
    pub(crate) async fn items(&self) -> Result<Vec<Item>, sqlx::Error> {
        sqlx::query("SELECT id, name, owner FROM items ORDER BY id")
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(item_from_row)
            .collect()
    }

    /// Stores a new item and returns it with its id. One statement, so it
    /// is atomic and waits its turn behind other writers.
    pub(crate) async fn insert_item(&self, name: &str, owner: &str) -> Result<Item, sqlx::Error> {
        let row = sqlx::query(
            "INSERT INTO items (name, owner) VALUES (?1, ?2) RETURNING id, name, owner",
        )
        .bind(name)
        .bind(owner)
        .fetch_one(self.pool())
        .await?;
        item_from_row(&row)
    }

    /// Public tasks, plus those of `user` when given.
    pub(crate) async fn tasks(&self, user: Option<&str>) -> Result<Vec<Task>, sqlx::Error> {
        sqlx::query(
            "SELECT id, title, owner FROM tasks WHERE owner IS NULL OR owner = ?1 ORDER BY id",
        )
        .bind(user)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(task_from_row)
        .collect()
    }

    /// Every user, by username.
    pub(crate) async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.store.list_users().await
    }
}
