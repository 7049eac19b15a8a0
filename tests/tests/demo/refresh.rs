//! Contract §5: refresh tokens: rotation, reuse detection, separation from
//! access tokens, expiry and revocation (RFC 7009).

use std::time::Duration;

use auth_core::UserAdmin as _;
use auth_core::sqlite::SqliteStore;
use rocket::http::Status;

use super::support::{App, TestDb, Tokens, assert_challenge, assert_token_error, figment, form};

#[rocket::async_test]
async fn refresh_rotates_the_pair() {
    let app = App::new().await;
    let first = app.login("johndoe", "secret").await;
    let reply = app.refresh(&first.refresh).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
    assert_eq!(reply.header("Pragma"), Some("no-cache"));
    let second = Tokens::from(&reply);
    assert_ne!(second.refresh, first.refresh);
    assert_eq!(second.scope, "read:items write:items");
    assert_eq!(reply.json["token_type"], "bearer");
    assert_eq!(reply.json["expires_in"], 1800);

    let me = app.get("/users/me", Some(&second.access)).await;
    assert_eq!(me.json["username"], "johndoe");

    // The new refresh token is good for one more round.
    let third = app.refresh(&second.refresh).await;
    assert_eq!(third.status, Status::Ok, "{}", third.text);
}

#[rocket::async_test]
async fn reusing_a_refresh_token_revokes_its_family() {
    let app = App::new().await;
    let first = app.login("johndoe", "secret").await;
    let other_login = app.login("johndoe", "secret").await;
    let second = Tokens::from(&app.refresh(&first.refresh).await);

    let replay = app.refresh(&first.refresh).await;
    assert_token_error(&replay, "invalid_grant");
    // The token the legitimate client got from the rotation is revoked too.
    let after = app.refresh(&second.refresh).await;
    assert_token_error(&after, "invalid_grant");
    // Another login is another family: untouched.
    let unrelated = app.refresh(&other_login.refresh).await;
    assert_eq!(unrelated.status, Status::Ok, "{}", unrelated.text);
}

#[rocket::async_test]
async fn refresh_can_narrow_but_not_widen_the_scope() {
    let app = App::new().await;
    let john = app.login("johndoe", "secret").await;
    let wider = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &john.refresh),
            ("scope", "read:items admin"),
        ])
        .await;
    assert_token_error(&wider, "invalid_scope");
    // A refused request does not burn the token.
    let narrower = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &john.refresh),
            ("scope", "read:items"),
        ])
        .await;
    assert_eq!(narrower.status, Status::Ok, "{}", narrower.text);
    assert_eq!(narrower.json["scope"], "read:items");
}

#[rocket::async_test]
async fn bad_or_missing_refresh_tokens_are_refused() {
    let app = App::new().await;
    assert_token_error(&app.refresh("not-a-token-we-issued").await, "invalid_grant");
    let missing = app.post_form("/token", "grant_type=refresh_token").await;
    assert_token_error(&missing, "invalid_request");
    // The strict route has no refresh grant.
    let john = app.login("johndoe", "secret").await;
    let strict = app
        .post_form(
            "/token-strict",
            &form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", &john.refresh),
            ]),
        )
        .await;
    assert_token_error(&strict, "unsupported_grant_type");
}

#[rocket::async_test]
async fn refresh_and_access_tokens_are_not_interchangeable() {
    let app = App::new().await;
    let john = app.login("johndoe", "secret").await;
    let as_access = app.get("/users/me", Some(&john.refresh)).await;
    assert_challenge(&as_access, Status::Unauthorized, "invalid_token");
    let as_refresh = app.refresh(&john.access).await;
    assert_token_error(&as_refresh, "invalid_grant");
    // Neither attempt spent the real refresh token.
    assert_eq!(app.refresh(&john.refresh).await.status, Status::Ok);
}

#[rocket::async_test]
async fn revoke_kills_the_family_and_always_answers_200() {
    let app = App::new().await;
    let john = app.login("johndoe", "secret").await;
    let second = Tokens::from(&app.refresh(&john.refresh).await);

    let revoked = app
        .post_form("/revoke", &form(&[("token", &second.refresh)]))
        .await;
    assert_eq!(revoked.status, Status::Ok, "{}", revoked.text);
    assert_token_error(&app.refresh(&second.refresh).await, "invalid_grant");

    for token in ["unknown-token", john.access.as_str()] {
        let reply = app
            .post_form(
                "/revoke",
                &form(&[("token", token), ("token_type_hint", "refresh_token")]),
            )
            .await;
        assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    }
    let missing = app
        .post_form("/revoke", "token_type_hint=refresh_token")
        .await;
    assert_token_error(&missing, "invalid_request");
    let empty = app.post_form("/revoke", "token=").await;
    assert_token_error(&empty, "invalid_request");
}

#[rocket::async_test]
async fn expired_tokens_are_refused() {
    let db = TestDb::new();
    let short = figment(&db)
        .merge(("auth_access_ttl", 1))
        .merge(("auth_refresh_ttl", 1))
        .merge(("auth_leeway", 0));
    let app = App::with(&db, short).await;
    let john = app.login("johndoe", "secret").await;
    assert_eq!(
        app.get("/users/me", Some(&john.access)).await.status,
        Status::Ok
    );
    rocket::tokio::time::sleep(Duration::from_millis(2100)).await;
    let me = app.get("/users/me", Some(&john.access)).await;
    assert_challenge(&me, Status::Unauthorized, "invalid_token");
    assert!(
        me.header("WWW-Authenticate").unwrap().contains("expired"),
        "{:?}",
        me.headers
    );
    assert_token_error(&app.refresh(&john.refresh).await, "invalid_grant");
}

#[rocket::async_test]
async fn disabling_a_user_stops_their_tokens() {
    let app = App::new().await;
    let john = app.login("johndoe", "secret").await;
    let store = SqliteStore::new(app.db.pool().await);
    assert!(store.set_disabled("johndoe", true).await.unwrap());

    let me = app.get("/users/me", Some(&john.access)).await;
    assert_challenge(&me, Status::Unauthorized, "invalid_token");
    assert_token_error(&app.refresh(&john.refresh).await, "invalid_grant");
    let login = app
        .token(&[("username", "johndoe"), ("password", "secret")])
        .await;
    assert_token_error(&login, "invalid_grant");
    store.pool().close().await;
}
