//! State survives a restart: an app rebuilt on the same database file sees
//! the items and the refresh-token history of the previous one.

use rocket::http::Status;

use super::support::{App, TestDb, Tokens, assert_token_error};

#[rocket::async_test]
async fn items_users_and_refresh_state_survive_a_restart() {
    let db = TestDb::new();
    let (john, rotated, item) = {
        let app = App::on(&db).await;
        let john = app.login("johndoe", "secret").await;
        let created = app
            .post_json("/items", Some(&john.access), r#"{"name": "kept"}"#)
            .await;
        assert_eq!(created.status, Status::Created, "{}", created.text);
        let rotated = Tokens::from(&app.refresh(&john.refresh).await);
        (john, rotated, created.json)
    };

    let app = App::on(&db).await;
    // The access token was signed with the same secret: still valid.
    let items = app.get("/items", Some(&john.access)).await;
    assert_eq!(items.status, Status::Ok, "{}", items.text);
    assert_eq!(items.json, serde_json::json!([item]));

    // The refresh token used before the restart is still known as used:
    // presenting it again is a replay, and its family dies.
    assert_token_error(&app.refresh(&john.refresh).await, "invalid_grant");
    assert_token_error(&app.refresh(&rotated.refresh).await, "invalid_grant");

    // The demo users were not added a second time.
    let admin = app.login("admin", "adminpass").await;
    let users = app.get("/admin/users", Some(&admin.access)).await;
    assert_eq!(
        users.json.as_array().map(Vec::len),
        Some(3),
        "{}",
        users.text
    );
}

#[rocket::async_test]
async fn an_unused_refresh_token_works_after_a_restart() {
    let db = TestDb::new();
    let john = {
        let app = App::on(&db).await;
        app.login("johndoe", "secret").await
    };
    let app = App::on(&db).await;
    let reply = app.refresh(&john.refresh).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    assert_eq!(reply.json["scope"], "read:items write:items");
}

#[rocket::async_test]
async fn demo_users_are_not_recreated_once_users_exist() {
    let db = TestDb::new();
    {
        let app = App::on(&db).await;
        let pool = app.db.pool().await;
        sqlx::query("DELETE FROM users WHERE username <> 'admin'")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
    let app = App::on(&db).await;
    let johndoe = app
        .token(&[("username", "johndoe"), ("password", "secret")])
        .await;
    assert_token_error(&johndoe, "invalid_grant");
    app.login("admin", "adminpass").await;
}
