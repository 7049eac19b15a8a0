//! Contract §12: any-of alternatives and protected modules over HTTP,
//! their launch checks and their OpenAPI security; and the demo's
//! `DELETE /items/<id>` (`write:items` or `admin`) and admin module.

use auth_core::{Auth, AuthUser, MemoryUserStore, PasswordHasher, TestUser, protected};
use rocket::error::ErrorKind;
use rocket::http::{Header, Status};
use rocket::local::asynchronous::Client;
use rocket::{delete, get, routes};
use rocket_okapi::{openapi, openapi_get_routes_spec};
use serde_json::{Value, json};

use super::app::{config, parts};
use crate::demo::support::{App, Reply, send};

const SCHEME: &str = auth_core::openapi::SECURITY_SCHEME;

#[protected(any(scopes = "write", scopes = "admin"))]
#[openapi]
#[delete("/things/<id>")]
fn delete_thing(id: u32, user: AuthUser) -> String {
    format!("{} deleted {id}", user.subject())
}

#[protected(any(scopes = "read write", scopes = "admin"))]
#[openapi]
#[get("/report")]
fn report() -> &'static str {
    "report"
}

/// Every route in here requires `admin`.
#[protected(scopes = "admin")]
mod admin {
    use auth_core::{AuthUser, protected};
    use rocket::get;
    use rocket_okapi::openapi;

    /// Not a route: left as written.
    fn greeting(user: &AuthUser) -> String {
        format!("hello admin {}", user.subject())
    }

    #[openapi]
    #[get("/admin")]
    pub fn home(user: AuthUser) -> String {
        greeting(&user)
    }

    // The module's scope and the route's own: admin AND write.
    #[openapi]
    #[protected(scopes = "write")]
    #[get("/admin/write")]
    pub fn write() -> &'static str {
        "admin write"
    }

    // admin AND (read OR write).
    #[protected(any(scopes = "read", scopes = "write"))]
    #[openapi]
    #[get("/admin/either")]
    pub fn either() -> &'static str {
        "admin either"
    }

    pub mod deep {
        use rocket::get;
        use rocket_okapi::openapi;

        #[openapi]
        #[get("/admin/deep")]
        pub fn deep() -> &'static str {
            "deep"
        }
    }
}

/// The auth fairing with the user `sam` and the scopes read, write, admin.
fn declared() -> auth_core::AuthFairing {
    let users = MemoryUserStore::new();
    let _ = TestUser::new("sam")
        .scopes("read write admin")
        .insert_into(&users);
    Auth::fairing()
        .users(users)
        .hasher(PasswordHasher::with_params(256, 1, 1).unwrap())
        .config(config())
        .scope("read", "Read")
        .scope("write", "Write")
        .scope("admin", "Everything")
}

async fn client() -> Client {
    let (routes, spec) = openapi_get_routes_spec![
        delete_thing,
        report,
        admin::home,
        admin::write,
        admin::either,
        admin::deep::deep,
    ];
    let rocket = rocket::build()
        .attach(declared())
        .mount("/", routes)
        .mount("/", auth_core::openapi::docs(spec));
    Client::tracked(rocket).await.expect("valid rocket")
}

async fn call(client: &Client, method: &str, path: &str, scope: Option<&str>) -> Reply {
    let mut request = match method {
        "DELETE" => client.delete(path.to_owned()),
        _ => client.get(path.to_owned()),
    };
    if let Some(scope) = scope {
        let auth = client.rocket().state::<Auth>().unwrap();
        let token = TestUser::new("sam").scopes(scope).token(auth);
        request = request.header(Header::new("Authorization", format!("Bearer {token}")));
    }
    send(request).await
}

/// Asserts a 403 whose challenge names `scope` and whose description names
/// `description`.
fn assert_insufficient(reply: Reply, scope: &str, description: &str) {
    let (status, challenge, body) = parts(reply);
    assert_eq!(status, Status::Forbidden);
    assert_eq!(body["error"], "insufficient_scope");
    assert_eq!(body["error_description"], description);
    let challenge = challenge.expect("a challenge");
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(
        challenge.ends_with(&format!("scope=\"{scope}\"")),
        "{challenge}"
    );
}

