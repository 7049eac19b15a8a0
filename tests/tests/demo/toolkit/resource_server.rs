//! Resource-server mode with static keys: the toolkit's guards in an app
//! that only verifies another issuer's tokens (no user store, no signing
//! key). The JWKS URL variant runs against the real demo in
//! `demo-app/tests/resource_server.rs`.

use auth_core::{AccessTokens, Auth, KeySet, Scopes, TokenKeys, TokenProblem, VerificationKey};
use rocket::error::ErrorKind;
use rocket::http::{Header, Status};
use rocket::local::asynchronous::Client;
use rocket::routes;
use serde_json::Value;

use super::app::{Counters, maybe, me, read};

const A_KEY: &str = include_str!("../../../../auth-core/tests/fixtures/ed25519-a.key");
const A_PUB: &str = include_str!("../../../../auth-core/tests/fixtures/ed25519-a.pub");
const B_KEY: &str = include_str!("../../../../auth-core/tests/fixtures/ed25519-b.key");

const ISSUER: &str = "https://issuer.example";
const AUDIENCE: &str = "reports";

/// The other issuer: signs with `key` under `kid`.
fn issuer(key: &str, kid: &str) -> AccessTokens {
    let keys = TokenKeys::ed25519_private_pem(key.as_bytes())
        .unwrap()
        .with_kid(kid)
        .unwrap();
    AccessTokens::new(keys, ISSUER, AUDIENCE)
}

fn token(tokens: &AccessTokens, subject: &str, scopes: &str) -> String {
    tokens
        .issue(subject, "client", &Scopes::parse(scopes).unwrap())
        .unwrap()
        .token
}

fn figment() -> rocket::figment::Figment {
    rocket::Config::figment()
        .merge(("auth_issuer", ISSUER))
        .merge(("auth_audience", AUDIENCE))
        .merge(("log_level", "off"))
}

fn issuer_key() -> KeySet {
    KeySet::new()
        .with(VerificationKey::ed25519_pem(Some("a"), A_PUB.as_bytes()).unwrap())
        .unwrap()
}

async fn client(rocket: rocket::Rocket<rocket::Build>) -> Client {
    Client::tracked(
        rocket
            .manage(Counters::default())
            .mount("/", routes![me, maybe, read]),
    )
    .await
    .expect("launches")
}

