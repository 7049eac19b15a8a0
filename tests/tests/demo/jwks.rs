//! `GET /.well-known/jwks.json` (RFC 7517, contract §10) and keys chosen by
//! configuration: what is published, what never is, caching headers, and a
//! key rotation over HTTP.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use rocket::figment::Figment;
use rocket::http::{Header, Status};
use serde_json::{Value, json};

use super::support::{App, Reply, TestDb, assert_challenge, bearer, figment, send};

const JWKS: &str = "/.well-known/jwks.json";

/// A test-only key from `auth-core/tests/fixtures`.
fn fixture(name: &str) -> String {
    format!(
        "{}/../auth-core/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn read_fixture(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).expect("fixture")
}

/// The demo's configuration, signing with the Ed25519 fixture `ed-a`
/// (`auth_secret` still set, so it only verifies).
fn ed25519_figment(db: &TestDb) -> Figment {
    figment(db).merge(("auth_signing_key", ed25519_signing_key()))
}

fn ed25519_signing_key() -> Value {
    json!({
        "kid": "ed-a",
        "algorithm": "EdDSA",
        "private_key_file": fixture("ed25519-a.key"),
    })
}

async fn jwks(app: &App) -> Reply {
    send(app.client.get(JWKS)).await
}

/// No private or symmetric key material in any published key.
fn assert_public_only(set: &Value) {
    for key in set["keys"].as_array().expect("keys array") {
        for private in ["k", "d", "p", "q", "dp", "dq", "qi", "oth"] {
            assert!(key.get(private).is_none(), "{private} published: {key}");
        }
        assert_ne!(key["kty"], "oct", "{key}");
        assert_eq!(key["use"], "sig", "{key}");
        assert!(key["kid"].is_string(), "{key}");
        assert!(key["alg"].is_string(), "{key}");
    }
}

#[rocket::async_test]
async fn an_hmac_only_demo_publishes_an_empty_set() {
    let app = App::new().await;
    let reply = jwks(&app).await;
    assert_eq!(reply.status, Status::Ok);
    assert_eq!(reply.json, json!({"keys": []}));
    assert!(!reply.text.contains(super::support::SECRET));
    assert_eq!(reply.header("Content-Type"), Some("application/json"));
    assert_eq!(reply.header("Cache-Control"), Some("public, max-age=300"));
    assert!(reply.header("ETag").is_some_and(|tag| tag.starts_with('"')));
}

#[rocket::async_test]
async fn the_etag_answers_not_modified() {
    let app = App::new().await;
    let etag = jwks(&app).await.header("ETag").unwrap().to_owned();
    let reply = send(
        app.client
            .get(JWKS)
            .header(Header::new("If-None-Match", etag.clone())),
    )
    .await;
    assert_eq!(reply.status, Status::NotModified);
    assert!(reply.text.is_empty());
    assert_eq!(reply.header("ETag"), Some(etag.as_str()));
    assert!(reply.header("Cache-Control").is_some());
    let other = send(
        app.client
            .get(JWKS)
            .header(Header::new("If-None-Match", "\"something-else\"")),
    )
    .await;
    assert_eq!(other.status, Status::Ok);
}

#[rocket::async_test]
async fn an_ed25519_demo_publishes_its_key_and_its_tokens_verify_with_it() {
    let db = TestDb::new();
    let app = App::with(&db, ed25519_figment(&db).merge(("auth_jwks_max_age", 60))).await;
    let reply = jwks(&app).await;
    assert_eq!(reply.status, Status::Ok);
    assert_eq!(reply.header("Cache-Control"), Some("public, max-age=60"));
    assert_public_only(&reply.json);
    let keys = reply.json["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{}", reply.text);
    let key = &keys[0];
    assert_eq!(key["kid"], "ed-a");
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["alg"], "EdDSA");
    assert_eq!(key["x"].as_str().map(str::len), Some(43));

    // A token from the demo names the key and verifies with the published
    // key alone, as a resource server would.
    let token = app.login("johndoe", "secret").await.access;
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.kid.as_deref(), Some("ed-a"));
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
    let set: JwkSet = serde_json::from_str(&reply.text).unwrap();
    let decoding = DecodingKey::from_jwk(set.find("ed-a").unwrap()).unwrap();
    let mut validation = Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_audience(&["api"]);
    let claims = jsonwebtoken::decode::<Value>(&token, &decoding, &validation).unwrap();
    assert_eq!(claims.claims["sub"], "johndoe");
    let me = send(bearer(app.client.get("/users/me"), Some(&token))).await;
    assert_eq!(me.status, Status::Ok);
}

#[rocket::async_test]
async fn rsa_signing_and_verification_keys_are_published_but_never_secrets() {
    let db = TestDb::new();
    let config = figment(&db)
        .merge((
            "auth_signing_key",
            json!({
                "kid": "rsa-2026",
                "algorithm": "RS256",
                "private_key_pem": read_fixture("rsa-2048.key"),
                "public_key_file": fixture("rsa-2048.pub"),
            }),
        ))
        .merge((
            "auth_verification_keys",
            json!([
                {"kid": "ed-old", "algorithm": "EdDSA", "public_key_pem": read_fixture("ed25519-b.pub")},
                {"kid": "hs-old", "algorithm": "HS256", "secret": "an-older-secret-an-older-secret!"},
            ]),
        ));
    let app = App::with(&db, config).await;
    let reply = jwks(&app).await;
    assert_public_only(&reply.json);
    let kids: Vec<&str> = reply.json["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, ["rsa-2026", "ed-old"]);
    let rsa = &reply.json["keys"][0];
    assert_eq!(rsa["kty"], "RSA");
    assert_eq!(rsa["alg"], "RS256");
    assert_eq!(rsa["e"], "AQAB");
    assert!(rsa["n"].as_str().is_some_and(|n| n.len() > 300));
    assert!(!reply.text.contains("an-older-secret"));
    let token = app.login("johndoe", "secret").await.access;
    assert_eq!(
        jsonwebtoken::decode_header(&token).unwrap().kid.as_deref(),
        Some("rsa-2026")
    );
}

#[rocket::async_test]
async fn a_key_rotation_keeps_users_logged_in_until_the_old_key_is_removed() {
    let db = TestDb::new();
    // Before: HS256 from auth_secret.
    let before = App::on(&db).await;
    let old_token = before.login("johndoe", "secret").await.access;
    drop(before);
    // During: Ed25519 signs; auth_secret still verifies.
    let during = App::with(&db, ed25519_figment(&db)).await;
    let me = send(bearer(during.client.get("/users/me"), Some(&old_token))).await;
    assert_eq!(me.status, Status::Ok, "{}", me.text);
    let new_token = during.login("johndoe", "secret").await.access;
    drop(during);
    // After: auth_secret removed. The new key's tokens pass, the old
    // ones are refused.
    let after_config = Figment::from(rocket::Config::debug_default())
        .merge(("log_level", "off"))
        .merge(("database_url", db.url()))
        .merge(("auth_signing_key", ed25519_signing_key()));
    let after = App::with(&db, after_config).await;
    let me = send(bearer(after.client.get("/users/me"), Some(&new_token))).await;
    assert_eq!(me.status, Status::Ok, "{}", me.text);
    let refused = send(bearer(after.client.get("/users/me"), Some(&old_token))).await;
    assert_challenge(&refused, Status::Unauthorized, "invalid_token");
}
