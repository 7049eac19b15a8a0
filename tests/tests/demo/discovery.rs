//! Discovery (contract §12): the authorization-server metadata (RFC 8414)
//! and the protected-resource metadata (RFC 9728) of the demo, the
//! `resource_metadata` of its challenges, Swagger's `tokenUrl` under a
//! public base URL, and resource servers that find an issuer's keys from
//! its URL alone and trust several issuers, each with its own audience and
//! keys. The same behind nginx with a stripped prefix is in
//! `demo-app/tests/proxy.rs`.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use auth_core::{AccessTokens, Auth, AuthUser, Scopes, TokenKeys, protected};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rocket::error::ErrorKind;
use rocket::figment::Figment;
use rocket::http::{Header, Status};
use rocket::local::asynchronous::Client;
use rocket::{get, routes};
use serde_json::{Value, json};

use super::support::{App, Reply, TestDb, assert_challenge, figment, send};

const BASE: &str = "https://example.com/auth";
const AS_METADATA: &str = "/.well-known/oauth-authorization-server";
const PR_METADATA: &str = "/.well-known/oauth-protected-resource";
/// Where RFC 9728 §3.1 puts the metadata of [`BASE`].
const PR_METADATA_URL: &str = "https://example.com/.well-known/oauth-protected-resource/auth";

/// The demo, reached at [`BASE`] and issuing tokens as [`BASE`].
async fn public_demo() -> App {
    let db = TestDb::new();
    let figment = figment(&db)
        // A trailing slash is normalised away.
        .merge(("auth_public_base_url", format!("{BASE}/")))
        .merge(("auth_issuer", BASE));
    App::with(&db, figment).await
}

/// The claims of a JWT, unverified.
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON")
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("an array: {value}"))
        .iter()
        .map(|v| v.as_str().expect("a string"))
        .collect()
}

fn assert_cached_json(reply: &Reply) {
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    assert_eq!(reply.header("Content-Type"), Some("application/json"));
    assert_eq!(
        reply.header("Cache-Control"),
        Some("public, max-age=3600"),
        "{:?}",
        reply.headers
    );
}

#[rocket::async_test]
async fn the_authorization_server_metadata_names_the_demos_endpoints() {
    let app = public_demo().await;
    let reply = send(app.client.get(AS_METADATA)).await;
    assert_cached_json(&reply);
    let metadata = &reply.json;
    assert_eq!(metadata["issuer"], BASE);
    assert_eq!(metadata["token_endpoint"], format!("{BASE}/token"));
    assert_eq!(metadata["revocation_endpoint"], format!("{BASE}/revoke"));
    assert_eq!(
        metadata["jwks_uri"],
        format!("{BASE}/.well-known/jwks.json")
    );
    assert_eq!(
        strings(&metadata["grant_types_supported"]),
        ["password", "refresh_token", "client_credentials"]
    );
    assert_eq!(
        strings(&metadata["scopes_supported"]),
        ["admin", "read:items", "write:items"]
    );
    assert_eq!(
        strings(&metadata["token_endpoint_auth_methods_supported"]),
        ["none", "client_secret_basic", "client_secret_post"]
    );
    assert_eq!(
        strings(&metadata["revocation_endpoint_auth_methods_supported"]),
        ["none", "client_secret_basic", "client_secret_post"]
    );
    // REQUIRED by RFC 8414 §2; no authorization endpoint, so empty.
    assert_eq!(metadata["response_types_supported"], json!([]));

    // RFC 8414 §3.1: an issuer with a path has its metadata at the host's
    // root with the path after the well-known name; only that path.
    let at_path = send(app.client.get(format!("{AS_METADATA}/auth"))).await;
    assert_cached_json(&at_path);
    assert_eq!(at_path.json, reply.json);
    let other = send(app.client.get(format!("{AS_METADATA}/other"))).await;
    assert_eq!(other.status, Status::NotFound);

    // The issuer is what the tokens say they come from.
    let tokens = app.login("johndoe", "secret").await;
    assert_eq!(claims(&tokens.access)["iss"], BASE);
}