async fn get(client: &Client, path: &str, token: Option<&str>) -> (Status, Value) {
    let mut request = client.get(path);
    if let Some(token) = token {
        request = request.header(Header::new("Authorization", format!("Bearer {token}")));
    }
    let response = request.dispatch().await;
    let status = response.status();
    let body = response.into_string().await.unwrap_or_default();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

#[rocket::async_test]
async fn the_issuers_tokens_are_accepted_without_a_user_store() {
    let rocket = rocket::custom(figment()).attach(
        Auth::resource_server()
            .verification_keys(issuer_key())
            .scope("read", "Read"),
    );
    let client = client(rocket).await;
    let auth = client.rocket().state::<Auth>().unwrap();
    assert!(auth.is_resource_server());
    assert!(auth.tokens().signing_keys().is_none());

    // Nobody here knows "ghost": there is no user store to ask.
    let ghost = token(&issuer(A_KEY, "a"), "ghost", "read");
    let (status, body) = get(&client, "/me", Some(&ghost)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body["sub"], "ghost");
    assert_eq!(get(&client, "/read", Some(&ghost)).await.0, Status::Ok);
    assert_eq!(
        get(&client, "/maybe", Some(&ghost)).await.1["user"],
        "ghost"
    );
    assert_eq!(get(&client, "/maybe", None).await.1["user"], Value::Null);

    // Scopes are checked as in the issuer.
    let no_scope = token(&issuer(A_KEY, "a"), "ghost", "");
    let (status, body) = get(&client, "/read", Some(&no_scope)).await;
    assert_eq!(status, Status::Forbidden);
    assert_eq!(body["error"], "insufficient_scope");

    // Another key under the same kid, an unknown kid, another issuer.
    let wrong_key = token(&issuer(B_KEY, "a"), "ghost", "read");
    let unknown_kid = token(&issuer(B_KEY, "b"), "ghost", "read");
    let keys = TokenKeys::ed25519_private_pem(A_KEY.as_bytes())
        .unwrap()
        .with_kid("a")
        .unwrap();
    let other_issuer = token(
        &AccessTokens::new(keys, "https://evil", AUDIENCE),
        "x",
        "read",
    );
    for (what, bad) in [
        ("wrong key", &wrong_key),
        ("unknown kid", &unknown_kid),
        ("other issuer", &other_issuer),
    ] {
        for path in ["/me", "/read", "/maybe"] {
            let (status, body) = get(&client, path, Some(bad)).await;
            assert_eq!(status, Status::Unauthorized, "{what} {path}");
            assert_eq!(body["error"], "invalid_token", "{what} {path}");
        }
    }
    assert_eq!(
        auth.authenticate(&unknown_kid)
            .await
            .unwrap_err()
            .to_string(),
        TokenProblem::UnknownKey.to_string()
    );
}

#[rocket::async_test]
async fn plain_http_to_another_machine_launches_only_with_the_opt_in() {
    // The URL is never fetched: the static key is enough, and the launch
    // only depends on the settings.
    let figment = figment()
        .merge(("auth_jwks_url", "http://auth.example/jwks.json"))
        .merge(("auth_jwks_allow_insecure_http", true));
    let auth = Auth::resource_server()
        .verification_keys(issuer_key())
        .build(&figment);
    assert!(auth.is_ok(), "{:?}", auth.err());
    let Err(refused) = Auth::resource_server()
        .verification_keys(issuer_key())
        .build(&figment.merge(("auth_jwks_allow_insecure_http", false)))
    else {
        panic!("plain http without the opt-in should be refused");
    };
    let refused = refused.to_string();
    assert!(
        refused.contains("auth_jwks_allow_insecure_http"),
        "{refused}"
    );
}

#[rocket::async_test]
async fn static_keys_can_come_from_the_configuration() {
    let figment = figment().merge((
        "auth_verification_keys",
        [serde_json::json!({"kid": "a", "algorithm": "EdDSA", "public_key_pem": A_PUB})],
    ));
    let rocket = rocket::custom(figment).attach(Auth::resource_server().scope("read", "Read"));
    let client = client(rocket).await;
    let good = token(&issuer(A_KEY, "a"), "johndoe", "read");
    assert_eq!(get(&client, "/read", Some(&good)).await.0, Status::Ok);
}

#[rocket::async_test]
async fn a_resource_server_without_public_keys_does_not_launch() {
    let secret = KeySet::new()
        .with(
            VerificationKey::hmac(
                "hs",
                auth_core::Algorithm::HS256,
                b"0123456789abcdef0123456789abcdef",
            )
            .unwrap(),
        )
        .unwrap();
    for rocket in [
        // No key source at all.
        rocket::custom(figment()).attach(Auth::resource_server()),
        // A shared secret: a resource server must not be able to sign.
        rocket::custom(figment()).attach(Auth::resource_server().verification_keys(secret)),
        // Not an http(s) URL.
        rocket::custom(figment().merge(("auth_jwks_url", "file:///etc/jwks.json")))
            .attach(Auth::resource_server()),
        // Plain http to another machine, without the explicit opt-in.
        rocket::custom(figment().merge(("auth_jwks_url", "http://auth.example/jwks.json")))
            .attach(Auth::resource_server().verification_keys(issuer_key())),
        // No explicit audience: the default would accept any default service's tokens.
        rocket::custom(
            rocket::Config::figment()
                .merge(("auth_issuer", ISSUER))
                .merge(("log_level", "off")),
        )
        .attach(Auth::resource_server().verification_keys(issuer_key())),
        // The default audience given in code counts as no audience.
        rocket::custom(figment()).attach(
            Auth::resource_server()
                .verification_keys(issuer_key())
                .config(auth_core::AuthConfig::default()),
        ),
    ] {
        match rocket.ignite().await {
            Ok(_) => panic!("launch should have been refused"),
            Err(e) => assert!(matches!(e.kind(), ErrorKind::FailedFairings(_)), "{e:?}"),
        }
    }
}
