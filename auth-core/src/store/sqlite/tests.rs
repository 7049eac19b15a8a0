//! Tests of the `SQLite` store: the generic store suite (`store/suite.rs`)
//! on a database file opened by two pools, and what is particular to
//! `SQLite`: files, pragmas, corrupt rows and migrations.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::migrate::MigrationType;

use sqlx::migrate::{MigrateError, Migration, Migrator};
use sqlx::sqlite::SqlitePool;

use super::migrate::FixedMigrations;
use super::pool::is_in_memory;
use super::*;
use crate::store::suite::{Pair, store_suite};
use crate::{
    RefreshState, RefreshTokenRecord, RefreshTokenStore, Scopes, StoreError, UserAdmin, UserStore,
};

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

/// Two pools on one new database file, as two processes would have.
async fn file_pair() -> Option<Pair<SqliteStore>> {
    let db = TempDb::new("suite");
    let first = SqliteStore::connect(&db.url()).await.unwrap();
    let second = SqliteStore::connect(&db.url()).await.unwrap();
    Some(Pair {
        first,
        second,
        _guard: Box::new(db),
    })
}

store_suite!(file_pair);
crate::store::api_keys::suite::api_key_suite!(file_pair);

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
        family_expires_at: 1_700_003_600,
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

/// The versions of the toolkit's own migrations, in order.
fn toolkit_versions() -> Vec<i64> {
    MIGRATOR.iter().map(|m| m.version).collect()
}

async fn applied_versions(pool: &SqlitePool) -> Vec<i64> {
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
        .fetch_all(pool)
        .await
        .unwrap()
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
async fn delete_expired_keeps_live_tokens() {
    let store = memory_store().await;
    let mut old = token(1, "f");
    old.expires_at = 100;
    let mut edge = token(2, "f");
    edge.expires_at = 200;
    let mut live = token(3, "f");
    live.expires_at = 201;
    for mut record in [old, edge, live] {
        // Written before any of them expired, so not pruned on write.
        record.issued_at = 1;
        store.insert(record).await.unwrap();
    }
    assert_eq!(store.delete_expired_refresh_tokens(200).await.unwrap(), 2);
    assert!(store.find(&[1; 32]).await.unwrap().is_none());
    assert!(store.find(&[2; 32]).await.unwrap().is_none());
    assert!(store.find(&[3; 32]).await.unwrap().is_some());
    assert!(store.delete_expired_refresh_tokens(u64::MAX).await.is_err());
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
            assert_eq!(applied_versions(store.pool()).await, toolkit_versions());
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
    assert_eq!(applied_versions(store.pool()).await, toolkit_versions());

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
    assert_eq!(applied_versions(&pool).await, toolkit_versions());
    assert_eq!(toolkit_versions(), [1, 2, 3, 4, 5, 6]);
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
        let mut expected = toolkit_versions();
        expected.push(1001);
        assert_eq!(applied_versions(pool).await, expected);
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

#[rocket::async_test]
async fn tokens_written_before_the_lifecycle_migration_end_with_their_own_expiry() {
    let pool = open("sqlite::memory:").await.unwrap();
    // The database as the first two migrations left it.
    let early: Vec<Migration> = MIGRATOR.iter().filter(|m| m.version < 3).cloned().collect();
    Migrator::new(FixedMigrations(early))
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO refresh_tokens \
         (token_hash, family_id, username, client_id, scopes, issued_at, expires_at, state) \
         VALUES (?1, 'f', 'alice', 'web', 'read:items', 10, 500, 'active')",
    )
    .bind(&[7u8; 32][..])
    .execute(&pool)
    .await
    .unwrap();
    migrate(&pool).await.unwrap();
    let store = SqliteStore::new(pool);
    let record = store.find(&[7; 32]).await.unwrap().unwrap();
    assert_eq!((record.expires_at, record.family_expires_at), (500, 500));
}