#[rocket::async_test]
async fn the_protected_resource_metadata_is_named_in_every_challenge() {
    let app = public_demo().await;
    let reply = send(app.client.get(PR_METADATA)).await;
    assert_cached_json(&reply);
    assert_eq!(reply.json["resource"], BASE);
    assert_eq!(strings(&reply.json["authorization_servers"]), [BASE]);
    assert_eq!(strings(&reply.json["bearer_methods_supported"]), ["header"]);
    assert_eq!(
        strings(&reply.json["scopes_supported"]),
        ["admin", "read:items", "write:items"]
    );
    let at_path = send(app.client.get(format!("{PR_METADATA}/auth"))).await;
    assert_eq!(at_path.json, reply.json);

    let metadata = format!("resource_metadata=\"{PR_METADATA_URL}\"");
    let anonymous = app.get("/items", None).await;
    assert_challenge(&anonymous, Status::Unauthorized, "unauthorized");
    assert_eq!(
        anonymous.header("WWW-Authenticate"),
        Some(format!("Bearer realm=\"api\", {metadata}").as_str())
    );
    let forged = app.get("/items", Some("not.a.token")).await;
    assert_challenge(&forged, Status::Unauthorized, "invalid_token");
    let challenge = forged.header("WWW-Authenticate").unwrap();
    assert!(
        challenge.starts_with(&format!("Bearer realm=\"api\", {metadata}, error=")),
        "{challenge}"
    );
    let reader = app
        .login_with_scope("johndoe", "secret", "read:items")
        .await;
    let denied = app.get("/admin/users", Some(&reader.access)).await;
    assert_challenge(&denied, Status::Forbidden, "insufficient_scope");
    assert!(
        denied
            .header("WWW-Authenticate")
            .unwrap()
            .contains(&metadata),
        "{:?}",
        denied.headers
    );
}

