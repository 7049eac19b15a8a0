//! API keys over HTTP (contract §12): a key in `X-API-Key` acts as its
//! owner through `AuthUser`, `MaybeUser` and `#[protected]`, with the
//! scopes both hold; revoked, expired and unknown keys are 401
//! `invalid_token`; a key with a bearer token or the session cookie is 400
//! `invalid_request`. Keys are made on the database file, as the CLI makes
//! them.

use std::time::{SystemTime, UNIX_EPOCH};

use auth_core::sqlite::SqliteStore;
use auth_core::{ApiKeyStore as _, Auth, NewApiKey, Scopes, UserAdmin as _};
use rocket::http::{ContentType, Cookie, Header, Status};
use rocket::local::asynchronous::LocalRequest;

use super::support::{App, TestDb, assert_challenge, bearer, figment, send};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

fn scopes(list: &str) -> Scopes {
    Scopes::parse(list).expect("valid scopes")
}

/// The store of `app`'s database file, through a pool of its own (as the
/// CLI, or another instance, would have).
async fn store(app: &App) -> SqliteStore {
    SqliteStore::new(app.db.pool().await)
}

/// A new key for `owner` with `list` scopes.
async fn key(app: &App, owner: &str, list: &str) -> NewApiKey {
    let store = store(app).await;
    auth_core::create_api_key(&store, &store, owner, "tests", scopes(list), now(), None)
        .await
        .expect("a key")
}

fn with_key<'c>(request: LocalRequest<'c>, key: &str) -> LocalRequest<'c> {
    request.header(Header::new("X-API-Key", key.to_owned()))
}

/// A demo whose instances ask the store on every request.
async fn uncached() -> App {
    let db = TestDb::new();
    let figment = figment(&db).merge(("auth_subject_cache_ttl", 0));
    App::with(&db, figment).await
}