#[rocket::async_test]
async fn any_alternative_held_in_full_is_enough() {
    let client = client().await;
    for scope in ["write", "admin", "read admin", "write admin"] {
        let reply = call(&client, "DELETE", "/things/7", Some(scope)).await;
        assert_eq!(reply.status, Status::Ok, "{scope}: {}", reply.text);
        assert_eq!(reply.text, "sam deleted 7");
    }
    for scope in ["read write", "admin"] {
        let reply = call(&client, "GET", "/report", Some(scope)).await;
        assert_eq!(reply.status, Status::Ok, "{scope}");
    }
}

#[rocket::async_test]
async fn no_alternative_held_is_403_naming_the_first_alternative() {
    let client = client().await;
    let reply = call(&client, "DELETE", "/things/7", Some("read")).await;
    assert_insufficient(
        reply,
        "write",
        "this resource requires the scope write, or the scope admin",
    );
    // Half of an alternative is not enough.
    let reply = call(&client, "GET", "/report", Some("read")).await;
    assert_insufficient(
        reply,
        "read write",
        "this resource requires the scopes read write, or the scope admin",
    );
    let reply = call(&client, "DELETE", "/things/7", None).await;
    assert_eq!(reply.status, Status::Unauthorized);
}

#[rocket::async_test]
async fn a_protected_module_requires_its_scope_on_every_route() {
    let client = client().await;
    for path in ["/admin", "/admin/deep"] {
        assert_eq!(
            call(&client, "GET", path, Some("admin")).await.status,
            Status::Ok
        );
        assert_eq!(
            call(&client, "GET", path, None).await.status,
            Status::Unauthorized,
            "{path}"
        );
        let reply = call(&client, "GET", path, Some("read write")).await;
        assert_insufficient(reply, "admin", "this resource requires the scope admin");
    }
    assert_eq!(
        call(&client, "GET", "/admin", Some("admin")).await.text,
        "hello admin sam"
    );
}

#[rocket::async_test]
async fn routes_in_a_protected_module_add_scopes_and_never_drop_the_modules() {
    let client = client().await;
    assert_eq!(
        call(&client, "GET", "/admin/write", Some("admin write"))
            .await
            .status,
        Status::Ok
    );
    // The route's own scope does not replace the module's.
    let reply = call(&client, "GET", "/admin/write", Some("write")).await;
    assert_insufficient(
        reply,
        "admin write",
        "this resource requires the scope admin write",
    );
    let reply = call(&client, "GET", "/admin/write", Some("admin")).await;
    assert_insufficient(
        reply,
        "admin write",
        "this resource requires the scope admin write",
    );

    for scope in ["admin read", "admin write"] {
        let reply = call(&client, "GET", "/admin/either", Some(scope)).await;
        assert_eq!(reply.status, Status::Ok, "{scope}");
    }
    let reply = call(&client, "GET", "/admin/either", Some("read write")).await;
    assert_insufficient(
        reply,
        "admin read",
        "this resource requires the scopes admin read, or the scopes admin write",
    );
}

#[rocket::async_test]
async fn openapi_has_one_security_object_per_alternative() {
    let client = client().await;
    let reply = send(client.get("/openapi.json")).await;
    assert_eq!(reply.status, Status::Ok);
    let doc: Value = reply.json;
    let security = |path: &str, method: &str| doc["paths"][path][method]["security"].clone();
    assert_eq!(
        security("/things/{id}", "delete"),
        json!([{ SCHEME: ["write"] }, { SCHEME: ["admin"] }])
    );
    assert_eq!(
        security("/report", "get"),
        json!([{ SCHEME: ["read", "write"] }, { SCHEME: ["admin"] }])
    );
    assert_eq!(security("/admin", "get"), json!([{ SCHEME: ["admin"] }]));
    assert_eq!(
        security("/admin/deep", "get"),
        json!([{ SCHEME: ["admin"] }])
    );
    assert_eq!(
        security("/admin/write", "get"),
        json!([{ SCHEME: ["admin", "write"] }])
    );
    assert_eq!(
        security("/admin/either", "get"),
        json!([{ SCHEME: ["admin", "read"] }, { SCHEME: ["admin", "write"] }])
    );
    for (path, method) in [("/things/{id}", "delete"), ("/admin", "get")] {
        let responses = &doc["paths"][path][method]["responses"];
        assert!(responses.get("403").is_some(), "{path}: {responses}");
    }
    // No stray scheme names: only the one scheme is defined and used.
    let text = serde_json::to_string(&doc).unwrap();
    assert!(!text.contains(&format!("{SCHEME}#")), "{text}");
}

