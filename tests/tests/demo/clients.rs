//! Registered OAuth clients over HTTP: client authentication at `/token`
//! and `/revoke` (RFC 6749 §2.3.1), the client-credentials grant (§4.4),
//! and every refusal.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rocket::http::{ContentType, Header, Status};

use auth_core::{ClientRecord, ClientStore as _, GrantType, Scopes};

use super::support::{App, Reply, assert_error, assert_token_error, form, send};

/// The demo with three clients: `svc` (confidential, client_credentials,
/// read:items), `app` (confidential, password and refresh, read:items) and
/// `web` (public, password and refresh, read:items write:items). Returns
/// the secrets of `svc` and `app`.
async fn app_with_clients() -> (App, String, String) {
    let app = App::new().await;
    let store = auth_core::sqlite::SqliteStore::connect(&app.db.url())
        .await
        .expect("open db");
    let scopes = |list| Scopes::parse(list).unwrap();
    let (svc, svc_secret) = ClientRecord::confidential(
        "svc",
        vec![GrantType::ClientCredentials],
        scopes("read:items"),
        0,
    );
    let (confidential, app_secret) = ClientRecord::confidential(
        "app",
        vec![GrantType::Password, GrantType::RefreshToken],
        scopes("read:items"),
        0,
    );
    let web = ClientRecord::public(
        "web",
        vec![GrantType::Password, GrantType::RefreshToken],
        scopes("read:items write:items"),
        0,
    );
    for record in [svc, confidential, web] {
        store.create_client(record).await.expect("register");
    }
    store.pool().close().await;
    (
        app,
        svc_secret.expose().to_owned(),
        app_secret.expose().to_owned(),
    )
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

/// `POST path` with `fields`, authenticated with HTTP Basic.
async fn post_basic(
    app: &App,
    path: &str,
    id: &str,
    secret: &str,
    fields: &[(&str, &str)],
) -> Reply {
    send(
        app.client
            .post(path.to_owned())
            .header(ContentType::Form)
            .header(Header::new("Authorization", basic(id, secret)))
            .body(form(fields)),
    )
    .await
}

/// 401 `invalid_client` with a `Basic` challenge and `no-store`.
fn assert_invalid_client(reply: &Reply) {
    assert_error(reply, Status::Unauthorized, "invalid_client");
    let challenge = reply.header("WWW-Authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("Basic realm=\""),
        "{:?}",
        reply.headers
    );
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
}

#[rocket::async_test]
async fn a_service_gets_a_client_token_with_basic_or_post() {
    let (app, svc, _) = app_with_clients().await;
    let reply = post_basic(
        &app,
        "/token",
        "svc",
        &svc,
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
    assert_eq!(reply.json["token_type"], "bearer");
    assert_eq!(reply.json["scope"], "read:items");
    assert!(reply.json.get("refresh_token").is_none(), "{}", reply.text);
    let access = reply.json["access_token"].as_str().unwrap().to_owned();

    // The guards see a client: `#[protected]` routes work unchanged.
    let me = app.get("/users/me", Some(&access)).await;
    assert_eq!(me.status, Status::Ok, "{}", me.text);
    assert_eq!(me.json["username"], "svc");
    assert_eq!(me.json["client"], true);
    assert_eq!(app.get("/items", Some(&access)).await.status, Status::Ok);
    let create = app
        .post_json("/items", Some(&access), r#"{"name":"x"}"#)
        .await;
    assert_eq!(create.status, Status::Forbidden, "{}", create.text);

    // client_secret_post, asking for a scope.
    let posted = app
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", "svc"),
            ("client_secret", &svc),
            ("scope", "read:items"),
        ])
        .await;
    assert_eq!(posted.status, Status::Ok, "{}", posted.text);

    // A user is still a user.
    let user = app.login("johndoe", "secret").await;
    let me = app.get("/users/me", Some(&user.access)).await;
    assert!(me.json.get("client").is_none(), "{}", me.text);
}

#[rocket::async_test]
async fn wrong_missing_or_foreign_secrets_and_unknown_clients_are_invalid_client() {
    let (app, svc, app_secret) = app_with_clients().await;
    let grant = [("grant_type", "client_credentials")];
    assert_invalid_client(&post_basic(&app, "/token", "svc", "wrong", &grant).await);
    assert_invalid_client(&post_basic(&app, "/token", "svc", &app_secret, &grant).await);
    assert_invalid_client(&post_basic(&app, "/token", "nobody", &svc, &grant).await);
    for fields in [
        vec![("client_id", "svc"), ("client_secret", "wrong")],
        vec![("client_id", "svc")],
        vec![("client_id", "nobody")],
        vec![("client_id", "web")],
        vec![],
    ] {
        let mut fields = fields;
        fields.push(("grant_type", "client_credentials"));
        let reply = app.token(&fields).await;
        assert_invalid_client(&reply);
        assert!(!reply.text.contains(&svc));
    }
    // A confidential client's id without its secret, for the password grant.
    let reply = app
        .token(&[
            ("username", "johndoe"),
            ("password", "secret"),
            ("client_id", "app"),
        ])
        .await;
    assert_invalid_client(&reply);
}

