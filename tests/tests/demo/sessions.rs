//! Contract §9: the session lifecycle over HTTP. A spent refresh token
//! revokes its family however many rotations ago it was spent; ending a
//! session ends its access tokens too (on every instance, within the
//! subject-cache TTL), and so does a scope withdrawn from the user; live
//! sessions per user are capped.

use std::time::Duration;

use auth_core::sqlite::SqliteStore;
use auth_core::{PasswordHasher, UserAdmin as _};
use rocket::error::ErrorKind;
use rocket::http::Status;
use rocket::local::asynchronous::Client;

use super::support::{App, TestDb, Tokens, assert_challenge, assert_token_error, figment, form};

/// Logs john in and rotates his refresh token `rotations` times; returns
/// the first pair and the newest one.
async fn rotated_session(app: &App, rotations: usize) -> (Tokens, Tokens) {
    let first = app.login("johndoe", "secret").await;
    let mut newest = first.clone();
    for round in 0..rotations {
        let reply = app.refresh(&newest.refresh).await;
        assert_eq!(reply.status, Status::Ok, "rotation {round}: {}", reply.text);
        newest = Tokens::from(&reply);
    }
    (first, newest)
}

async fn assert_session_ended(app: &App, tokens: &Tokens) {
    assert_token_error(&app.refresh(&tokens.refresh).await, "invalid_grant");
    let me = app.get("/users/me", Some(&tokens.access)).await;
    assert_challenge(&me, Status::Unauthorized, "invalid_token");
}

async fn assert_session_alive(app: &App, tokens: &Tokens) {
    let me = app.get("/users/me", Some(&tokens.access)).await;
    assert_eq!(me.status, Status::Ok, "{}", me.text);
}

#[rocket::async_test]
async fn a_replay_revokes_the_family_however_many_rotations_ago() {
    // The store keeps only the newest tokens of a family; 16 was the depth
    // where detection used to forget.
    for rotations in [1, 15, 16, 17, 30] {
        let app = App::new().await;
        let bystander = app.login("johndoe", "secret").await;
        let (first, newest) = rotated_session(&app, rotations).await;

        let replay = app.refresh(&first.refresh).await;
        assert_token_error(&replay, "invalid_grant");
        // The thief's (or the owner's) newest pair dies with the family.
        assert_token_error(&app.refresh(&newest.refresh).await, "invalid_grant");
        let me = app.get("/users/me", Some(&newest.access)).await;
        assert_challenge(&me, Status::Unauthorized, "invalid_token");
        // Another session of the same user is another family: untouched.
        assert_session_alive(&app, &bystander).await;
        let other = app.refresh(&bystander.refresh).await;
        assert_eq!(
            other.status,
            Status::Ok,
            "after {rotations}: {}",
            other.text
        );
    }
}

#[rocket::async_test]
async fn a_middle_token_of_the_chain_is_a_replay_too() {
    let app = App::new().await;
    let first = app.login("johndoe", "secret").await;
    let mut chain = vec![first];
    for _ in 0..20 {
        let reply = app.refresh(&chain.last().unwrap().refresh).await;
        chain.push(Tokens::from(&reply));
    }
    assert_token_error(&app.refresh(&chain[7].refresh).await, "invalid_grant");
    assert_session_ended(&app, chain.last().unwrap()).await;
}

#[rocket::async_test]
async fn revoking_a_refresh_token_ends_its_access_tokens() {
    let app = App::new().await;
    let john = app.login("johndoe", "secret").await;
    let other = app.login("johndoe", "secret").await;
    // Used once, so the session is in the subject cache: revoking must
    // still end it at once on this instance.
    assert_session_alive(&app, &john).await;

    let revoked = app
        .post_form("/revoke", &form(&[("token", &john.refresh)]))
        .await;
    assert_eq!(revoked.status, Status::Ok, "{}", revoked.text);
    let me = app.get("/users/me", Some(&john.access)).await;
    assert_challenge(&me, Status::Unauthorized, "invalid_token");
    assert!(!me.text.contains(&john.access), "the token is not echoed");
    // The other session goes on.
    assert_session_alive(&app, &other).await;
}

/// Two instances on one database; the second caches subjects for 1 s.
async fn two_instances() -> (App, App) {
    let db = TestDb::new();
    let config = || figment(&db).merge(("auth_subject_cache_ttl", 1));
    let a = App::with(&db, config()).await;
    let b = App::with(&db, config()).await;
    (a, b)
}

/// Waits until the subject cache entries of `b` are stale.
async fn past_the_cache_ttl() {
    rocket::tokio::time::sleep(Duration::from_millis(1100)).await;
}

