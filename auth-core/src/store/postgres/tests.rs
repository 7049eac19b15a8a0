//! Tests of the PostgreSQL store against a real server (see the
//! `pg-cluster` test crate): the generic store suite on two independent
//! pools, and what is particular to PostgreSQL.

use sqlx::Connection as _;

use super::*;
use crate::store::pool_settings::PoolSettings;
use crate::store::suite::{Pair, store_suite, token};
use crate::{RefreshState, RefreshTokenStore, RotateOutcome, Scopes, StoreError, UserAdmin};

/// A new, empty database on the test server; `None` (the test skips) when
/// no PostgreSQL is available.
pub(crate) async fn fresh_database(prefix: &str) -> Option<String> {
    let server = pg_cluster::server()?;
    let name = pg_cluster::database_name(prefix);
    let mut admin = sqlx::PgConnection::connect(&server.admin_url())
        .await
        .expect("connect to the test server");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    admin.close().await.ok();
    Some(server.url(&name))
}

/// Two independent pools on one new database: the connections two
/// processes would have.
async fn pg_pair() -> Option<Pair<PgStore>> {
    let url = fresh_database("suite").await?;
    let settings = PoolSettings::default();
    Some(Pair {
        first: PgStore::connect(&url, &settings).await.unwrap(),
        second: PgStore::connect(&url, &settings).await.unwrap(),
        _guard: Box::new(()),
    })
}

store_suite!(pg_pair);
crate::store::api_keys::suite::api_key_suite!(pg_pair);

async fn store() -> Option<PgStore> {
    let url = fresh_database("pg").await?;
    Some(
        PgStore::connect(&url, &PoolSettings::default())
            .await
            .unwrap(),
    )
}

#[rocket::async_test]
async fn migrations_are_idempotent_and_concurrent_starts_agree() {
    let Some(url) = fresh_database("migrate").await else {
        return;
    };
    // Several processes starting on one new database at once.
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            rocket::tokio::spawn(
                async move { PgStore::connect(&url, &PoolSettings::default()).await },
            )
        })
        .collect();
    for start in starts {
        let store = start.await.unwrap().unwrap();
        migrate(store.pool()).await.unwrap();
        let versions: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
                .fetch_all(store.pool())
                .await
                .unwrap();
        let toolkit: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
        assert_eq!(versions, toolkit);
        store.pool().close().await;
    }
    assert!(MIGRATOR.iter().all(|m| (1..=999).contains(&m.version)));
}

#[rocket::async_test]
async fn stored_fields_are_bounded_by_the_schema() {
    let Some(store) = store().await else { return };
    let mut long_client = token(1, "f");
    long_client.client_id = "c".repeat(crate::MAX_CLIENT_ID_LEN + 1);
    let err = store.insert(long_client).await.unwrap_err();
    assert!(matches!(err, StoreError::Backend { .. }), "{err:?}");
    let mut at_limit = token(2, "f");
    at_limit.client_id = "c".repeat(crate::MAX_CLIENT_ID_LEN);
    store.insert(at_limit).await.unwrap();
    let long_name = "u".repeat(crate::MAX_USERNAME_LEN + 1);
    assert!(
        store
            .create_user(&long_name, "h", &Scopes::new(), false)
            .await
            .is_err()
    );
    // A failed write changes nothing.
    assert_eq!(store.count_refresh_tokens().await.unwrap(), 1);
    assert_eq!(store.count_users().await.unwrap(), 0);
}

#[rocket::async_test]
async fn corrupt_rows_are_backend_errors_without_the_value() {
    let Some(store) = store().await else { return };
    sqlx::query("INSERT INTO users (username, password_hash, scopes) VALUES ('x', 'h', $1)")
        .bind("read:items bad\"scope")
        .execute(store.pool())
        .await
        .unwrap();
    let err = crate::UserStore::find_user(&store, "x").await.unwrap_err();
    assert!(err.to_string().contains("scopes"), "{err}");
    assert!(!err.to_string().contains("bad\"scope"), "{err}");
}