#[rocket::async_test]
async fn a_key_acts_as_its_owner_with_its_scopes_through_every_guard() {
    let app = App::new().await;
    let read = key(&app, "johndoe", "read:items").await;
    let client = &app.client;

    let me = send(with_key(client.get("/users/me"), read.expose())).await;
    assert_eq!(me.status, Status::Ok, "{}", me.text);
    assert_eq!(me.json["username"], "johndoe");
    assert_eq!(me.json["scopes"], serde_json::json!(["read:items"]));
    // Header names are case-insensitive.
    let items = send(
        client
            .get("/items")
            .header(Header::new("x-api-key", read.expose().to_owned())),
    )
    .await;
    assert_eq!(items.status, Status::Ok, "{}", items.text);
    // MaybeUser: the key's owner, not an anonymous caller.
    let tasks = send(with_key(client.get("/tasks"), read.expose())).await;
    assert_eq!(tasks.status, Status::Ok, "{}", tasks.text);
    assert_eq!(tasks.json["user"], "johndoe", "{}", tasks.text);

    // #[protected] checks the key's scopes, not the owner's.
    let create = with_key(client.post("/items"), read.expose())
        .header(ContentType::JSON)
        .body(r#"{"name": "from a key"}"#);
    assert_challenge(&send(create).await, Status::Forbidden, "insufficient_scope");
    // A key is no ambient credential: no CSRF token, no Origin needed.
    let write = key(&app, "johndoe", "write:items").await;
    let create = with_key(client.post("/items"), write.expose())
        .header(ContentType::JSON)
        .body(r#"{"name": "from a key"}"#);
    let created = send(create).await;
    assert!(created.status.class().is_success(), "{}", created.text);
}

#[rocket::async_test]
async fn revoked_keys_are_refused() {
    // Revoked through the toolkit: refused from the next request on.
    let app = App::new().await;
    let k = key(&app, "johndoe", "read:items").await;
    let me = || send(with_key(app.client.get("/users/me"), k.expose()));
    assert_eq!(me().await.status, Status::Ok);
    let auth = app.client.rocket().state::<Auth>().expect("Auth");
    assert!(auth.revoke_api_key(&k.record.id).await.expect("revoked"));
    let refused = me().await;
    assert_challenge(&refused, Status::Unauthorized, "invalid_token");
    assert!(
        refused.json["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("API key")),
        "{}",
        refused.text
    );

    // Revoked elsewhere (the CLI, another instance): refused once the
    // cache entry is gone; with no cache, at once.
    let app = uncached().await;
    let k = key(&app, "johndoe", "read:items").await;
    let me = || send(with_key(app.client.get("/users/me"), k.expose()));
    assert_eq!(me().await.status, Status::Ok);
    let store = store(&app).await;
    store
        .revoke_api_key(&k.record.id, now())
        .await
        .expect("revoke");
    assert_challenge(&me().await, Status::Unauthorized, "invalid_token");
}

#[rocket::async_test]
async fn expired_unknown_and_malformed_keys_are_refused() {
    let app = App::new().await;
    let store = store(&app).await;
    let expired = NewApiKey::generate(
        "johndoe",
        "expired",
        scopes("read:items"),
        now() - 100,
        Some(now() - 1),
    );
    store
        .insert_api_key(expired.record.clone())
        .await
        .expect("stored");
    let unknown = NewApiKey::generate("johndoe", "never stored", Scopes::new(), now(), None);
    for key in [
        expired.expose(),
        unknown.expose(),
        "ak_nonsense",
        "Bearer abc",
    ] {
        let reply = send(with_key(app.client.get("/users/me"), key)).await;
        assert_challenge(&reply, Status::Unauthorized, "invalid_token");
        assert!(!reply.text.contains(key), "{}", reply.text);
        // MaybeUser never turns a bad key into an anonymous caller.
        let reply = send(with_key(app.client.get("/tasks"), key)).await;
        assert_challenge(&reply, Status::Unauthorized, "invalid_token");
    }
}

#[rocket::async_test]
async fn the_owner_must_be_enabled_and_still_hold_the_scopes() {
    let app = uncached().await;
    let k = key(&app, "johndoe", "read:items write:items").await;
    let store = store(&app).await;
    store
        .set_scopes("johndoe", &scopes("write:items"))
        .await
        .expect("scopes");
    let me = send(with_key(app.client.get("/users/me"), k.expose())).await;
    assert_eq!(me.json["scopes"], serde_json::json!(["write:items"]));
    let items = send(with_key(app.client.get("/items"), k.expose())).await;
    assert_challenge(&items, Status::Forbidden, "insufficient_scope");

    store.set_disabled("johndoe", true).await.expect("disable");
    let me = send(with_key(app.client.get("/users/me"), k.expose())).await;
    assert_challenge(&me, Status::Unauthorized, "invalid_token");
}

#[rocket::async_test]
async fn one_credential_per_request() {
    let app = App::new().await;
    let k = key(&app, "johndoe", "read:items").await;
    let tokens = app.login("johndoe", "secret").await;
    let client = &app.client;

    let both = bearer(
        with_key(client.get("/users/me"), k.expose()),
        Some(&tokens.access),
    );
    assert_challenge(&send(both).await, Status::BadRequest, "invalid_request");
    // The bearer token may even be invalid: two credentials are refused first.
    let both = bearer(with_key(client.get("/tasks"), k.expose()), Some("x.y.z"));
    assert_challenge(&send(both).await, Status::BadRequest, "invalid_request");

    let cookie = with_key(client.get("/users/me"), k.expose())
        .cookie(Cookie::new("__Host-access", tokens.access.clone()));
    assert_challenge(&send(cookie).await, Status::BadRequest, "invalid_request");

    let twice = with_key(client.get("/users/me"), k.expose())
        .header(Header::new("X-API-Key", k.expose().to_owned()));
    assert_challenge(&send(twice).await, Status::BadRequest, "invalid_request");
    let empty = client.get("/users/me").header(Header::new("X-API-Key", ""));
    assert_challenge(&send(empty).await, Status::BadRequest, "invalid_request");
}