#[rocket::async_test]
async fn without_a_base_url_metadata_follows_the_host_and_is_not_cached() {
    // The demo as configured by default: its issuer, "auth-core", is not a
    // URL, so there is no authorization-server metadata.
    let app = App::new().await;
    let reply = send(app.client.get(AS_METADATA)).await;
    assert_eq!(reply.status, Status::NotFound, "{}", reply.text);

    for (host, resource) in [
        ("localhost:8000", "http://localhost:8000"),
        ("127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("api.example.com", "https://api.example.com"),
    ] {
        let reply = send(
            app.client
                .get(PR_METADATA)
                .header(Header::new("Host", host)),
        )
        .await;
        assert_eq!(reply.status, Status::Ok, "{}", reply.text);
        assert_eq!(reply.json["resource"], resource);
        assert_eq!(reply.header("Cache-Control"), Some("no-store"));
        assert!(reply.json.get("authorization_servers").is_none());
    }
    // No base URL, no resource_metadata: the challenge is as before.
    let anonymous = app.get("/items", None).await;
    assert_eq!(
        anonymous.header("WWW-Authenticate"),
        Some("Bearer realm=\"api\"")
    );
}

#[rocket::async_test]
async fn swaggers_token_url_is_under_the_public_base_url() {
    let app = public_demo().await;
    let reply = send(app.client.get("/openapi.json")).await;
    assert_eq!(reply.status, Status::Ok);
    let flow =
        &reply.json["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"];
    assert_eq!(flow["tokenUrl"], format!("{BASE}/token"));
    assert_eq!(flow["refreshUrl"], format!("{BASE}/token"));
    assert_eq!(reply.json["servers"][0]["url"], BASE);
}

#[rocket::async_test]
async fn a_bad_public_base_url_stops_the_launch() {
    for bad in [
        "example.com/auth",
        "/auth",
        "ftp://example.com",
        "https://example.com/auth?x=1",
        "https://example.com/auth#top",
    ] {
        let db = TestDb::new();
        let figment = figment(&db).merge(("auth_public_base_url", bad));
        assert_refused(demo_app::rocket_from(figment)).await;
    }
}

// ---- Resource servers --------------------------------------------------

const A_KEY: &str = include_str!("../../../auth-core/tests/fixtures/ed25519-a.key");
const B_KEY: &str = include_str!("../../../auth-core/tests/fixtures/ed25519-b.key");

#[protected(scopes = "read")]
#[get("/reports")]
fn reports(user: AuthUser) -> String {
    format!("reports for {}", user.subject())
}

/// A tiny HTTP server that answers `GET <path>` with the JSON document
/// registered for it (404 otherwise), and counts the requests per path.
struct Documents {
    origin: String,
    documents: Arc<Mutex<HashMap<String, String>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl Documents {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let origin = format!("http://{}", listener.local_addr().expect("addr"));
        let documents: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let (served, counted) = (Arc::clone(&documents), Arc::clone(&hits));
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut request_line = String::new();
                let _ = reader.read_line(&mut request_line);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let path = request_line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("")
                    .to_owned();
                *counted.lock().unwrap().entry(path.clone()).or_default() += 1;
                let body = served.lock().unwrap().get(&path).cloned();
                let (status, body) = match body {
                    Some(body) => ("200 OK", body),
                    None => ("404 Not Found", "{}".to_owned()),
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Self {
            origin,
            documents,
            hits,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    fn serve(&self, path: &str, document: &Value) {
        self.documents
            .lock()
            .unwrap()
            .insert(path.to_owned(), document.to_string());
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

/// An issuer signing with the Ed25519 fixture `key` under `kid`.
fn signer(key: &str, kid: &str, issuer: &str, audience: &str) -> AccessTokens {
    let keys = TokenKeys::ed25519_private_pem(key.as_bytes())
        .unwrap()
        .with_kid(kid)
        .unwrap();
    AccessTokens::new(keys, issuer, audience)
}

fn issue(tokens: &AccessTokens, subject: &str) -> String {
    tokens
        .issue(subject, "client", &Scopes::parse("read").unwrap())
        .unwrap()
        .token
}

fn resource_server_figment() -> Figment {
    rocket::Config::figment().merge(("log_level", "off"))
}

fn resource_server_rocket(figment: Figment) -> rocket::Rocket<rocket::Build> {
    rocket::custom(figment)
        .attach(Auth::resource_server().scope("read", "Read"))
        .mount("/", routes![reports])
}

async fn resource_server(figment: Figment) -> Client {
    Client::tracked(resource_server_rocket(figment))
        .await
        .expect("launches")
}

/// Checks that the launch is refused by a fairing.
async fn assert_refused(rocket: rocket::Rocket<rocket::Build>) {
    match rocket.ignite().await {
        Ok(_) => panic!("launch should have been refused"),
        Err(e) => assert!(matches!(e.kind(), ErrorKind::FailedFairings(_)), "{e:?}"),
    }
}

async fn call(client: &Client, token: &str) -> Reply {
    send(
        client
            .get("/reports")
            .header(Header::new("Authorization", format!("Bearer {token}"))),
    )
    .await
}

/// Two issuers at `documents`: `a` publishes metadata (its keys are found
/// from its URL alone), `b` is configured with its JWKS URL.
struct TwoIssuers {
    documents: Documents,
    a: String,
    b: String,
    a_tokens: AccessTokens,
    b_tokens: AccessTokens,
}

impl TwoIssuers {
    fn start() -> Self {
        let documents = Documents::start();
        let a = documents.url("/a");
        let b = documents.url("/b");
        let a_tokens = signer(A_KEY, "a-1", &a, "reports-a");
        let b_tokens = signer(B_KEY, "b-1", &b, "reports-b");
        documents.serve(
            &format!("{AS_METADATA}/a"),
            &json!({"issuer": a, "jwks_uri": documents.url("/a/keys")}),
        );
        documents.serve("/a/keys", &serde_json::to_value(a_tokens.jwks()).unwrap());
        documents.serve("/b/keys", &serde_json::to_value(b_tokens.jwks()).unwrap());
        Self {
            documents,
            a,
            b,
            a_tokens,
            b_tokens,
        }
    }

    fn figment(&self) -> Figment {
        resource_server_figment().merge((
            "auth_trusted_issuers",
            json!([
                {"issuer": self.a, "audience": "reports-a"},
                {"issuer": self.b, "audience": "reports-b", "jwks_url": self.documents.url("/b/keys")},
            ]),
        ))
    }
}

#[rocket::async_test]
async fn a_resource_server_finds_the_issuers_keys_from_its_url_alone() {
    let issuers = TwoIssuers::start();
    let figment = resource_server_figment()
        .merge(("auth_issuer", &issuers.a))
        .merge(("auth_audience", "reports-a"));
    let client = resource_server(figment).await;
    assert_eq!(issuers.documents.hits(&format!("{AS_METADATA}/a")), 1);
    assert_eq!(issuers.documents.hits("/a/keys"), 1);

    let reply = call(&client, &issue(&issuers.a_tokens, "johndoe")).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    assert_eq!(reply.text, "reports for johndoe");

    // Its own metadata names the issuer it trusts.
    let metadata = send(
        client
            .get(PR_METADATA)
            .header(Header::new("Host", "127.0.0.1:8001")),
    )
    .await;
    assert_eq!(
        strings(&metadata.json["authorization_servers"]),
        [&issuers.a]
    );
    // A resource server is no authorization server.
    let reply = send(client.get(AS_METADATA)).await;
    assert_eq!(reply.status, Status::NotFound);
}

#[rocket::async_test]
async fn metadata_for_another_issuer_stops_the_launch() {
    let issuers = TwoIssuers::start();
    let c = issuers.documents.url("/c");
    // The document at c's metadata URL speaks for a (RFC 8414 §3.3).
    issuers.documents.serve(
        &format!("{AS_METADATA}/c"),
        &json!({"issuer": issuers.a, "jwks_uri": issuers.documents.url("/a/keys")}),
    );
    let figment = resource_server_figment()
        .merge(("auth_issuer", &c))
        .merge(("auth_audience", "reports-a"));
    assert_refused(resource_server_rocket(figment)).await;
    assert_eq!(issuers.documents.hits("/a/keys"), 0);
}

#[rocket::async_test]
async fn several_issuers_each_verify_their_own_tokens_only() {
    let issuers = TwoIssuers::start();
    let client = resource_server(issuers.figment()).await;

    for (tokens, subject) in [(&issuers.a_tokens, "alice"), (&issuers.b_tokens, "bob")] {
        let reply = call(&client, &issue(tokens, subject)).await;
        assert_eq!(reply.status, Status::Ok, "{subject}: {}", reply.text);
        assert_eq!(reply.text, format!("reports for {subject}"));
    }
    let metadata = send(
        client
            .get(PR_METADATA)
            .header(Header::new("Host", "127.0.0.1:8001")),
    )
    .await;
    assert_eq!(
        strings(&metadata.json["authorization_servers"]),
        [&issuers.a, &issuers.b]
    );

    let refused = [
        // a's key, claiming to be b: under a's kid (unknown to b) ...
        (
            "a's key and kid, b's iss",
            issue(&signer(A_KEY, "a-1", &issuers.b, "reports-b"), "mallory"),
        ),
        // ... and under b's kid (b's key does not verify it).
        (
            "a's key, b's kid and iss",
            issue(&signer(A_KEY, "b-1", &issuers.b, "reports-b"), "mallory"),
        ),
        // b's key, claiming to be a.
        (
            "b's key, a's iss",
            issue(&signer(B_KEY, "a-1", &issuers.a, "reports-a"), "mallory"),
        ),
        // a's own token, but for b's audience.
        (
            "a's token for b's audience",
            issue(&signer(A_KEY, "a-1", &issuers.a, "reports-b"), "mallory"),
        ),
        // An issuer nobody trusts.
        (
            "an unknown issuer",
            issue(
                &signer(A_KEY, "a-1", "https://c.example", "reports-a"),
                "mallory",
            ),
        ),
    ];
    for (what, token) in refused {
        let reply = call(&client, &token).await;
        assert_challenge(&reply, Status::Unauthorized, "invalid_token");
        assert!(!reply.text.contains("mallory"), "{what}: {}", reply.text);
    }
}

#[rocket::async_test]
async fn the_number_of_trusted_issuers_is_bounded() {
    let entries: Vec<Value> = (0..=auth_core::config::MAX_TRUSTED_ISSUERS)
        .map(|i| {
            json!({
                "issuer": format!("https://issuer-{i}.example"),
                "audience": "reports",
                "jwks_url": format!("https://issuer-{i}.example/keys"),
            })
        })
        .collect();
    let figment = resource_server_figment().merge(("auth_trusted_issuers", entries));
    assert_refused(resource_server_rocket(figment)).await;
}
