//! Contract §8: the demo's OpenAPI document and Swagger UI.

use std::path::{Path, PathBuf};
use std::process::Command;

use auth_core::{
    Auth, AuthError, AuthUser, BearerToken, MemoryUserStore, PasswordHasher, Scopes, TokenRequest,
};
use auth_core::{TokenResponse, protected};
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::Client;
use rocket::{get, post};
use rocket_okapi::{openapi, openapi_get_routes_spec};
use serde_json::{Value, json};

use super::support::{App, Reply, form, send};

const SCHEME: &str = auth_core::openapi::SECURITY_SCHEME;
const COOKIE_SCHEME: &str = auth_core::openapi::COOKIE_SCHEME;
const CLIENTS_SCHEME: &str = auth_core::openapi::CLIENT_CREDENTIALS_SCHEME;
const API_KEY_SCHEME: &str = auth_core::openapi::API_KEY_SCHEME;

/// The `security` contract §8 gives each demo route: `None` for a public
/// one.
fn expected_security() -> Vec<(&'static str, &'static str, Option<Value>)> {
    // The session cookie (contract §11) is an alternative to the bearer
    // token wherever one is taken, and so is the API key (§12); API-key
    // schemes list no scopes. A
    // client's token (the client-credentials flow) is another, with the
    // same scopes.
    let required = |scopes: &[&str]| {
        Some(json!([
            { SCHEME: scopes },
            { CLIENTS_SCHEME: scopes },
            { COOKIE_SCHEME: [] },
            { API_KEY_SCHEME: [] },
        ]))
    };
    vec![
        ("get", "/health", None),
        ("post", "/token", None),
        ("post", "/token-strict", None),
        ("post", "/revoke", None),
        ("get", "/users/me", required(&[])),
        ("get", "/items", required(&["read:items"])),
        ("post", "/items", required(&["write:items"])),
        (
            "delete",
            "/items/{id}",
            Some(json!([
                { SCHEME: ["write:items"] },
                { SCHEME: ["admin"] },
                { CLIENTS_SCHEME: ["write:items"] },
                { CLIENTS_SCHEME: ["admin"] },
                { COOKIE_SCHEME: [] },
                { API_KEY_SCHEME: [] },
            ])),
        ),
        ("get", "/admin/users", required(&["admin"])),
        (
            "get",
            "/tasks",
            Some(json!([
                {},
                { SCHEME: [] },
                { CLIENTS_SCHEME: [] },
                { COOKIE_SCHEME: [] },
                { API_KEY_SCHEME: [] },
            ])),
        ),
        ("post", "/session", None),
        ("get", "/session", Some(json!([{ COOKIE_SCHEME: [] }]))),
        ("delete", "/session", None),
        ("post", "/session/refresh", None),
    ]
}

async fn document(app: &App) -> Value {
    let reply = app.get("/openapi.json", None).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    assert_eq!(reply.header("Content-Type"), Some("application/json"));
    reply.json
}

/// Every `(method, path)` of the document.
fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            found.push((method.clone(), path.clone()));
        }
    }
    found.sort();
    found
}

#[rocket::async_test]
async fn every_operation_has_the_security_of_its_handler() {
    let app = App::new().await;
    let doc = document(&app).await;
    let expected = expected_security();
    let mut listed: Vec<_> = expected
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    listed.sort();
    assert_eq!(operations(&doc), listed, "every demo route, nothing else");
    for (method, path, security) in expected {
        let operation = &doc["paths"][path][method];
        assert_eq!(
            operation.get("security"),
            security.as_ref(),
            "security of {method} {path}"
        );
    }
    assert!(doc.get("security").is_none(), "no global requirement");
}

