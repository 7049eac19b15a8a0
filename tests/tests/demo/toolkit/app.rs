//! The toolkit app: in-memory users, `#[protected]` handlers, `MaybeUser`,
//! an app-defined HTML catcher; and helpers to call it.

use std::sync::atomic::{AtomicUsize, Ordering};

use auth_core::{
    Algorithm, Auth, AuthConfig, AuthUser, BearerToken, MaybeUser, MemoryUserStore, PasswordHasher,
    TestUser, protected,
};
use jsonwebtoken::{EncodingKey, Header as JwtHeader};
use rocket::data::{self, Data, FromData};
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::Client;
use rocket::request::Request;
use rocket::{Build, Rocket, State, catch, catchers, get, post, routes};
use serde_json::{Value, json};

use crate::demo::support::{Reply, send};

pub const SECRET: &str = "test-secret-0123456789-abcdefghijklmnop";
pub const ISSUER: &str = "test-issuer";
pub const AUDIENCE: &str = "test-api";

/// Counts handler runs and body reads, to prove rejected requests reach
/// neither.
#[derive(Default)]
pub struct Counters {
    pub handler: AtomicUsize,
    pub body_reads: AtomicUsize,
}

/// A data guard that records that it ran.
pub struct CountedBody(String);

#[rocket::async_trait]
impl<'r> FromData<'r> for CountedBody {
    type Error = ();

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        let counters = req.rocket().state::<Counters>().expect("counters managed");
        counters.body_reads.fetch_add(1, Ordering::SeqCst);
        let body = data
            .open(rocket::data::ToByteUnit::kibibytes(4))
            .into_string()
            .await;
        data::Outcome::Success(CountedBody(
            body.map(|s| s.into_inner()).unwrap_or_default(),
        ))
    }
}

#[protected]
#[get("/me")]
pub fn me(user: AuthUser) -> Value {
    json!({ "sub": user.subject(), "scopes": user.scopes().to_vec() })
}

#[protected(scopes = "read")]
#[get("/read")]
pub async fn read(counters: &State<Counters>) -> &'static str {
    counters.handler.fetch_add(1, Ordering::SeqCst);
    "read ok"
}

#[protected(scopes = "read write")]
#[post("/write", data = "<body>")]
pub fn write(body: CountedBody, counters: &State<Counters>, user: AuthUser) -> String {
    counters.handler.fetch_add(1, Ordering::SeqCst);
    format!("{} wrote {}", user.subject(), body.0)
}

#[get("/maybe")]
pub fn maybe(user: MaybeUser) -> Value {
    json!({ "user": user.0.map(|u| u.subject().to_owned()) })
}

#[get("/raw")]
fn raw(token: Option<BearerToken>) -> &'static str {
    if token.is_some() { "token" } else { "none" }
}

/// An app-defined catcher: auth failures must still come out as RFC JSON.
#[catch(401)]
fn html_401() -> (ContentType, &'static str) {
    (ContentType::HTML, "<h1>nope</h1>")
}

pub fn config() -> AuthConfig {
    let mut config = AuthConfig::default();
    config.secret = Some(SECRET.to_owned());
    config.issuer = ISSUER.to_owned();
    config.audience = AUDIENCE.to_owned();
    config.realm = "test".to_owned();
    config.leeway = 5;
    config
}

/// The auth fairing on `users` with `config`, with a cheap hasher.
pub fn with_auth(users: &MemoryUserStore, config: AuthConfig) -> Rocket<Build> {
    rocket::build().attach(
        Auth::fairing()
            .users(users.clone())
            .hasher(PasswordHasher::with_params(256, 1, 1).unwrap())
            .config(config)
            .scope("read", "Read")
            .scope("write", "Write"),
    )
}

/// The toolkit app with john (read write), reader (read) and off (read,
/// disabled).
pub async fn client() -> Client {
    let users = MemoryUserStore::new();
    let _ = TestUser::new("john")
        .scopes("read write")
        .insert_into(&users);
    let _ = TestUser::new("reader").scopes("read").insert_into(&users);
    let _ = TestUser::new("off").scopes("read").insert_into(&users);
    users.set_disabled("off", true);
    let rocket = with_auth(&users, config())
        .manage(Counters::default())
        .manage(users.clone())
        .mount("/", routes![me, read, write, maybe, raw])
        .register("/", catchers![html_401]);
    Client::tracked(rocket).await.expect("valid rocket")
}

pub fn auth(client: &Client) -> &Auth {
    client.rocket().state::<Auth>().expect("auth managed")
}

/// A valid token for `sub` with `scope`.
pub fn token(client: &Client, sub: &str, scope: &str) -> String {
    TestUser::new(sub).scopes(scope).token(auth(client))
}

pub fn counters(client: &Client) -> &Counters {
    client.rocket().state::<Counters>().unwrap()
}

/// `GET path` with this raw `Authorization` value, if any.
pub async fn get(client: &Client, path: &str, authorization: Option<&str>) -> Reply {
    let mut request = client.get(path.to_owned());
    if let Some(value) = authorization {
        request = request.header(Header::new("Authorization", value.to_owned()));
    }
    send(request).await
}

/// `POST /write` with `token` and a small body.
pub async fn post_write(client: &Client, token: &str) -> Reply {
    let request = client
        .post("/write")
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .body("payload");
    send(request).await
}

/// Status, `WWW-Authenticate`, and the JSON body of a response.
pub fn parts(reply: Reply) -> (Status, Option<String>, Value) {
    let content_type = reply
        .header("Content-Type")
        .and_then(ContentType::parse_flexible);
    assert_eq!(
        content_type,
        Some(ContentType::JSON),
        "error bodies are JSON"
    );
    let challenge = reply.header("WWW-Authenticate").map(str::to_owned);
    let body: Value = serde_json::from_str(&reply.text).unwrap();
    (reply.status, challenge, body)
}

/// Seconds since the Unix epoch, for hand-made claims.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

pub fn claims_json(sub: &str, scope: &str) -> Value {
    let now = unix_now();
    json!({
        "iss": ISSUER, "sub": sub, "aud": AUDIENCE, "exp": now + 300, "iat": now, "nbf": now,
        "jti": "forged", "client_id": "c", "scope": scope
    })
}

pub fn sign(header: &JwtHeader, claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(header, claims, &EncodingKey::from_secret(secret)).unwrap()
}

pub fn at_jwt(alg: Algorithm) -> JwtHeader {
    let mut header = JwtHeader::new(alg);
    header.typ = Some("at+jwt".to_owned());
    header
}

/// Asserts a 401 `invalid_token` with a challenge and a description.
pub async fn assert_invalid_token(client: &Client, path: &str, token: &str, why: &str) {
    let (status, challenge, body) =
        parts(get(client, path, Some(&format!("Bearer {token}"))).await);
    assert_eq!(status, Status::Unauthorized, "{why}");
    assert_eq!(body["error"], "invalid_token", "{why}");
    let challenge = challenge.unwrap_or_else(|| panic!("{why}: no challenge"));
    assert!(
        challenge
            .starts_with("Bearer realm=\"test\", error=\"invalid_token\", error_description=\""),
        "{why}: {challenge}"
    );
    assert!(
        !body.to_string().contains(token),
        "{why}: the token is echoed"
    );
}
