//! Two real `demo-app` processes on one PostgreSQL database, on different
//! ports, with the same secret: what one does, the other sees.
//!
//! The server is the one the `pg-cluster` test crate provides (a
//! throw-away cluster, or `AUTH_TEST_POSTGRES_URL`); without PostgreSQL the
//! tests skip with a notice (and fail when `CI` is set).

mod common;

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::{Reply, Server, Workdir, agent, field, read, token};
use sqlx::Connection as _;

/// Subject-cache lifetime of both instances, seconds.
const SUBJECT_CACHE_TTL: u64 = 1;
/// Rounds of the simultaneous-refresh race.
const RACE_ROUNDS: usize = 40;

/// A new database on the test server, and a work directory whose commands
/// and servers use it; `None` when there is no PostgreSQL.
fn postgres_workdir() -> Option<Workdir> {
    let server = pg_cluster::server()?;
    let name = pg_cluster::database_name("demo");
    let runtime = rocket::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut admin = sqlx::PgConnection::connect(&server.admin_url())
            .await
            .expect("connect to the test server");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create a test database");
        admin.close().await.ok();
    });
    Some(
        Workdir::new()
            .with_env("ROCKET_DATABASE_URL", &server.url(&name))
            .with_env(
                "ROCKET_AUTH_SUBJECT_CACHE_TTL",
                &SUBJECT_CACHE_TTL.to_string(),
            )
            .with_env("ROCKET_AUTH_THROTTLE", "false"),
    )
}

/// Two instances started at the same moment on one new database: both
/// migrate and seed, neither fails.
fn two_instances(workdir: &Workdir) -> (Server, Server) {
    std::thread::scope(|scope| {
        let a = scope.spawn(|| Server::start(workdir));
        let b = scope.spawn(|| Server::start(workdir));
        (a.join().unwrap(), b.join().unwrap())
    })
}

fn login(server: &Server, username: &str, password: &str) -> Reply {
    let reply = token(server, &[("username", username), ("password", password)]);
    assert_eq!(reply.status, 200, "{reply:?}");
    reply
}

