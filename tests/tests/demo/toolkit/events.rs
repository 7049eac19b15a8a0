//! Auth events over HTTP: every login, failed login, refresh, reuse, throttled
//! attempt and revocation reaches an `on_event` hook with the subject, the
//! client and the client's address, and never a secret.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use auth_core::{
    Auth, AuthError, AuthEvent, AuthEventKind, MemoryUserStore, PasswordHasher, Scopes,
    TokenRequest, TokenResponse,
};
use rocket::form::Form;
use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::Client;
use rocket::{FromForm, post, routes};
use serde_json::Value;

use super::app::config;

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));

#[post("/token", data = "<request>")]
async fn token(request: TokenRequest, auth: &Auth) -> Result<TokenResponse, AuthError> {
    auth.grant(request).await
}

#[derive(FromForm)]
struct Revocation {
    token: String,
}

#[post("/revoke", data = "<form>")]
async fn revoke(
    form: Form<Revocation>,
    auth: &Auth,
    client: Option<IpAddr>,
) -> Result<(), AuthError> {
    auth.revoke_from(&form.token, client).await
}

/// An app whose hook records every event, with john/secret as the one user.
async fn app() -> (Client, Arc<Mutex<Vec<AuthEvent>>>) {
    let users = MemoryUserStore::new();
    let hasher = PasswordHasher::with_params(256, 1, 1).unwrap();
    let hash = hasher.hash_blocking("secret").unwrap();
    users.insert_hashed("john", &hash, Scopes::parse("read").unwrap(), false);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let mut config = config();
    config.throttle_free_attempts = 1;
    let rocket = rocket::build()
        .attach(
            Auth::fairing()
                .users(users)
                .hasher(hasher)
                .config(config)
                .scope("read", "Read")
                .on_event(move |event| sink.lock().unwrap().push(event.clone())),
        )
        .mount("/", routes![token, revoke]);
    (Client::tracked(rocket).await.unwrap(), seen)
}

async fn post(client: &Client, path: &'static str, body: String) -> (Status, Value) {
    let response = client
        .post(path)
        .remote(SocketAddr::new(CLIENT, 40_000))
        .header(ContentType::Form)
        .body(body)
        .dispatch()
        .await;
    let status = response.status();
    let text = response.into_string().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[rocket::async_test]
async fn every_event_names_subject_client_and_address_and_no_secret() {
    let (client, seen) = app().await;
    let login = "grant_type=password&username=john&password=secret&client_id=web";

    let (status, first) = post(&client, "/token", login.to_owned()).await;
    assert_eq!(status, Status::Ok);
    let refresh = |token: &Value| {
        format!(
            "grant_type=refresh_token&client_id=web&refresh_token={}",
            token["refresh_token"].as_str().unwrap()
        )
    };
    let (status, second) = post(&client, "/token", refresh(&first)).await;
    assert_eq!(status, Status::Ok);
    // The first refresh token again: a replay, which revokes the family.
    let (status, _) = post(&client, "/token", refresh(&first)).await;
    assert_eq!(status, Status::BadRequest);
    for _ in 0..2 {
        let wrong = "username=john&password=Tr0ub4dor&client_id=web";
        let (status, _) = post(&client, "/token", wrong.to_owned()).await;
        assert_eq!(status, Status::BadRequest);
    }
    // One free failure, then a delay of at least a second: this is throttled.
    let (status, body) = post(&client, "/token", login.to_owned()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (Status::TooManyRequests, Some("slow_down"))
    );
    let (status, _) = post(
        &client,
        "/revoke",
        format!("token={}", second["refresh_token"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, Status::Ok);

    let events = seen.lock().unwrap().clone();
    let kinds: Vec<AuthEventKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            AuthEventKind::LoginSucceeded,
            AuthEventKind::Refreshed,
            AuthEventKind::RefreshReused,
            AuthEventKind::LoginFailed,
            AuthEventKind::LoginFailed,
            AuthEventKind::Throttled,
            AuthEventKind::Revoked,
        ]
    );
    for event in &events {
        assert_eq!(event.subject.as_deref(), Some("john"), "{event}");
        assert_eq!(event.client_id.as_deref(), Some("web"), "{event}");
        assert_eq!(event.address, Some(CLIENT), "{event}");
        let line = event.to_string();
        for secret in ["secret", "Tr0ub4dor"] {
            assert!(!line.contains(secret), "{line}");
        }
        for token in [&first, &second] {
            for key in ["access_token", "refresh_token"] {
                assert!(!line.contains(token[key].as_str().unwrap()), "{line}");
            }
        }
    }
    assert_eq!(events[3].reason, Some("wrong_password"));
}