#[rocket::async_test]
async fn logging_out_on_one_instance_ends_the_session_on_another() {
    let (a, b) = two_instances().await;
    let john = a.login("johndoe", "secret").await;
    // B has seen the session and caches it.
    assert_session_alive(&b, &john).await;

    let revoked = a
        .post_form("/revoke", &form(&[("token", &john.refresh)]))
        .await;
    assert_eq!(revoked.status, Status::Ok);
    past_the_cache_ttl().await;
    let me = b.get("/users/me", Some(&john.access)).await;
    assert_challenge(&me, Status::Unauthorized, "invalid_token");
}

#[rocket::async_test]
async fn a_replay_on_one_instance_ends_the_session_on_another() {
    let (a, b) = two_instances().await;
    let first = a.login("johndoe", "secret").await;
    let second = Tokens::from(&a.refresh(&first.refresh).await);
    assert_session_alive(&b, &second).await;

    assert_token_error(&b.refresh(&first.refresh).await, "invalid_grant");
    past_the_cache_ttl().await;
    let me = a.get("/users/me", Some(&second.access)).await;
    assert_challenge(&me, Status::Unauthorized, "invalid_token");
}

#[rocket::async_test]
async fn a_password_change_ends_every_session_of_the_user() {
    let (a, b) = two_instances().await;
    let john = a.login("johndoe", "secret").await;
    let admin = a.login("admin", "adminpass").await;
    assert_session_alive(&b, &john).await;

    // An admin tool on the same database changes john's password.
    let store = SqliteStore::new(a.db.pool().await);
    let hash = PasswordHasher::with_params(256, 1, 1)
        .unwrap()
        .hash_blocking("a-new-long-passphrase")
        .unwrap();
    assert!(store.set_password("johndoe", &hash).await.unwrap());
    store.pool().close().await;

    past_the_cache_ttl().await;
    assert_session_ended(&b, &john).await;
    assert_session_ended(&a, &john).await;
    // Other users keep their sessions.
    assert_session_alive(&b, &admin).await;
}

#[rocket::async_test]
async fn a_withdrawn_scope_is_refused_on_every_instance_within_the_cache_ttl() {
    let (a, b) = two_instances().await;
    let admin = a.login("admin", "adminpass").await;
    let users = b.get("/admin/users", Some(&admin.access)).await;
    assert_eq!(users.status, Status::Ok, "{}", users.text);

    // An admin tool on the same database withdraws `admin` from admin.
    let store = SqliteStore::new(a.db.pool().await);
    let kept = "read:items write:items".parse().unwrap();
    assert!(store.set_scopes("admin", &kept).await.unwrap());
    store.pool().close().await;

    past_the_cache_ttl().await;
    for app in [&a, &b] {
        // The token still carries `admin`: it is refused everywhere, on
        // the route that needs the scope and on one that does not.
        let users = app.get("/admin/users", Some(&admin.access)).await;
        assert_challenge(&users, Status::Unauthorized, "invalid_token");
        let me = app.get("/users/me", Some(&admin.access)).await;
        assert_challenge(&me, Status::Unauthorized, "invalid_token");
    }
    // The session goes on with what is left: a refresh narrows the token.
    let reply = a.refresh(&admin.refresh).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    assert_eq!(reply.json["scope"], "read:items write:items");
    let narrowed = Tokens::from(&reply);
    assert_session_alive(&b, &narrowed).await;
    let users = b.get("/admin/users", Some(&narrowed.access)).await;
    assert_challenge(&users, Status::Forbidden, "insufficient_scope");
}

#[rocket::async_test]
async fn live_sessions_per_user_are_capped_oldest_first() {
    let db = TestDb::new();
    let app = App::with(&db, figment(&db).merge(("auth_max_sessions_per_user", 3))).await;
    let admin = app.login("admin", "adminpass").await;
    let mut sessions = Vec::new();
    for _ in 0..5 {
        sessions.push(app.login("johndoe", "secret").await);
    }
    // The two oldest are gone, refresh and access token alike.
    for old in &sessions[..2] {
        assert_session_ended(&app, old).await;
    }
    for live in &sessions[2..] {
        assert_session_alive(&app, live).await;
        let reply = app.refresh(&live.refresh).await;
        assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    }
    // The cap is per user.
    assert_session_alive(&app, &admin).await;
    // Rotation keeps a session, it does not open one: one more login still
    // ends exactly the oldest live session.
    let newest = app.login("johndoe", "secret").await;
    assert_session_ended(&app, &sessions[2]).await;
    assert_session_alive(&app, &sessions[3]).await;
    assert_session_alive(&app, &newest).await;
}

#[rocket::async_test]
async fn an_out_of_range_session_cap_stops_the_launch() {
    for cap in [0, 10_001] {
        let db = TestDb::new();
        let config = figment(&db).merge(("auth_max_sessions_per_user", cap));
        let error = Client::tracked(demo_app::rocket_from(config))
            .await
            .expect_err("cap {cap} was accepted");
        assert!(
            matches!(error.kind(), ErrorKind::FailedFairings(_)),
            "{error:?}"
        );
    }
}
