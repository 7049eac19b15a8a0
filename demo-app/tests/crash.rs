//! Crash safety of the real binary: SIGKILL during a burst of writes (item
//! creations and refresh rotations from several threads) loses no write
//! that was acknowledged, and leaves a database that passes
//! `PRAGMA integrity_check` and serves again on restart.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Server, Workdir, agent, field, token, try_read};
use serde_json::json;
use sqlx::Row as _;

/// Writes acknowledged before the kill: `(id, name)` of items, and the
/// newest refresh token each rotating thread received.
#[derive(Default)]
struct Acknowledged {
    items: Vec<(i64, String)>,
    refresh_tokens: Vec<String>,
}

#[test]
fn sigkill_during_writes_loses_no_acknowledged_write() {
    let workdir = Workdir::new();
    let mut server = Server::start(&workdir);
    let login = token(&server, &[("username", "johndoe"), ("password", "secret")]);
    assert_eq!(login.status, 200, "{login:?}");
    let access = field(&login, "access_token");
    let base = server.base.clone();

    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    let mut threads = Vec::new();
    for writer in 0..2 {
        let (base, access, stop, acked) =
            (base.clone(), access.clone(), stop.clone(), acked.clone());
        threads.push(std::thread::spawn(move || {
            let agent = agent();
            for n in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let name = format!("item-{writer}-{n}");
                let reply = try_read(
                    agent
                        .post(&format!("{base}/items"))
                        .set("Authorization", &format!("Bearer {access}"))
                        .send_json(json!({ "name": name })),
                );
                match reply {
                    Some(reply) if reply.status == 201 => {
                        let id = reply.json["id"].as_i64().expect("item id");
                        acked.lock().unwrap().items.push((id, name));
                    }
                    Some(reply) => panic!("item {name}: {reply:?}"),
                    None => break,
                }
            }
        }));
    }
    for _ in 0..2 {
        let login = token(&server, &[("username", "johndoe"), ("password", "secret")]);
        let mut refresh = field(&login, "refresh_token");
        let (base, stop, acked) = (base.clone(), stop.clone(), acked.clone());
        threads.push(std::thread::spawn(move || {
            let agent = agent();
            while !stop.load(Ordering::Relaxed) {
                let reply =
                    try_read(agent.post(&format!("{base}/token")).send_form(&[
                        ("grant_type", "refresh_token"),
                        ("refresh_token", &refresh),
                    ]));
                match reply {
                    Some(reply) if reply.status == 200 => {
                        refresh = reply.json["refresh_token"]
                            .as_str()
                            .expect("token")
                            .to_owned();
                    }
                    Some(reply) => panic!("refresh: {reply:?}"),
                    None => break,
                }
            }
            acked.lock().unwrap().refresh_tokens.push(refresh);
        }));
    }

    // Let the burst run, then kill the server in the middle of it.
    let started = Instant::now();
    while acked.lock().unwrap().items.len() < 40 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill();
    stop.store(true, Ordering::Relaxed);
    for thread in threads {
        thread.join().expect("writer thread");
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(
        acked.items.len() >= 40,
        "only {} items before the kill",
        acked.items.len()
    );
    assert_eq!(acked.refresh_tokens.len(), 2);

    // The database as the killed process left it.
    rocket::execute(async {
        let url = format!("sqlite://{}", workdir.database().display());
        let pool = sqlx::SqlitePool::connect(&url)
            .await
            .expect("open the database");
        let check: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&pool)
            .await
            .expect("integrity_check");
        assert_eq!(check, "ok");
        for (id, name) in &acked.items {
            let row = sqlx::query("SELECT name, owner FROM items WHERE id = ?")
                .bind(id)
                .fetch_optional(&pool)
                .await
                .expect("select item");
            let row = row.unwrap_or_else(|| panic!("acknowledged item {id} ({name}) is lost"));
            assert_eq!(row.get::<String, _>("name"), *name);
            assert_eq!(row.get::<String, _>("owner"), "johndoe");
        }
        for refresh in &acked.refresh_tokens {
            let hash = auth_core::hash_refresh_token(refresh);
            let found: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM refresh_tokens WHERE token_hash = ?")
                    .bind(&hash[..])
                    .fetch_one(&pool)
                    .await
                    .expect("select refresh token");
            assert_eq!(found, 1, "an acknowledged refresh token is lost");
        }
        pool.close().await;
    });

    // And the restarted server serves them.
    let server = Server::start(&workdir);
    let items = try_read(
        agent()
            .get(&server.url("/items"))
            .set("Authorization", &format!("Bearer {access}"))
            .call(),
    )
    .expect("GET /items");
    assert_eq!(items.status, 200, "{items:?}");
    let listed: Vec<i64> = items
        .json
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["id"].as_i64().expect("id"))
        .collect();
    for (id, name) in &acked.items {
        assert!(
            listed.contains(id),
            "item {id} ({name}) missing after restart"
        );
    }
    let health = try_read(agent().get(&server.url("/health")).call()).expect("health");
    assert_eq!(health.status, 200);
}