fn refresh(server: &Server, refresh_token: &str) -> Reply {
    token(
        server,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
}

fn assert_invalid_grant(reply: &Reply) {
    assert_eq!(
        (reply.status, reply.json["error"].as_str()),
        (400, Some("invalid_grant")),
        "{reply:?}"
    );
}

fn me(server: &Server, access_token: &str) -> Reply {
    read(
        agent()
            .get(&server.url("/users/me"))
            .set("Authorization", &format!("Bearer {access_token}"))
            .call(),
    )
}

#[test]
fn two_instances_share_users_items_tokens_and_refresh_families() {
    let Some(workdir) = postgres_workdir() else {
        return;
    };
    let (a, b) = two_instances(&workdir);

    // Seeded once, although both instances started on an empty database.
    let tasks = read(agent().get(&b.url("/tasks")).call());
    assert_eq!(
        tasks.json["tasks"].as_array().map(Vec::len),
        Some(2),
        "{tasks:?}"
    );

    // A token from one instance is accepted by the other.
    let session = login(&a, "johndoe", "secret");
    let access = field(&session, "access_token");
    let on_b = me(&b, &access);
    assert_eq!(on_b.status, 200, "{on_b:?}");
    assert_eq!(on_b.json["username"], "johndoe");

    // Items written through one are read through the other.
    let created = read(
        agent()
            .post(&a.url("/items"))
            .set("Authorization", &format!("Bearer {access}"))
            .send_json(serde_json::json!({"name": "shared hammer"})),
    );
    assert_eq!(created.status, 201, "{created:?}");
    let items = read(
        agent()
            .get(&b.url("/items"))
            .set("Authorization", &format!("Bearer {access}"))
            .call(),
    );
    assert_eq!(items.json[0]["name"], "shared hammer", "{items:?}");

    // A refresh on A is seen by B: the old refresh token replayed on B is
    // reuse, and the whole family dies, the new token from A included.
    let old_refresh = field(&session, "refresh_token");
    let rotated = refresh(&a, &old_refresh);
    assert_eq!(rotated.status, 200, "{rotated:?}");
    assert_eq!(me(&b, &field(&rotated, "access_token")).status, 200);
    assert_invalid_grant(&refresh(&b, &old_refresh));
    assert_invalid_grant(&refresh(&b, &field(&rotated, "refresh_token")));
    assert_invalid_grant(&refresh(&a, &field(&rotated, "refresh_token")));

    // A user added with the admin command logs in on both.
    let added = workdir.run(
        &["adduser", "carol", "--scopes", "read:items"],
        "Velvet-Kayak-Meadow-31\n",
    );
    assert!(added.status.success(), "{added:?}");
    for server in [&a, &b] {
        let carol = login(server, "carol", "Velvet-Kayak-Meadow-31");
        assert_eq!(carol.json["scope"], "read:items");
    }
    let listed = workdir.run(&["user", "list"], "");
    assert!(
        listed.stdout.contains("carol\tenabled\tread:items"),
        "{listed:?}"
    );

    // A refresh on B continues a session started on A.
    let second = login(&a, "admin", "adminpass");
    let continued = refresh(&b, &field(&second, "refresh_token"));
    assert_eq!(continued.status, 200, "{continued:?}");
    assert_eq!(refresh(&a, &field(&continued, "refresh_token")).status, 200);
}

#[test]
fn a_user_disabled_through_one_instance_is_refused_by_the_other_within_the_cache_ttl() {
    let Some(workdir) = postgres_workdir() else {
        return;
    };
    let (a, b) = two_instances(&workdir);
    let session = login(&b, "johndoe", "secret");
    let access = field(&session, "access_token");
    // A has seen johndoe enabled: he is in A's subject cache now.
    assert_eq!(me(&a, &access).status, 200);

    // Disabled by the admin command, on the same database.
    let disabled = workdir.run(&["user", "disable", "johndoe"], "");
    assert!(disabled.status.success(), "{disabled:?}");
    assert_refused_within_the_cache_ttl(&a, &access);
    assert_eq!(me(&b, &access).status, 401);
    // Disabling revoked the session: neither instance refreshes it.
    assert_invalid_grant(&refresh(&a, &field(&session, "refresh_token")));
    let login_b = token(&b, &[("username", "johndoe"), ("password", "secret")]);
    assert_eq!(login_b.status, 400, "{login_b:?}");
}

/// Polls `/users/me` on `server` until it refuses `access`, within the
/// subject-cache TTL (plus slack for a slow machine).
fn assert_refused_within_the_cache_ttl(server: &Server, access: &str) {
    let at = Instant::now();
    let deadline = Duration::from_secs(SUBJECT_CACHE_TTL) + Duration::from_millis(1500);
    loop {
        let reply = me(server, access);
        if reply.status == 401 {
            assert_eq!(reply.json["error"], "invalid_token", "{reply:?}");
            return;
        }
        assert_eq!(reply.status, 200, "{reply:?}");
        assert!(
            at.elapsed() < deadline,
            "the session still works after {:?}",
            at.elapsed()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_replay_long_after_the_theft_or_a_logout_ends_the_session_on_both_instances() {
    let Some(workdir) = postgres_workdir() else {
        return;
    };
    let (a, b) = two_instances(&workdir);

    // A chain of 20 rotations, alternating instances, then the first token
    // comes back: the family dies, with the access tokens it issued.
    let first = login(&a, "johndoe", "secret");
    let mut newest = (
        field(&first, "access_token"),
        field(&first, "refresh_token"),
    );
    for round in 0..20 {
        let server = if round % 2 == 0 { &b } else { &a };
        let reply = refresh(server, &newest.1);
        assert_eq!(reply.status, 200, "rotation {round}: {reply:?}");
        newest = (
            field(&reply, "access_token"),
            field(&reply, "refresh_token"),
        );
    }
    let access = newest.0;
    assert_eq!(me(&a, &access).status, 200);
    assert_invalid_grant(&refresh(&b, &field(&first, "refresh_token")));
    assert_invalid_grant(&refresh(&a, &newest.1));
    assert_refused_within_the_cache_ttl(&a, &access);

    // Logging out on one instance ends the session on the other.
    let session = login(&a, "johndoe", "secret");
    let access = field(&session, "access_token");
    assert_eq!(me(&b, &access).status, 200);
    let revoked = read(
        agent()
            .post(&a.url("/revoke"))
            .set("Content-Type", "application/x-www-form-urlencoded")
            .send_string(&format!("token={}", field(&session, "refresh_token"))),
    );
    assert_eq!(revoked.status, 200, "{revoked:?}");
    assert_refused_within_the_cache_ttl(&b, &access);
}

#[test]
fn one_refresh_token_redeemed_on_two_instances_at_once_has_one_winner() {
    let Some(workdir) = postgres_workdir() else {
        return;
    };
    let (a, b) = two_instances(&workdir);
    let servers = [&a, &b];
    for round in 0..RACE_ROUNDS {
        let session = login(servers[round % 2], "johndoe", "secret");
        let refresh_token = field(&session, "refresh_token");
        let barrier = Arc::new(Barrier::new(2));
        let replies: Vec<Reply> = std::thread::scope(|scope| {
            let racers: Vec<_> = servers
                .iter()
                .map(|server| {
                    let barrier = Arc::clone(&barrier);
                    let refresh_token = &refresh_token;
                    scope.spawn(move || {
                        barrier.wait();
                        refresh(server, refresh_token)
                    })
                })
                .collect();
            racers.into_iter().map(|r| r.join().unwrap()).collect()
        });
        let winners: Vec<&Reply> = replies.iter().filter(|r| r.status == 200).collect();
        assert_eq!(winners.len(), 1, "round {round}: {replies:?}");
        for loser in replies.iter().filter(|r| r.status != 200) {
            assert_invalid_grant(loser);
        }
        // The loser presented a used token: reuse, so the winner's new
        // refresh token is dead too.
        let successor = field(winners[0], "refresh_token");
        assert_invalid_grant(&refresh(servers[(round + 1) % 2], &successor));
    }
}

#[test]
fn an_unknown_database_scheme_stops_the_launch_naming_the_accepted_ones() {
    let workdir = Workdir::new().with_env("ROCKET_DATABASE_URL", "mysql://u:hunter2@db/app");
    let finished = workdir.run(&["serve"], "");
    assert!(!finished.status.success(), "{finished:?}");
    let output = format!("{}{}", finished.stdout, finished.stderr);
    assert!(output.contains("\"mysql\""), "{output}");
    assert!(output.contains("postgres://"), "{output}");
    assert!(!output.contains("hunter2"), "{output}");
    let command = workdir.run(&["user", "list"], "");
    assert!(!command.status.success(), "{command:?}");
    assert!(command.stderr.contains("sqlite://"), "{command:?}");
}