#[rocket::async_test]
async fn the_password_flow_comes_from_the_declared_scopes() {
    let app = App::new().await;
    let doc = document(&app).await;
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("schemes");
    assert_eq!(
        schemes.len(),
        4,
        "password, client credentials, cookie and API key: {schemes:?}"
    );
    let key = &schemes[API_KEY_SCHEME];
    assert_eq!(key["type"], "apiKey");
    assert_eq!(key["in"], "header");
    assert_eq!(key["name"], "X-API-Key");
    let cookie = &schemes[COOKIE_SCHEME];
    assert_eq!(cookie["type"], "apiKey");
    assert_eq!(cookie["in"], "cookie");
    assert_eq!(cookie["name"], "__Host-access");
    let scheme = &schemes[SCHEME];
    assert_eq!(scheme["type"], "oauth2");
    let flows = scheme["flows"].as_object().expect("flows");
    assert_eq!(flows.keys().collect::<Vec<_>>(), ["password"]);
    let flow = &flows["password"];
    assert_eq!(flow["tokenUrl"], "/token");
    assert_eq!(flow["refreshUrl"], "/token");
    let declared: serde_json::Map<String, Value> = demo_app::SCOPES
        .iter()
        .map(|(scope, description)| ((*scope).to_owned(), json!(description)))
        .collect();
    assert_eq!(flow["scopes"], Value::Object(declared.clone()));
    // The demo registers clients: the client-credentials flow, on the
    // route that takes every grant.
    let clients = &schemes[CLIENTS_SCHEME];
    assert_eq!(clients["type"], "oauth2");
    let flows = clients["flows"].as_object().expect("flows");
    assert_eq!(flows.keys().collect::<Vec<_>>(), ["clientCredentials"]);
    assert_eq!(flows["clientCredentials"]["tokenUrl"], "/token");
    assert_eq!(
        flows["clientCredentials"]["scopes"],
        Value::Object(declared)
    );
    assert!(doc.get("servers").is_none(), "mounted at the root");
}

/// Resolves a `$ref` of the document.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str() {
        Some(reference) => {
            let pointer = reference.strip_prefix('#').expect("a local reference");
            doc.pointer(pointer).expect("the reference resolves")
        }
        None => value,
    }
}

#[rocket::async_test]
async fn protected_operations_document_their_auth_errors() {
    let app = App::new().await;
    let doc = document(&app).await;
    for (method, path, security) in expected_security() {
        let responses = &doc["paths"][path][method]["responses"];
        let Some(security) = security else { continue };
        if security[0].get(SCHEME).is_none() && security[1].get(SCHEME).is_none() {
            // `GET /session`, documented by hand: cookie only.
            continue;
        }
        let needs_scope = security[0][SCHEME]
            .as_array()
            .is_some_and(|s| !s.is_empty());
        let mut statuses = vec!["400", "401"];
        if needs_scope {
            statuses.push("403");
        } else {
            assert!(responses.get("403").is_none(), "{method} {path}: no 403");
        }
        for status in statuses {
            let response = &responses[status];
            let schema = resolve(&doc, &response["content"]["application/json"]["schema"]);
            assert_eq!(
                schema["properties"]
                    .as_object()
                    .map(|p| p.keys().map(String::as_str).collect::<Vec<_>>()),
                Some(vec!["error", "error_description"]),
                "{method} {path} {status}: {response}"
            );
            if status != "400" {
                let header = &response["headers"]["WWW-Authenticate"];
                assert_eq!(header["required"], true, "{method} {path} {status}");
            }
        }
    }
}

#[rocket::async_test]
async fn token_routes_document_their_form_and_errors() {
    let app = App::new().await;
    let doc = document(&app).await;
    let fields = [
        "grant_type",
        "username",
        "password",
        "scope",
        "client_id",
        "client_secret",
    ];
    for (path, refresh, required) in [
        ("/token", true, vec![]),
        (
            "/token-strict",
            false,
            vec!["grant_type", "password", "username"],
        ),
    ] {
        let operation = &doc["paths"][path]["post"];
        let body = &operation["requestBody"];
        assert_eq!(body["required"], true);
        let content = body["content"].as_object().expect("content");
        assert_eq!(
            content.keys().collect::<Vec<_>>(),
            ["application/x-www-form-urlencoded"]
        );
        let schema = resolve(
            &doc,
            &content["application/x-www-form-urlencoded"]["schema"],
        );
        let properties = schema["properties"].as_object().expect("properties");
        for field in fields {
            assert!(properties.contains_key(field), "{path}: {field}");
        }
        assert_eq!(properties.contains_key("refresh_token"), refresh, "{path}");
        let mut listed: Vec<&str> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        listed.sort_unstable();
        assert_eq!(listed, required, "{path}");

        let responses = &operation["responses"];
        let ok = resolve(
            &doc,
            &responses["200"]["content"]["application/json"]["schema"],
        );
        assert_eq!(ok["properties"]["token_type"]["enum"], json!(["bearer"]));
        assert!(responses["200"]["headers"]["Cache-Control"].is_object());
        let error = &responses["400"];
        let description = error["description"].as_str().expect("a description");
        for code in [
            "invalid_request",
            "invalid_grant",
            "invalid_scope",
            "unsupported_grant_type",
        ] {
            assert!(description.contains(code), "{path}: {code}");
        }
        assert!(error["headers"]["Cache-Control"].is_object());
    }
    let revoke = &doc["paths"]["/revoke"]["post"];
    let content = revoke["requestBody"]["content"]
        .as_object()
        .expect("content");
    assert_eq!(
        content.keys().collect::<Vec<_>>(),
        ["application/x-www-form-urlencoded"],
        "the RFC 7009 encoding"
    );
    let schema = resolve(
        &doc,
        &content["application/x-www-form-urlencoded"]["schema"],
    );
    assert_eq!(schema["required"], json!(["token"]));
    assert!(revoke["responses"]["200"].is_object());
    assert!(revoke["responses"]["400"].is_object());
}

