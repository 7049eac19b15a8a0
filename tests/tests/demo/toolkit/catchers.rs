//! How auth answers live next to an app's catchers: the fairing answers
//! refused requests with a catcher of its own at `/` for 400, 401 and 403;
//! every other request with those statuses still reaches the app's
//! catchers (or Rocket's), and app catchers that take precedence still see
//! their answer replaced by the RFC one.

use std::sync::atomic::{AtomicUsize, Ordering};

use auth_core::{AuthUser, MemoryUserStore, TestUser, protected};
use rocket::http::{Header, Status};
use rocket::local::asynchronous::Client;
use rocket::request::Request;
use rocket::{Build, Rocket, catch, catchers, get, routes};

use super::app::{config, parts, with_auth};
use crate::demo::support::send;

#[protected]
#[get("/me")]
fn me(user: AuthUser) -> String {
    user.subject().to_owned()
}

/// A route that refuses by itself, without any auth guard.
#[get("/refuse/<code>")]
fn refuse(code: u16) -> Status {
    Status::from_code(code).unwrap_or(Status::InternalServerError)
}

/// How often the app's catchers ran.
#[derive(Default)]
struct Caught(AtomicUsize);

#[catch(default)]
fn app_default(status: Status, request: &Request<'_>) -> String {
    let caught = request.rocket().state::<Caught>().expect("managed");
    caught.0.fetch_add(1, Ordering::SeqCst);
    format!("app catcher: {}", status.code)
}

fn app(users: &MemoryUserStore) -> Rocket<Build> {
    with_auth(users, config())
        .manage(Caught::default())
        .mount("/", routes![me, refuse])
        .mount("/api", routes![me])
}

async fn client_of(rocket: Rocket<Build>) -> Client {
    Client::tracked(rocket).await.expect("valid rocket")
}

fn caught(client: &Client) -> usize {
    client
        .rocket()
        .state::<Caught>()
        .unwrap()
        .0
        .load(Ordering::SeqCst)
}

async fn get(
    client: &Client,
    path: &str,
    authorization: Option<&str>,
) -> crate::demo::support::Reply {
    let mut request = client.get(path.to_owned());
    if let Some(value) = authorization {
        request = request.header(Header::new("Authorization", value.to_owned()));
    }
    send(request).await
}

#[rocket::async_test]
async fn refused_requests_are_answered_without_the_apps_default_catcher() {
    let users = MemoryUserStore::new();
    let client = client_of(app(&users).register("/", catchers![app_default])).await;
    for (authorization, status, code) in [
        (None, Status::Unauthorized, "unauthorized"),
        (
            Some("Bearer not-a-jwt"),
            Status::Unauthorized,
            "invalid_token",
        ),
        (Some("Bearer "), Status::BadRequest, "invalid_request"),
    ] {
        let reply = get(&client, "/me", authorization).await;
        // Not cacheable anyway (RFC 9110 §15.1): no caching headers.
        assert_eq!(reply.header("Cache-Control"), None);
        assert_eq!(reply.header("Pragma"), None);
        let (got, challenge, body) = parts(reply);
        assert_eq!(got, status, "{authorization:?}");
        assert_eq!(body["error"], code, "{authorization:?}");
        assert!(challenge.unwrap().starts_with("Bearer realm=\"test\""));
    }
    assert_eq!(caught(&client), 0, "the auth catcher answered");
}

#[rocket::async_test]
async fn other_requests_with_guard_statuses_reach_the_apps_default_catcher() {
    let users = MemoryUserStore::new();
    let client = client_of(app(&users).register("/", catchers![app_default])).await;
    for code in [400, 401, 403, 404, 500] {
        let reply = get(&client, &format!("/refuse/{code}"), None).await;
        assert_eq!(reply.status.code, code);
        assert_eq!(reply.text, format!("app catcher: {code}"));
        assert!(reply.header("WWW-Authenticate").is_none(), "{code}");
    }
    assert_eq!(caught(&client), 5);
}

#[rocket::async_test]
async fn without_app_catchers_other_requests_get_rockets_default() {
    let users = MemoryUserStore::new();
    let client = client_of(app(&users)).await;
    let request = client
        .get("/refuse/401")
        .header(Header::new("Accept", "application/json"));
    let reply = send(request).await;
    assert_eq!(reply.status, Status::Unauthorized);
    let body: serde_json::Value = serde_json::from_str(&reply.text).unwrap();
    assert_eq!(body["error"]["code"], 401, "Rocket's default body: {body}");
    assert!(reply.header("WWW-Authenticate").is_none());
    // A refused request still gets the RFC answer.
    let (status, _, body) = parts(get(&client, "/me", Some("Bearer x.y.z")).await);
    assert_eq!(status, Status::Unauthorized);
    assert_eq!(body["error"], "invalid_token");
}

#[catch(401)]
fn app_401() -> &'static str {
    "app 401"
}

#[catch(default)]
fn api_default(request: &Request<'_>) -> &'static str {
    let caught = request.rocket().state::<Caught>().expect("managed");
    caught.0.fetch_add(1, Ordering::SeqCst);
    "api catcher"
}

#[rocket::async_test]
async fn app_catchers_that_take_precedence_keep_it_and_auth_still_answers() {
    let users = MemoryUserStore::new();
    let rocket = app(&users)
        .register("/", catchers![app_401])
        .register("/api", catchers![api_default]);
    // No collision with the app's own 401 catcher at `/`.
    let client = client_of(rocket).await;
    assert_eq!(get(&client, "/refuse/401", None).await.text, "app 401");
    // Refused requests get the RFC answer whichever catcher ran first.
    for path in ["/me", "/api/me"] {
        let (status, challenge, body) = parts(get(&client, path, None).await);
        assert_eq!(status, Status::Unauthorized, "{path}");
        assert_eq!(body["error"], "unauthorized", "{path}");
        assert_eq!(
            challenge.as_deref(),
            Some("Bearer realm=\"test\""),
            "{path}"
        );
    }
    assert_eq!(caught(&client), 1, "the /api catcher ran for /api/me");
    // The app's 400 and 403 at `/` are ours, handing over to Rocket's.
    let reply = get(&client, "/refuse/403", None).await;
    assert_eq!(reply.status, Status::Forbidden);
    assert!(reply.header("WWW-Authenticate").is_none());
}

#[rocket::async_test]
async fn valid_tokens_pass_through_the_same_app() {
    let users = MemoryUserStore::new();
    let john = TestUser::new("john").insert_into(&users);
    let client = client_of(app(&users).register("/", catchers![app_default])).await;
    let token = john.token(super::app::auth(&client));
    let reply = get(&client, "/me", Some(&format!("Bearer {token}"))).await;
    assert_eq!(reply.status, Status::Ok);
    assert_eq!(reply.text, "john");
}
