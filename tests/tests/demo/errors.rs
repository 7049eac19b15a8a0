//! Every error a client sees is JSON with an RFC-style `error` code: unknown
//! routes, bad input, and database failures.

use rocket::error::ErrorKind;
use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::Client;

use super::support::{App, TestDb, assert_error, figment, send};

#[rocket::async_test]
async fn unknown_routes_and_methods_are_json_404() {
    let app = App::new().await;
    for request in [
        app.client.get("/nope"),
        app.client.get("/items/1"),
        app.client.delete("/items"),
        app.client.put("/health"),
    ] {
        let reply = send(request).await;
        assert_error(&reply, Status::NotFound, "not_found");
    }
}

#[rocket::async_test]
async fn malformed_item_bodies_are_clear_json_errors_and_store_nothing() {
    let app = App::new().await;
    let john = app.login("johndoe", "secret").await;
    let token = Some(john.access.as_str());
    let long_name = format!(r#"{{"name": "{}"}}"#, "x".repeat(101));
    let huge_name = format!(r#"{{"name": "{}"}}"#, "y".repeat(100_000));
    let cases: [(&str, Status); 12] = [
        ("", Status::BadRequest),
        ("{", Status::BadRequest),
        ("not json", Status::BadRequest),
        (r#"{"name": "x"} trailing"#, Status::BadRequest),
        ("[]", Status::UnprocessableEntity),
        ("{}", Status::UnprocessableEntity),
        (r#"{"name": 42}"#, Status::UnprocessableEntity),
        (r#"{"name": null}"#, Status::UnprocessableEntity),
        // Clients cannot choose the owner.
        (
            r#"{"name": "x", "owner": "admin"}"#,
            Status::UnprocessableEntity,
        ),
        (r#"{"name": "   "}"#, Status::UnprocessableEntity),
        (&long_name, Status::UnprocessableEntity),
        (&huge_name, Status::UnprocessableEntity),
    ];
    for (body, status) in cases {
        let reply = app.post_json("/items", token, body).await;
        assert_error(&reply, status, "invalid_request");
        assert!(reply.text.len() < 300, "short answer: {}", reply.text);
    }
    let control = app
        .post_json("/items", token, r#"{"name": "a\u0007b"}"#)
        .await;
    assert_error(&control, Status::UnprocessableEntity, "invalid_request");

    // Over Rocket's 1 MiB JSON limit.
    let oversized = format!(r#"{{"name": "{}"}}"#, "z".repeat(1 << 21));
    let reply = app.post_json("/items", token, &oversized).await;
    assert_error(&reply, Status::PayloadTooLarge, "invalid_request");

    assert!(app.item_names().await.is_empty());
    // Exactly 100 characters, multi-byte ones included, is fine.
    let longest = format!(r#"{{"name": "{}"}}"#, "é".repeat(100));
    let reply = app.post_json("/items", token, &longest).await;
    assert_eq!(reply.status, Status::Created, "{}", reply.text);
}

#[rocket::async_test]
async fn error_descriptions_do_not_echo_the_body() {
    let app = App::new().await;
    let john = app.login("johndoe", "secret").await;
    let reply = app
        .post_json("/items", Some(&john.access), r#"{"name": 31337313373}"#)
        .await;
    assert_error(&reply, Status::UnprocessableEntity, "invalid_request");
    assert!(!reply.text.contains("31337313373"), "{}", reply.text);
    let reply = app
        .post_json(
            "/items",
            Some(&john.access),
            r#"{"name": ["sensitive-value"]}"#,
        )
        .await;
    assert!(!reply.text.contains("sensitive-value"), "{}", reply.text);
}

#[rocket::async_test]
async fn revoke_without_a_form_is_a_json_error() {
    let app = App::new().await;
    let request = app
        .client
        .post("/revoke")
        .header(ContentType::JSON)
        .body(r#"{"token": "x"}"#);
    let reply = send(request).await;
    // `/revoke` reads its form as `/token` does (client credentials may
    // come as HTTP Basic): another content type is 400, as there.
    assert_error(&reply, Status::BadRequest, "invalid_request");
}

#[rocket::async_test]
async fn database_failures_are_500_server_error_without_details() {
    let app = App::new().await;
    let john = app.login("johndoe", "secret").await;
    let pool = app.db.pool().await;
    sqlx::query("DROP TABLE items")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let list = app.get("/items", Some(&john.access)).await;
    assert_error(&list, Status::InternalServerError, "server_error");
    let create = app
        .post_json("/items", Some(&john.access), r#"{"name": "x"}"#)
        .await;
    assert_error(&create, Status::InternalServerError, "server_error");
    for reply in [&list, &create] {
        let text = reply.text.to_lowercase();
        assert!(
            !text.contains("items") && !text.contains("sql") && !text.contains("table"),
            "leaks database details: {}",
            reply.text
        );
    }
    // The rest of the app still works.
    assert_eq!(
        app.get("/users/me", Some(&john.access)).await.status,
        Status::Ok
    );
}

#[rocket::async_test]
async fn an_unusable_database_aborts_the_launch() {
    let db = TestDb::new();
    let missing_dir = format!(
        "sqlite://{}",
        db.path().join("no-such-dir").join("demo.db").display()
    );
    for url in [
        "mysql://localhost/demo",
        "sqlite://demo.db?mode=bogus",
        &missing_dir,
    ] {
        let figment = figment(&db).merge(("database_url", url));
        let error = Client::tracked(demo_app::rocket_from(figment))
            .await
            .err()
            .unwrap_or_else(|| panic!("{url} should not ignite"));
        assert!(
            matches!(error.kind(), ErrorKind::FailedFairings(failed) if failed[0].name == "demo database"),
            "{url}: {error}"
        );
    }
}

#[rocket::async_test]
async fn a_refused_auth_configuration_leaves_the_database_untouched() {
    let db = TestDb::new();
    let figment = figment(&db).merge(("auth_secret", "too short"));
    let error = Client::tracked(demo_app::rocket_from(figment))
        .await
        .expect_err("a weak secret stops the launch");
    assert!(
        matches!(error.kind(), ErrorKind::FailedFairings(_)),
        "{error}"
    );
    assert!(
        !db.path().exists(),
        "the database file was created although the launch was refused"
    );
}