#[rocket::async_test]
async fn swagger_ui_is_served_from_the_app() {
    let app = App::new().await;
    let reply = app.get("/docs", None).await;
    assert_eq!(reply.status, Status::SeeOther);
    assert_eq!(reply.header("Location"), Some("/docs/index.html"));
    let page = app.get("/docs/index.html", None).await;
    assert_eq!(page.status, Status::Ok);
    assert!(page.text.contains("swagger-ui-bundle.js"), "{}", page.text);
    assert!(!page.text.contains("http"), "no asset from another origin");
    let bundle = app.get("/docs/swagger-ui-bundle.js", None).await;
    assert_eq!(bundle.status, Status::Ok);
    assert!(bundle.text.len() > 100_000);
    let config = app.get("/docs/swagger-ui-config.json", None).await;
    assert_eq!(config.json["url"], "../openapi.json");
}

/// Swagger UI's password flow sends `Authorization: Basic Og==` (an empty
/// client id and secret) with the form.
#[rocket::async_test]
async fn the_token_endpoint_accepts_swagger_uis_empty_basic_credentials() {
    let app = App::new().await;
    let body = form(&[
        ("grant_type", "password"),
        ("username", "johndoe"),
        ("password", "secret"),
        ("scope", "read:items"),
    ]);
    for path in ["/token", "/token-strict"] {
        let request = app
            .client
            .post(path)
            .header(ContentType::Form)
            .header(Header::new("Authorization", "Basic Og=="))
            .body(body.clone());
        let reply = send(request).await;
        assert_eq!(reply.status, Status::Ok, "{path}: {}", reply.text);
        assert_eq!(reply.json["scope"], "read:items");
    }
    // A secret without a client id is still malformed.
    let request = app
        .client
        .post("/token")
        .header(ContentType::Form)
        .header(Header::new("Authorization", "Basic OnNlY3JldA=="))
        .body(body);
    let reply = send(request).await;
    assert_eq!(reply.status, Status::BadRequest);
    assert_eq!(reply.error(), "invalid_request");
}

// ----- an app mounted under a path prefix -----

#[openapi]
#[post("/token", data = "<request>")]
async fn prefixed_token(request: TokenRequest, auth: &Auth) -> Result<TokenResponse, AuthError> {
    auth.grant(request).await
}

#[protected(scopes = "read:items")]
#[openapi]
#[get("/items")]
fn prefixed_items() -> &'static str {
    "[]"
}

#[openapi]
#[get("/whoami")]
fn prefixed_whoami(user: AuthUser) -> String {
    user.subject().to_owned()
}

#[openapi]
#[get("/raw")]
fn prefixed_raw(token: BearerToken) -> String {
    token.expose().len().to_string()
}

#[openapi]
#[get("/maybe")]
fn prefixed_maybe(token: Option<BearerToken>) -> &'static str {
    if token.is_some() {
        "token"
    } else {
        "anonymous"
    }
}

async fn prefixed_app() -> Client {
    let users = MemoryUserStore::new();
    let hash = PasswordHasher::new().hash_blocking("secret").unwrap();
    users.insert_hashed(
        "johndoe",
        &hash,
        Scopes::parse("read:items").unwrap(),
        false,
    );
    let (routes, spec) = openapi_get_routes_spec![
        prefixed_token,
        prefixed_items,
        prefixed_whoami,
        prefixed_raw,
        prefixed_maybe
    ];
    let figment = rocket::Config::figment()
        .merge(("log_level", "off"))
        .merge(("auth_secret", super::support::SECRET));
    let rocket = rocket::custom(figment)
        .attach(
            Auth::fairing()
                .users(users)
                .scope("read:items", "Read items"),
        )
        .mount("/api/v1", routes)
        .mount("/api/v1", auth_core::openapi::docs(spec));
    Client::tracked(rocket).await.expect("the app ignites")
}

