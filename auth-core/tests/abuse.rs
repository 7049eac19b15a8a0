//! Abuse resistance over HTTP: brute-force throttling (429 `slow_down`),
//! hashing admission control (503 `temporarily_unavailable`), both with
//! `Retry-After`, and the auth events an app subscribes to.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use auth_core::{
    Auth, AuthError, AuthEvent, AuthEventKind, MemoryUserStore, PasswordHasher, Scopes,
    TokenRequest, TokenResponse,
};
use rocket::figment::providers::Serialized;
use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use rocket::{State, post, routes};

#[post("/token", data = "<form>")]
async fn token(form: TokenRequest, auth: &State<Auth>) -> Result<TokenResponse, AuthError> {
    auth.grant(form).await
}

type Events = Arc<Mutex<Vec<AuthEvent>>>;

async fn client(
    settings: &[(&str, serde_json::Value)],
    hasher: PasswordHasher,
) -> (Client, Events) {
    let users = MemoryUserStore::new();
    users.insert_hashed(
        "john",
        &hasher.hash_blocking("secret").unwrap(),
        Scopes::parse("read").unwrap(),
        false,
    );
    let events: Events = Arc::default();
    let seen = Arc::clone(&events);
    let mut figment = rocket::Config::figment()
        .merge(("log_level", "off"))
        .merge(("auth_secret", "0123456789abcdef0123456789abcdef"));
    for (key, value) in settings {
        figment = figment.merge(Serialized::default(key, value));
    }
    let rocket = rocket::custom(figment)
        .attach(
            Auth::fairing()
                .users(users)
                .hasher(hasher)
                .scope("read", "Read")
                .on_event(move |event| seen.lock().unwrap().push(event.clone())),
        )
        .mount("/", routes![token]);
    (Client::untracked(rocket).await.unwrap(), events)
}

fn cheap() -> PasswordHasher {
    PasswordHasher::with_params(256, 1, 1).unwrap()
}

fn from(last: u8) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, last], 40_000))
}

async fn login<'c>(client: &'c Client, password: &str, remote: SocketAddr) -> LocalResponse<'c> {
    client
        .post("/token")
        .header(ContentType::Form)
        .remote(remote)
        .body(format!("username=john&password={password}&client_id=web"))
        .dispatch()
        .await
}

async fn error_of(response: LocalResponse<'_>) -> (Status, Option<String>, String) {
    let status = response.status();
    let retry = response.headers().get_one("Retry-After").map(str::to_owned);
    let body: serde_json::Value = response.into_json().await.unwrap();
    (
        status,
        retry,
        body["error"].as_str().unwrap_or_default().to_owned(),
    )
}

fn kinds(events: &Events) -> Vec<AuthEventKind> {
    events.lock().unwrap().iter().map(|e| e.kind).collect()
}

#[rocket::async_test]
async fn failed_logins_are_throttled_with_retry_after() {
    let (client, events) = client(&[("auth_throttle_free_attempts", 2.into())], cheap()).await;
    for _ in 0..3 {
        let (status, retry, error) = error_of(login(&client, "wrong", from(1)).await).await;
        assert_eq!(
            (status, retry, error.as_str()),
            (Status::BadRequest, None, "invalid_grant")
        );
    }
    // Third failure is one beyond the two free ones: one second to wait,
    // even with the right password and from another address.
    for (password, remote) in [("wrong", from(1)), ("secret", from(2))] {
        let (status, retry, error) = error_of(login(&client, password, remote).await).await;
        assert_eq!(status, Status::TooManyRequests);
        assert_eq!(retry.as_deref(), Some("1"));
        assert_eq!(error, "slow_down");
    }
    assert_eq!(
        kinds(&events),
        [
            AuthEventKind::LoginFailed,
            AuthEventKind::LoginFailed,
            AuthEventKind::LoginFailed,
            AuthEventKind::Throttled,
            AuthEventKind::Throttled,
        ]
    );
    let events = events.lock().unwrap();
    let failed = &events[0];
    assert_eq!(failed.subject.as_deref(), Some("john"));
    assert_eq!(failed.client_id.as_deref(), Some("web"));
    assert_eq!(failed.address, Some(from(1).ip()));
    assert_eq!(failed.reason, Some("wrong_password"));
    assert!(
        !failed.to_string().contains("wrong\""),
        "no password in the event"
    );
}