#[rocket::async_test]
async fn expired_families_and_tokens_are_pruned_and_deleted() {
    let Some(store) = store().await else { return };
    let mut old = token(1, "old");
    old.issued_at = 1;
    old.expires_at = 100;
    old.family_expires_at = 100;
    store.insert(old).await.unwrap();
    let mut live = token(2, "live");
    live.issued_at = 1;
    live.expires_at = 201;
    store.insert(live).await.unwrap();
    assert_eq!(store.delete_expired_refresh_tokens(200).await.unwrap(), 1);
    assert!(store.find(&[1; 32]).await.unwrap().is_none());
    // A later write prunes the expired family's row too: rotating into it
    // is refused.
    let mut later = token(3, "later");
    later.issued_at = 1_700_000_000;
    store.insert(later).await.unwrap();
    let families: Vec<String> =
        sqlx::query_scalar("SELECT family_id FROM refresh_families ORDER BY family_id")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(families, ["later", "live"]);
    assert!(store.delete_expired_refresh_tokens(u64::MAX).await.is_err());
}

#[rocket::async_test]
async fn a_replayed_token_in_a_pruned_family_is_refused() {
    let Some(store) = store().await else { return };
    store.insert(token(1, "f")).await.unwrap();
    store.rotate(&[1; 32], token(2, "f")).await.unwrap();
    sqlx::query("DELETE FROM refresh_families")
        .execute(store.pool())
        .await
        .unwrap();
    let outcome = store.rotate(&[2; 32], token(3, "f")).await.unwrap();
    assert_eq!(outcome, RotateOutcome::Refused);
    assert_eq!(
        store.find(&[2; 32]).await.unwrap().map(|r| r.state),
        Some(RefreshState::Active)
    );
    assert!(store.find(&[3; 32]).await.unwrap().is_none());
}

#[test]
fn lazy_pools_need_no_runtime_and_urls_parse() {
    let pool = open_lazy(
        "postgres://app@localhost:5433/auth",
        &PoolSettings::default(),
    )
    .unwrap();
    assert_eq!(pool.options().get_max_connections(), 10);
    assert!(connect_options("postgres://[bad").is_err());
}

/// Every administrative operation on one user at once, from two pools,
/// while the user's sessions rotate: nothing deadlocks or fails, and no
/// session survives.
#[test]
fn user_operations_racing_rotations_never_deadlock_and_leave_no_session() {
    const ROUNDS: u8 = 30;
    const FAMILIES: u8 = 4;
    crate::store::suite::runtime().block_on(async {
        let Some(url) = fresh_database("admin_race").await else {
            return;
        };
        let settings = PoolSettings::default();
        let first = PgStore::connect(&url, &settings).await.unwrap();
        let second = PgStore::connect(&url, &settings).await.unwrap();
        for round in 0..ROUNDS {
            first
                .create_user("alice", "h", &Scopes::new(), false)
                .await
                .unwrap();
            let hash = move |family: u8, n: u8| {
                let mut hash = [n; 32];
                hash[0] = round;
                hash[1] = family;
                hash
            };
            for family in 0..FAMILIES {
                let mut record = token(0, &format!("r{round}f{family}"));
                record.token_hash = hash(family, 0);
                first.insert(record).await.unwrap();
            }
            let barrier =
                std::sync::Arc::new(rocket::tokio::sync::Barrier::new(usize::from(FAMILIES) + 4));
            let mut tasks = Vec::new();
            for family in 0..FAMILIES {
                let store = if family % 2 == 0 { &first } else { &second }.clone();
                let barrier = barrier.clone();
                let mut successor = token(0, &format!("r{round}f{family}"));
                successor.token_hash = hash(family, 1);
                tasks.push(rocket::tokio::spawn(async move {
                    barrier.wait().await;
                    store.rotate(&hash(family, 0), successor).await.map(drop)
                }));
            }
            for op in 0..4u8 {
                let store = if op % 2 == 0 { &first } else { &second }.clone();
                let barrier = barrier.clone();
                tasks.push(rocket::tokio::spawn(async move {
                    barrier.wait().await;
                    match op {
                        0 => store.revoke_user("alice").await.map(drop),
                        1 => store.set_disabled("alice", true).await.map(drop),
                        2 => store.set_password("alice", "new").await.map(drop),
                        _ => store.delete_user("alice").await.map(drop),
                    }
                }));
            }
            for task in tasks {
                task.await.unwrap().unwrap();
            }
            let live: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM refresh_tokens WHERE username = 'alice' AND state = 'active'",
            )
            .fetch_one(first.pool())
            .await
            .unwrap();
            assert_eq!(live, 0, "round {round}");
            // Whatever order they ran in, the user is gone.
            first.delete_user("alice").await.unwrap();
        }
    });
}