#[rocket::async_test]
async fn token_url_follows_the_mount_point() {
    let client = prefixed_app().await;
    let doc = send(client.get("/api/v1/openapi.json")).await;
    assert_eq!(doc.status, Status::Ok, "{}", doc.text);
    let doc = doc.json;
    assert_eq!(doc["servers"], json!([{ "url": "/api/v1" }]));
    let flow = &doc["components"]["securitySchemes"][SCHEME]["flows"]["password"];
    assert_eq!(flow["tokenUrl"], "/api/v1/token");
    assert_eq!(flow["refreshUrl"], "/api/v1/token");
    for (path, security) in [
        ("/items", json!([{ SCHEME: ["read:items"] }])),
        ("/whoami", json!([{ SCHEME: [] }])),
        ("/raw", json!([{ SCHEME: [] }])),
        ("/maybe", json!([{}, { SCHEME: [] }])),
    ] {
        assert_eq!(doc["paths"][path]["get"]["security"], security, "{path}");
    }

    // Swagger UI, at <prefix>/docs, finds the document and the token route.
    let docs = send(client.get("/api/v1/docs")).await;
    assert_eq!(docs.header("Location"), Some("/api/v1/docs/index.html"));
    let config = send(client.get("/api/v1/docs/swagger-ui-config.json")).await;
    let page = "http://localhost/api/v1/docs/index.html";
    let document_url = join(page, config.json["url"].as_str().expect("url"));
    assert_eq!(document_url, "http://localhost/api/v1/openapi.json");
    let token_url = flow["tokenUrl"].as_str().expect("tokenUrl");
    let login = client
        .post(token_url.to_owned())
        .header(ContentType::Form)
        .header(Header::new("Authorization", "Basic Og=="))
        .body(form(&[
            ("grant_type", "password"),
            ("username", "johndoe"),
            ("password", "secret"),
        ]));
    let login: Reply = send(login).await;
    assert_eq!(login.status, Status::Ok, "{}", login.text);
    let token = login.json["access_token"].as_str().expect("a token");
    let items = client
        .get("/api/v1/items")
        .header(Header::new("Authorization", format!("Bearer {token}")));
    assert_eq!(send(items).await.status, Status::Ok);
}

/// Resolves a relative reference against a page URL, as a browser does
/// (enough for `../x` and `x`).
fn join(page: &str, relative: &str) -> String {
    let mut base: Vec<&str> = page.split('/').collect();
    base.pop();
    for segment in relative.split('/') {
        match segment {
            ".." => {
                base.pop();
            }
            "." => {}
            other => base.push(other),
        }
    }
    base.join("/")
}

// ----- an external validator -----

/// `openapi-spec-validator` from PyPI, in a virtual environment under the
/// target directory; `None` when Python is not installed.
fn validator() -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("openapi-venv");
    let bin = venv.join("bin").join("openapi-spec-validator");
    if bin.exists() {
        return Some(bin);
    }
    let python = ["python3", "python"].into_iter().find(|p| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })?;
    let status = Command::new(python)
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .expect("run python -m venv");
    assert!(
        status.success(),
        "{python} -m venv {} failed: install Python's venv module (Debian: python3-venv)",
        venv.display()
    );
    let status = Command::new(venv.join("bin").join("pip"))
        .args(["install", "--quiet", "openapi-spec-validator==0.9.0"])
        .status()
        .expect("run pip");
    assert!(
        status.success(),
        "pip install openapi-spec-validator failed (PyPI unreachable?)"
    );
    Some(bin)
}

#[rocket::async_test]
async fn the_document_has_no_duplicated_keys() {
    // Parsing keeps one value per key: with a duplicated key the document
    // written again is shorter than the one served (Swagger UI refuses it).
    let app = App::new().await;
    let reply = app.get("/openapi.json", None).await;
    let parsed: Value = serde_json::from_str(&reply.text).expect("JSON");
    let again = serde_json::to_string(&parsed).expect("JSON");
    assert_eq!(
        again.len(),
        reply.text.len(),
        "duplicated keys in the document"
    );
}

#[rocket::async_test]
async fn the_document_passes_openapi_spec_validator() {
    let app = App::new().await;
    let reply = app.get("/openapi.json", None).await;
    assert_eq!(reply.status, Status::Ok);
    let Some(validator) = validator() else {
        eprintln!("SKIPPED: python3 is not installed, so openapi-spec-validator cannot run");
        return;
    };
    let file = tempfile::Builder::new()
        .suffix(".json")
        .tempfile()
        .expect("a temp file");
    std::fs::write(file.path(), &reply.text).expect("write the document");
    let output = Command::new(&validator)
        .arg(file.path())
        .output()
        .expect("run openapi-spec-validator");
    assert!(
        output.status.success(),
        "openapi-spec-validator rejects the document:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