#[rocket::async_test]
async fn success_resets_the_count_and_is_an_event() {
    let (client, events) = client(&[("auth_throttle_free_attempts", 2.into())], cheap()).await;
    for _ in 0..2 {
        assert_eq!(
            login(&client, "wrong", from(1)).await.status(),
            Status::BadRequest
        );
    }
    assert_eq!(login(&client, "secret", from(1)).await.status(), Status::Ok);
    for _ in 0..2 {
        assert_eq!(
            login(&client, "wrong", from(1)).await.status(),
            Status::BadRequest
        );
    }
    assert_eq!(login(&client, "secret", from(1)).await.status(), Status::Ok);
    let events = events.lock().unwrap();
    let ok: Vec<_> = events
        .iter()
        .filter(|e| e.kind == AuthEventKind::LoginSucceeded)
        .collect();
    assert_eq!(ok.len(), 2);
    assert_eq!(ok[0].subject.as_deref(), Some("john"));
}

#[rocket::async_test]
async fn throttling_can_be_turned_off() {
    let (client, _) = client(
        &[
            ("auth_throttle", false.into()),
            ("auth_throttle_free_attempts", 1.into()),
        ],
        cheap(),
    )
    .await;
    for _ in 0..10 {
        assert_eq!(
            login(&client, "wrong", from(1)).await.status(),
            Status::BadRequest
        );
    }
    assert_eq!(login(&client, "secret", from(1)).await.status(), Status::Ok);
}

#[rocket::async_test]
async fn refresh_and_reuse_are_events() {
    let (client, events) = client(&[], cheap()).await;
    let body: serde_json::Value = login(&client, "secret", from(1))
        .await
        .into_json()
        .await
        .unwrap();
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    let refreshed = client
        .post("/token")
        .header(ContentType::Form)
        .remote(from(9))
        .body(format!(
            "grant_type=refresh_token&refresh_token={refresh}&client_id=web"
        ))
        .dispatch()
        .await;
    assert_eq!(refreshed.status(), Status::Ok);
    let reused = client
        .post("/token")
        .header(ContentType::Form)
        .body(format!(
            "grant_type=refresh_token&refresh_token={refresh}&client_id=web"
        ))
        .dispatch()
        .await;
    assert_eq!(reused.status(), Status::BadRequest);
    let kinds = kinds(&events);
    assert_eq!(
        kinds,
        [
            AuthEventKind::LoginSucceeded,
            AuthEventKind::Refreshed,
            AuthEventKind::RefreshReused
        ]
    );
    assert_eq!(events.lock().unwrap()[1].address, Some(from(9).ip()));
    let line = events.lock().unwrap()[2].to_string();
    assert!(!line.contains(&refresh), "no token in {line}");
}

#[rocket::async_test]
async fn a_full_hashing_queue_answers_503_with_retry_after() {
    // One hash at a time, nobody waits: of several simultaneous logins the
    // first hashes and the others are turned away at once.
    let slow = PasswordHasher::with_params(32 * 1024, 4, 1).unwrap();
    let (client, _) = client(
        &[
            ("auth_hash_concurrency", 1.into()),
            ("auth_hash_queue", 0.into()),
        ],
        slow,
    )
    .await;
    let (a, b, c) = rocket::tokio::join!(
        login(&client, "secret", from(1)),
        login(&client, "secret", from(2)),
        login(&client, "secret", from(3)),
    );
    let mut answers = Vec::new();
    for response in [a, b, c] {
        answers.push(error_of(response).await);
    }
    let ok = answers.iter().filter(|(s, ..)| *s == Status::Ok).count();
    let busy: Vec<_> = answers
        .iter()
        .filter(|(s, ..)| *s == Status::ServiceUnavailable)
        .collect();
    assert_eq!(ok + busy.len(), 3, "{answers:?}");
    assert!(ok >= 1, "{answers:?}");
    assert!(!busy.is_empty(), "{answers:?}");
    for (_, retry, error) in busy {
        assert_eq!(retry.as_deref(), Some("1"));
        assert_eq!(error, "temporarily_unavailable");
    }
}
