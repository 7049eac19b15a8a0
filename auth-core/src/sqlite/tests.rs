//! Tests of the `SQLite` store: users, refresh tokens, concurrency, files
//! and migrations.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rocket::tokio::sync::Barrier;
use sqlx::migrate::MigrationType;

use sqlx::migrate::{MigrateError, Migration, Migrator};
use sqlx::sqlite::SqlitePool;

use super::migrate::FixedMigrations;
use super::pool::is_in_memory;
use super::*;
use crate::{
    MAX_FAMILY_TOKENS, RefreshState, RefreshTokenRecord, RefreshTokenStore, RotateOutcome, Scopes,
    StoreError, UserRecord, UserStore,
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
            assert_eq!(applied_versions(store.pool()).await, [1, 2, 3]);
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
    assert_eq!(applied_versions(store.pool()).await, [1, 2, 3]);

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
    assert_eq!(applied_versions(&pool).await, [1, 2, 3]);
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
        assert_eq!(applied_versions(pool).await, [1, 2, 3, 1001]);
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

async fn state(store: &SqliteStore, hash: u8) -> Option<RefreshState> {
    store.find(&[hash; 32]).await.unwrap().map(|r| r.state)
}

#[rocket::async_test]
async fn rotate_outcomes_and_revoked_families() {
    let store = memory_store().await;
    store.insert(token(1, "f")).await.unwrap();
    assert_eq!(
        store.rotate(&[1; 32], token(2, "f")).await.unwrap(),
        RotateOutcome::Rotated
    );
    assert_eq!(state(&store, 1).await, Some(RefreshState::Used));
    assert_eq!(state(&store, 2).await, Some(RefreshState::Active));
    let RotateOutcome::Reused(old) = store.rotate(&[1; 32], token(3, "f")).await.unwrap() else {
        panic!("expected a replay");
    };
    assert_eq!(old.token_hash, [1; 32]);
    assert_eq!(old.family_expires_at, 1_700_003_600);
    assert_eq!(state(&store, 3).await, None);
    assert_eq!(
        store.rotate(&[9; 32], token(4, "f")).await.unwrap(),
        RotateOutcome::Refused
    );
    store.revoke_family("f").await.unwrap();
    assert_eq!(
        store.rotate(&[2; 32], token(5, "f")).await.unwrap(),
        RotateOutcome::Refused
    );
    assert!(matches!(
        store.insert(token(6, "f")).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(state(&store, 5).await, None);
    assert_eq!(state(&store, 6).await, None);
}

#[rocket::async_test]
async fn user_changes_revoke_the_users_families() {
    let store = memory_store().await;
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
    store
        .create_user("alice", hash, &scopes("read:items"), false)
        .await
        .unwrap();
    let mut bob = token(9, "b");
    bob.username = "bob".into();
    store.insert(bob).await.unwrap();

    // The silent rehash at login keeps sessions.
    store.insert(token(1, "f1")).await.unwrap();
    store.set_password_hash("alice", "other").await.unwrap();
    assert_eq!(state(&store, 1).await, Some(RefreshState::Active));
    // Disabling revokes; enabling again revives nothing.
    assert!(store.set_disabled("alice", true).await.unwrap());
    assert_eq!(state(&store, 1).await, Some(RefreshState::Revoked));
    assert!(store.set_disabled("alice", false).await.unwrap());
    assert_eq!(state(&store, 1).await, Some(RefreshState::Revoked));
    // A password change revokes.
    store.insert(token(2, "f2")).await.unwrap();
    assert!(store.set_password("alice", "new").await.unwrap());
    assert_eq!(state(&store, 2).await, Some(RefreshState::Revoked));
    // revoke_user counts the live families it ended.
    store.insert(token(3, "f3")).await.unwrap();
    store.insert(token(4, "f4")).await.unwrap();
    assert_eq!(store.revoke_user("alice").await.unwrap(), 2);
    assert_eq!(store.revoke_user("alice").await.unwrap(), 0);
    // Deleting removes the user's tokens: a new "alice" inherits nothing.
    store.insert(token(5, "f5")).await.unwrap();
    assert!(store.delete_user("alice").await.unwrap());
    assert!(!store.delete_user("alice").await.unwrap());
    assert_eq!(state(&store, 5).await, None);
    assert!(store.find_user("alice").await.unwrap().is_none());
    // Bob was never touched.
    assert_eq!(state(&store, 9).await, Some(RefreshState::Active));
    assert!(!store.set_password("nobody", "x").await.unwrap());
}

#[rocket::async_test]
async fn writes_cap_families_and_prune_expired_tokens() {
    let store = memory_store().await;
    store.insert(token(0, "f")).await.unwrap();
    for hash in 1..40u8 {
        let mut next = token(hash, "f");
        next.issued_at += u64::from(hash);
        assert_eq!(
            store.rotate(&[hash - 1; 32], next).await.unwrap(),
            RotateOutcome::Rotated
        );
    }
    assert_eq!(
        store.count_refresh_tokens().await.unwrap(),
        MAX_FAMILY_TOKENS as u64
    );
    assert_eq!(state(&store, 39).await, Some(RefreshState::Active));
    assert_eq!(state(&store, 0).await, None);
    // A write after they all expired deletes them (one batch per write).
    let mut late = token(100, "late");
    late.issued_at = 1_800_000_000;
    late.expires_at = 1_800_003_600;
    store.insert(late).await.unwrap();
    assert_eq!(store.count_refresh_tokens().await.unwrap(), 1);
}

#[rocket::async_test]
async fn rotation_racing_revocation_never_leaves_a_live_successor() {
    const ROUNDS: u8 = 40;
    let db = TempDb::new("rotate-race");
    let first = SqliteStore::connect(&db.url()).await.unwrap();
    let second = SqliteStore::connect(&db.url()).await.unwrap();
    for round in 0..ROUNDS {
        let family = format!("f{round}");
        first.insert(token(round, &family)).await.unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let rotation = {
            let store = first.clone();
            let barrier = Arc::clone(&barrier);
            let family = family.clone();
            rocket::tokio::spawn(async move {
                barrier.wait().await;
                store
                    .rotate(&[round; 32], token(round + 100, &family))
                    .await
            })
        };
        let revocation = {
            let store = second.clone();
            let barrier = Arc::clone(&barrier);
            rocket::tokio::spawn(async move {
                barrier.wait().await;
                store.revoke_family(&family).await
            })
        };
        let outcome = rotation.await.unwrap().unwrap();
        revocation.await.unwrap().unwrap();
        assert!(
            matches!(outcome, RotateOutcome::Rotated | RotateOutcome::Refused),
            "{outcome:?}"
        );
        // Whoever won, the family ends revoked with no active token.
        assert_eq!(state(&first, round).await, Some(RefreshState::Revoked));
        let successor = state(&first, round + 100).await;
        assert!(
            successor.is_none() || successor == Some(RefreshState::Revoked),
            "round {round}: successor {successor:?}"
        );
    }
    first.pool().close().await;
    second.pool().close().await;
}