#[protected(any(scopes = "read", scopes = "erase"))]
#[get("/erase")]
fn erase() {}

#[rocket::async_test]
async fn an_undeclared_scope_in_any_alternative_stops_the_launch() {
    let rocket = rocket::build()
        .attach(declared())
        .mount("/", routes![erase]);
    let error = Client::tracked(rocket).await.expect_err("launch refused");
    let ErrorKind::SentinelAborts(sentries) = error.kind() else {
        panic!("{error:?}");
    };
    assert_eq!(sentries.len(), 1, "{sentries:?}");
    assert!(sentries[0].type_name.contains("__auth_scopes_erase"));
}

// ----- the demo -----

async fn demo_item(app: &App, token: &str) -> i64 {
    let reply = app
        .post_json("/items", Some(token), r#"{"name": "hammer"}"#)
        .await;
    assert_eq!(reply.status, Status::Created, "{}", reply.text);
    reply.json["id"].as_i64().expect("an id")
}

async fn demo_delete(app: &App, id: i64, token: Option<&str>) -> Reply {
    let request = app.client.delete(format!("/items/{id}"));
    send(crate::demo::support::bearer(request, token)).await
}

#[rocket::async_test]
async fn demo_delete_item_takes_write_items_or_admin() {
    let app = App::new().await;
    let writer = app.login("johndoe", "secret").await.access;
    let admin = app
        .login_with_scope("admin", "adminpass", "read:items admin")
        .await
        .access;
    let reader = app
        .login_with_scope("johndoe", "secret", "read:items")
        .await
        .access;

    let first = demo_item(&app, &writer).await;
    let second = demo_item(&app, &writer).await;

    let refused = demo_delete(&app, first, Some(&reader)).await;
    assert_insufficient(
        refused,
        "write:items",
        "this resource requires the scope write:items, or the scope admin",
    );
    assert_eq!(
        demo_delete(&app, first, None).await.status,
        Status::Unauthorized
    );
    assert_eq!(app.item_names().await.len(), 2, "nothing deleted yet");

    assert_eq!(
        demo_delete(&app, first, Some(&writer)).await.status,
        Status::NoContent
    );
    // admin holds `admin` and not `write:items` here.
    assert_eq!(
        demo_delete(&app, second, Some(&admin)).await.status,
        Status::NoContent
    );
    assert!(app.item_names().await.is_empty());
    assert_eq!(
        demo_delete(&app, second, Some(&writer)).await.status,
        Status::NotFound
    );
}

#[rocket::async_test]
async fn demo_admin_module_and_delete_are_documented() {
    let app = App::new().await;
    let doc = app.get("/openapi.json", None).await.json;
    // Machine clients are more alternatives with the same scopes; the
    // session cookie and API keys, more without scopes.
    assert_eq!(
        doc["paths"]["/items/{id}"]["delete"]["security"],
        json!([
            { SCHEME: ["write:items"] },
            { SCHEME: ["admin"] },
            { auth_core::openapi::CLIENT_CREDENTIALS_SCHEME: ["write:items"] },
            { auth_core::openapi::CLIENT_CREDENTIALS_SCHEME: ["admin"] },
            { auth_core::openapi::COOKIE_SCHEME: [] },
            { auth_core::openapi::API_KEY_SCHEME: [] },
        ])
    );
    assert_eq!(
        doc["paths"]["/admin/users"]["get"]["security"],
        json!([
            { SCHEME: ["admin"] },
            { auth_core::openapi::CLIENT_CREDENTIALS_SCHEME: ["admin"] },
            { auth_core::openapi::COOKIE_SCHEME: [] },
            { auth_core::openapi::API_KEY_SCHEME: [] },
        ])
    );
    assert_eq!(
        doc["paths"]["/admin/users"]["get"]["operationId"],
        "admin_users"
    );
    let reader = app.login("johndoe", "secret").await.access;
    let reply = app.get("/admin/users", Some(&reader)).await;
    assert_eq!(reply.status, Status::Forbidden);
}
