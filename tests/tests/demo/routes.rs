//! Contract §7: the demo's routes, and the 401/400/403 answers of the
//! protected ones (§3) and of optional authentication (§4).

use rocket::http::{ContentType, Header, Status};
use serde_json::{Value, json};

use super::support::{App, Reply, assert_challenge, bearer, send};

/// Every protected route: method, path, and a body for POST.
const PROTECTED: [(&str, &str); 4] = [
    ("GET", "/users/me"),
    ("GET", "/items"),
    ("POST", "/items"),
    ("GET", "/admin/users"),
];

/// Sends `method path` with these raw `Authorization` header values.
async fn call(app: &App, method: &str, path: &str, authorization: &[&str]) -> Reply {
    let mut request = match method {
        "GET" => app.client.get(path.to_owned()),
        "POST" => app
            .client
            .post(path.to_owned())
            .header(ContentType::JSON)
            .body(r#"{"name": "from an anonymous caller"}"#),
        other => panic!("unexpected method {other}"),
    };
    for value in authorization {
        request = request.header(Header::new("Authorization", value.to_string()));
    }
    send(request).await
}

#[rocket::async_test]
async fn health_is_public() {
    let app = App::new().await;
    let reply = app.get("/health", None).await;
    assert_eq!(reply.status, Status::Ok);
    assert_eq!(reply.json, json!({ "status": "ok" }));
}

#[rocket::async_test]
async fn users_me_shows_the_caller_and_the_token_scopes() {
    let app = App::new().await;
    let admin = app.login("admin", "adminpass").await;
    let reply = app.get("/users/me", Some(&admin.access)).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    assert_eq!(
        reply.json,
        json!({ "username": "admin", "scopes": ["admin", "read:items", "write:items"] })
    );
    let narrow = app.login_with_scope("admin", "adminpass", "admin").await;
    let reply = app.get("/users/me", Some(&narrow.access)).await;
    assert_eq!(
        reply.json,
        json!({ "username": "admin", "scopes": ["admin"] })
    );
}

#[rocket::async_test]
async fn protected_routes_without_credentials_are_401_with_a_bare_challenge() {
    let app = App::new().await;
    for (method, path) in PROTECTED {
        for authorization in [&[][..], &["Basic am9obmRvZTpzZWNyZXQ="], &["Token abc"]] {
            let reply = call(&app, method, path, authorization).await;
            assert_challenge(&reply, Status::Unauthorized, "unauthorized");
            assert_eq!(
                reply.header("WWW-Authenticate"),
                Some(r#"Bearer realm="api""#),
                "{method} {path}"
            );
        }
    }
    // Nothing was stored by the refused POSTs.
    assert!(app.item_names().await.is_empty());
}

#[rocket::async_test]
async fn invalid_tokens_are_401_invalid_token() {
    let app = App::new().await;
    let john = app.login("johndoe", "secret").await;
    let mut forged = john.access.clone();
    // Change the last signature character.
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let other_app = {
        let db = super::support::TestDb::new();
        let figment = super::support::figment(&db)
            .merge(("auth_secret", "another-secret-0123456789-abcdefghijklmnopq"));
        App::with(&db, figment).await
    };
    let foreign = other_app.login("johndoe", "secret").await.access;

    for (method, path) in PROTECTED {
        for token in [
            "not-a-jwt",
            "a.b.c",
            forged.as_str(),
            foreign.as_str(),
            "has\"quote",
        ] {
            let header = format!("Bearer {token}");
            let reply = call(&app, method, path, &[header.as_str()]).await;
            assert_challenge(&reply, Status::Unauthorized, "invalid_token");
            assert!(
                !reply.text.contains(token),
                "echoes the token: {}",
                reply.text
            );
        }
    }
}

#[rocket::async_test]
async fn empty_bearer_or_several_headers_are_400_invalid_request() {
    let app = App::new().await;
    let john = app.login("johndoe", "secret").await;
    let good = format!("Bearer {}", john.access);
    let good = good.as_str();
    for (method, path) in PROTECTED {
        for headers in [&["Bearer"][..], &["Bearer "], &[good, good]] {
            let reply = call(&app, method, path, headers).await;
            assert_challenge(&reply, Status::BadRequest, "invalid_request");
        }
    }
}

#[rocket::async_test]
async fn the_scheme_is_case_insensitive() {
    let app = App::new().await;
    let john = app.login("johndoe", "secret").await;
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let header = format!("{scheme} {}", john.access);
        let reply = call(&app, "GET", "/users/me", &[header.as_str()]).await;
        assert_eq!(reply.status, Status::Ok, "{scheme}: {}", reply.text);
    }
}

#[rocket::async_test]
async fn items_are_listed_created_and_owned_by_the_caller() {
    let app = App::new().await;
    let john = app.login("johndoe", "secret").await;
    let empty = app.get("/items", Some(&john.access)).await;
    assert_eq!(empty.status, Status::Ok, "{}", empty.text);
    assert_eq!(empty.json, json!([]));

    let created = app
        .post_json("/items", Some(&john.access), r#"{"name": "  hammer "}"#)
        .await;
    assert_eq!(created.status, Status::Created, "{}", created.text);
    let id = created.json["id"].as_i64().expect("an integer id");
    assert_eq!(
        created.json,
        json!({ "id": id, "name": "hammer", "owner": "johndoe" })
    );

    let admin = app.login("admin", "adminpass").await;
    let second = app
        .post_json("/items", Some(&admin.access), r#"{"name": "wrench"}"#)
        .await;
    assert_eq!(second.status, Status::Created, "{}", second.text);
    assert_eq!(second.json["owner"], "admin");

    let listed = app.get("/items", Some(&john.access)).await;
    assert_eq!(
        listed.json,
        json!([
            { "id": id, "name": "hammer", "owner": "johndoe" },
            second.json,
        ])
    );
}

#[rocket::async_test]
async fn missing_scopes_are_403_insufficient_scope() {
    let app = App::new().await;
    let john = app.login("johndoe", "secret").await;
    let reply = app.get("/admin/users", Some(&john.access)).await;
    assert_challenge(&reply, Status::Forbidden, "insufficient_scope");
    assert!(
        reply
            .header("WWW-Authenticate")
            .unwrap()
            .contains(r#"scope="admin""#),
        "{:?}",
        reply.headers
    );

    let read_only = app
        .login_with_scope("johndoe", "secret", "read:items")
        .await;
    let write = app
        .post_json("/items", Some(&read_only.access), r#"{"name": "x"}"#)
        .await;
    assert_challenge(&write, Status::Forbidden, "insufficient_scope");
    assert!(
        write
            .header("WWW-Authenticate")
            .unwrap()
            .contains(r#"scope="write:items""#)
    );

    let admin_only = app.login_with_scope("admin", "adminpass", "admin").await;
    let read = app.get("/items", Some(&admin_only.access)).await;
    assert_challenge(&read, Status::Forbidden, "insufficient_scope");
    assert!(app.item_names().await.is_empty());
}

#[rocket::async_test]
async fn a_refused_request_never_has_its_body_parsed() {
    let app = App::new().await;
    let read_only = app
        .login_with_scope("johndoe", "secret", "read:items")
        .await;
    // Invalid JSON would be a 400 if the body were read first.
    for token in [None, Some("garbage"), Some(read_only.access.as_str())] {
        let request = bearer(
            app.client
                .post("/items")
                .header(ContentType::JSON)
                .body("{ this is not json"),
            token,
        );
        let reply = send(request).await;
        assert!(
            matches!(reply.status.code, 401 | 403),
            "{token:?}: {} {}",
            reply.status,
            reply.text
        );
    }
}

#[rocket::async_test]
async fn admin_lists_every_user() {
    let app = App::new().await;
    let admin = app.login("admin", "adminpass").await;
    let reply = app.get("/admin/users", Some(&admin.access)).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    assert_eq!(
        reply.json,
        json!([
            { "username": "admin", "scopes": ["admin", "read:items", "write:items"], "disabled": false },
            { "username": "alice", "scopes": ["read:items"], "disabled": true },
            { "username": "johndoe", "scopes": ["read:items", "write:items"], "disabled": false },
        ])
    );
    assert!(
        !reply.text.contains("argon2"),
        "leaks hashes: {}",
        reply.text
    );
}

fn task_owners(reply: &Reply) -> Vec<Value> {
    reply.json["tasks"]
        .as_array()
        .expect("a task array")
        .iter()
        .map(|task| {
            assert!(task["id"].is_i64() && task["title"].is_string(), "{task}");
            task["owner"].clone()
        })
        .collect()
}

#[rocket::async_test]
async fn tasks_show_public_ones_plus_the_callers_own() {
    let app = App::new().await;
    let anonymous = app.get("/tasks", None).await;
    assert_eq!(anonymous.status, Status::Ok, "{}", anonymous.text);
    assert_eq!(anonymous.json["user"], Value::Null);
    let public = task_owners(&anonymous);
    assert!(!public.is_empty());
    assert!(public.iter().all(Value::is_null), "{}", anonymous.text);

    let john = app.login("johndoe", "secret").await;
    let mine = app.get("/tasks", Some(&john.access)).await;
    assert_eq!(mine.status, Status::Ok, "{}", mine.text);
    assert_eq!(mine.json["user"], "johndoe");
    let owners = task_owners(&mine);
    assert_eq!(owners.iter().filter(|o| o.is_null()).count(), public.len());
    assert!(owners.iter().any(|o| o == "johndoe"), "{}", mine.text);
    assert!(owners.iter().all(|o| o.is_null() || o == "johndoe"));

    // Admin owns no task: the public ones only, but as admin.
    let admin = app.login("admin", "adminpass").await;
    let theirs = app.get("/tasks", Some(&admin.access)).await;
    assert_eq!(theirs.json["user"], "admin");
    assert_eq!(theirs.json["tasks"], anonymous.json["tasks"]);

    // Another scheme is anonymous (contract §4).
    let basic = call(&app, "GET", "/tasks", &["Basic am9obmRvZTpzZWNyZXQ="]).await;
    assert_eq!(basic.status, Status::Ok);
    assert_eq!(basic.json["user"], Value::Null);
}

#[rocket::async_test]
async fn tasks_refuse_an_invalid_token_instead_of_going_anonymous() {
    let app = App::new().await;
    let john = app.login("johndoe", "secret").await;
    let invalid = app.get("/tasks", Some("garbage.token.here")).await;
    assert_challenge(&invalid, Status::Unauthorized, "invalid_token");
    assert!(invalid.json.get("tasks").is_none());
    // A refresh token is not an access token here either.
    let refresh = app.get("/tasks", Some(&john.refresh)).await;
    assert_challenge(&refresh, Status::Unauthorized, "invalid_token");
    let empty = call(&app, "GET", "/tasks", &["Bearer "]).await;
    assert_challenge(&empty, Status::BadRequest, "invalid_request");
}