#[rocket::async_test]
async fn a_client_uses_only_its_grants_and_scopes() {
    let (app, svc, app_secret) = app_with_clients().await;
    let password = [("username", "johndoe"), ("password", "secret")];
    let reply = post_basic(&app, "/token", "svc", &svc, &password).await;
    assert_token_error(&reply, "unauthorized_client");
    let reply = post_basic(
        &app,
        "/token",
        "app",
        &app_secret,
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_token_error(&reply, "unauthorized_client");
    let reply = post_basic(
        &app,
        "/token",
        "svc",
        &svc,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "write:items"),
        ],
    )
    .await;
    assert_token_error(&reply, "invalid_scope");
    // On behalf of a user, the client's scopes narrow the user's.
    let reply = post_basic(&app, "/token", "app", &app_secret, &password).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    assert_eq!(reply.json["scope"], "read:items");
    let mut wider = password.to_vec();
    wider.push(("scope", "write:items"));
    let reply = post_basic(&app, "/token", "app", &app_secret, &wider).await;
    assert_token_error(&reply, "invalid_scope");
}

#[rocket::async_test]
async fn a_refresh_token_is_redeemed_and_revoked_only_by_its_client() {
    let (app, svc, app_secret) = app_with_clients().await;
    let login = post_basic(
        &app,
        "/token",
        "app",
        &app_secret,
        &[("username", "johndoe"), ("password", "secret")],
    )
    .await;
    assert_eq!(login.status, Status::Ok, "{}", login.text);
    let refresh = login.json["refresh_token"].as_str().unwrap().to_owned();
    let refresh_grant = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];

    // Another client, registered or not: invalid_grant.
    let mut as_web = refresh_grant.to_vec();
    as_web.push(("client_id", "web"));
    assert_token_error(&app.token(&as_web).await, "invalid_grant");
    assert_token_error(&app.token(&refresh_grant).await, "invalid_grant");
    // Its own id without the secret: invalid_client.
    let mut no_secret = refresh_grant.to_vec();
    no_secret.push(("client_id", "app"));
    assert_invalid_client(&app.token(&no_secret).await);

    // Revocation by another client, or anonymously: 200, and nothing
    // happens (RFC 7009 §2.1).
    let revoke = [("token", refresh.as_str())];
    let by_svc = post_basic(&app, "/revoke", "svc", &svc, &revoke).await;
    assert_eq!(by_svc.status, Status::Ok, "{}", by_svc.text);
    let anonymous = app.post_form("/revoke", &form(&revoke)).await;
    assert_eq!(anonymous.status, Status::Ok, "{}", anonymous.text);
    let by_web = app
        .post_form(
            "/revoke",
            &form(&[("token", &refresh), ("client_id", "web")]),
        )
        .await;
    assert_eq!(by_web.status, Status::Ok, "{}", by_web.text);
    // Its own id with a wrong secret: invalid_client.
    assert_invalid_client(&post_basic(&app, "/revoke", "app", "wrong", &revoke).await);

    // The token still works for its client, and the new one is revoked by it.
    let next = post_basic(&app, "/token", "app", &app_secret, &refresh_grant).await;
    assert_eq!(next.status, Status::Ok, "{}", next.text);
    let next_refresh = next.json["refresh_token"].as_str().unwrap().to_owned();
    let own = post_basic(
        &app,
        "/revoke",
        "app",
        &app_secret,
        &[("token", &next_refresh)],
    )
    .await;
    assert_eq!(own.status, Status::Ok, "{}", own.text);
    let after = post_basic(
        &app,
        "/token",
        "app",
        &app_secret,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &next_refresh),
        ],
    )
    .await;
    assert_token_error(&after, "invalid_grant");
}

#[rocket::async_test]
async fn unregistered_clients_stay_public_clients() {
    let (app, _, _) = app_with_clients().await;
    // As before clients were registered: a free label, secret or not.
    for fields in [
        vec![("client_id", "cli")],
        vec![("client_id", "cli"), ("client_secret", "unused")],
        vec![],
    ] {
        let mut fields = fields;
        fields.extend([("username", "johndoe"), ("password", "secret")]);
        let reply = app.token(&fields).await;
        assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    }
    // A public registered client sends no secret.
    let reply = app
        .token(&[
            ("username", "johndoe"),
            ("password", "secret"),
            ("client_id", "web"),
        ])
        .await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
}
