//! Browser sessions over raw HTTP (contract §11): the cookies' attributes,
//! the CSRF and origin checks, both credentials at once, rotation and
//! replay through cookies, logout. The client is untracked: each test
//! sends exactly the cookies a browser would.

use rocket::error::ErrorKind;
use rocket::http::{ContentType, Cookie, Header, Status};
use rocket::local::asynchronous::{Client, LocalRequest};

use super::support::{Reply, TestDb, figment, form, send};

/// The host the test app is reached at, and its origin.
const HOST: &str = "demo.test";
const ORIGIN: &str = "https://demo.test";
const EVIL: &str = "https://evil.test";

/// One cookie of a `Set-Cookie` header: name, value and attributes.
#[derive(Debug, Clone)]
struct SetCookie {
    name: String,
    value: String,
    attributes: Vec<String>,
}

impl SetCookie {
    fn parse(header: &str) -> Self {
        let mut parts = header.split(';').map(str::trim);
        let (name, value) = parts
            .next()
            .and_then(|pair| pair.split_once('='))
            .expect("name=value");
        Self {
            name: name.to_owned(),
            value: value.to_owned(),
            attributes: parts.map(str::to_owned).collect(),
        }
    }

    fn has(&self, attribute: &str) -> bool {
        self.attributes
            .iter()
            .any(|a| a.eq_ignore_ascii_case(attribute))
    }

    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find_map(|a| {
            let (n, v) = a.split_once('=')?;
            n.eq_ignore_ascii_case(name).then_some(v)
        })
    }
}

fn set_cookies(reply: &Reply) -> Vec<SetCookie> {
    reply
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("Set-Cookie"))
        .map(|(_, v)| SetCookie::parse(v))
        .collect()
}

fn set_cookie(reply: &Reply, name: &str) -> Option<SetCookie> {
    set_cookies(reply).into_iter().find(|c| c.name == name)
}

/// The session a browser holds: its two cookies and the page's CSRF token.
#[derive(Debug, Clone)]
struct Session {
    access: String,
    refresh: String,
    csrf: String,
}

impl Session {
    fn from_reply(reply: &Reply) -> Self {
        assert_eq!(reply.status, Status::Ok, "{}", reply.text);
        Self {
            access: set_cookie(reply, "__Host-access")
                .expect("access cookie")
                .value,
            refresh: set_cookie(reply, "__Secure-refresh")
                .expect("refresh cookie")
                .value,
            csrf: reply.json["csrf_token"]
                .as_str()
                .expect("csrf_token")
                .to_owned(),
        }
    }
}

/// The demo on a fresh database, untracked.
async fn demo() -> (Client, std::sync::Arc<TestDb>) {
    let db = TestDb::new();
    let client = Client::untracked(demo_app::rocket_from(figment(&db)))
        .await
        .expect("the demo ignites");
    (client, db)
}

/// `request` as a page of `origin` on the demo would send it.
fn from<'c>(request: LocalRequest<'c>, origin: Option<&str>) -> LocalRequest<'c> {
    let request = request.header(Header::new("Host", HOST));
    match origin {
        Some(origin) => request.header(Header::new("Origin", origin.to_owned())),
        None => request,
    }
}

fn with_cookie<'c>(request: LocalRequest<'c>, name: &str, value: &str) -> LocalRequest<'c> {
    request.cookie(Cookie::new(name.to_owned(), value.to_owned()))
}

async fn login_from(client: &Client, origin: Option<&str>, user: &str, password: &str) -> Reply {
    let request = client
        .post("/session")
        .header(ContentType::Form)
        .body(form(&[("username", user), ("password", password)]));
    send(from(request, origin)).await
}

async fn login(client: &Client) -> Session {
    Session::from_reply(&login_from(client, Some(ORIGIN), "johndoe", "secret").await)
}

/// `POST /items` with the access cookie, from `origin`, with `csrf`.
async fn create_item(
    client: &Client,
    session: &Session,
    origin: Option<&str>,
    csrf: Option<&str>,
    name: &str,
) -> Reply {
    let request = client
        .post("/items")
        .header(ContentType::JSON)
        .body(format!(r#"{{"name": "{name}"}}"#));
    let mut request = with_cookie(from(request, origin), "__Host-access", &session.access);
    if let Some(csrf) = csrf {
        request = request.header(Header::new("X-CSRF-Token", csrf.to_owned()));
    }
    send(request).await
}

async fn item_names(client: &Client, session: &Session) -> Vec<String> {
    let request = with_cookie(
        from(client.get("/items"), None),
        "__Host-access",
        &session.access,
    );
    let reply = send(request).await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    reply
        .json
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn refresh(client: &Client, refresh_token: &str) -> Reply {
    let request = from(client.post("/session/refresh"), Some(ORIGIN));
    send(with_cookie(request, "__Secure-refresh", refresh_token)).await
}

fn assert_refused(reply: &Reply, status: Status, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.text);
    assert_eq!(reply.json["error"], code, "{}", reply.text);
    assert!(
        reply.json["error_description"].is_string(),
        "{}",
        reply.text
    );
}

/// The cookies were told to go: empty, `Max-Age=0`, same paths.
fn assert_cleared(reply: &Reply) {
    let access = set_cookie(reply, "__Host-access").expect("access cookie cleared");
    let refresh = set_cookie(reply, "__Secure-refresh").expect("refresh cookie cleared");
    for cookie in [&access, &refresh] {
        assert_eq!(cookie.value, "", "{cookie:?}");
        assert_eq!(cookie.attribute("Max-Age"), Some("0"), "{cookie:?}");
        assert!(cookie.has("Secure") && cookie.has("HttpOnly"), "{cookie:?}");
    }
    assert_eq!(access.attribute("Path"), Some("/"));
    assert_eq!(refresh.attribute("Path"), Some("/session"));
}

#[rocket::async_test]
async fn login_sets_hardened_cookies_and_answers_without_tokens() {
    let (client, _db) = demo().await;
    let reply = login_from(&client, Some(ORIGIN), "johndoe", "secret").await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));

    let access = set_cookie(&reply, "__Host-access").expect("access cookie");
    assert!(access.value.starts_with("eyJ"), "a JWT: {access:?}");
    assert!(access.has("HttpOnly") && access.has("Secure"), "{access:?}");
    assert_eq!(access.attribute("SameSite"), Some("Strict"));
    assert_eq!(access.attribute("Path"), Some("/"));
    assert_eq!(access.attribute("Domain"), None);
    let ttl = reply.json["expires_in"].as_u64().expect("expires_in");
    assert!((60..=3600).contains(&ttl), "{ttl}");
    assert_eq!(access.attribute("Max-Age"), Some(&*ttl.to_string()));

    let refresh = set_cookie(&reply, "__Secure-refresh").expect("refresh cookie");
    assert!(
        refresh.has("HttpOnly") && refresh.has("Secure"),
        "{refresh:?}"
    );
    assert_eq!(refresh.attribute("SameSite"), Some("Strict"));
    assert_eq!(refresh.attribute("Path"), Some("/session"));
    assert_eq!(
        refresh.attribute("Max-Age"),
        Some(&*(14 * 24 * 3600).to_string())
    );

    // The page learns who it is and its CSRF token, never a token.
    assert_eq!(reply.json["username"], "johndoe");
    assert_eq!(reply.json["scope"], "read:items write:items");
    assert_eq!(reply.json["csrf_token"].as_str().map(str::len), Some(43));
    assert!(reply.json.get("access_token").is_none());
    assert!(reply.json.get("refresh_token").is_none());
    assert!(!reply.text.contains(&access.value) && !reply.text.contains(&refresh.value));

    // GET /session gives the same answer to the access cookie, and 401
    // without it.
    let request = with_cookie(
        from(client.get("/session"), None),
        "__Host-access",
        &access.value,
    );
    let current = send(request).await;
    assert_eq!(current.status, Status::Ok, "{}", current.text);
    assert_eq!(current.json["csrf_token"], reply.json["csrf_token"]);
    assert_eq!(current.json["username"], "johndoe");
    let anonymous = send(from(client.get("/session"), None)).await;
    assert_eq!(anonymous.status, Status::Unauthorized);
}

#[rocket::async_test]
async fn a_wrong_password_sets_no_cookie_and_is_throttled_like_the_token_endpoint() {
    let (client, _db) = demo().await;
    let mut last = None;
    for _ in 0..7 {
        let reply = login_from(&client, Some(ORIGIN), "johndoe", "wrong").await;
        assert!(set_cookies(&reply).is_empty(), "{:?}", reply.headers);
        last = Some(reply);
    }
    // Five free failures per (username, address); the sixth starts a delay
    // that refuses the seventh with 429 slow_down, before any hashing.
    assert_refused(&last.expect("seven"), Status::TooManyRequests, "slow_down");
}

#[rocket::async_test]
async fn the_access_cookie_authenticates_safe_requests_and_optional_routes() {
    let (client, _db) = demo().await;
    let session = login(&client).await;
    item_names(&client, &session).await;
    let request = with_cookie(
        from(client.get("/users/me"), None),
        "__Host-access",
        &session.access,
    );
    let me = send(request).await;
    assert_eq!(me.json["username"], "johndoe", "{}", me.text);
    // MaybeUser sees the cookie's user: johndoe's own tasks are listed.
    let request = with_cookie(
        from(client.get("/tasks"), None),
        "__Host-access",
        &session.access,
    );
    let tasks = send(request).await;
    assert_eq!(tasks.status, Status::Ok);
    assert!(tasks.text.contains("johndoe's"), "{}", tasks.text);
    // The refresh cookie is not an access credential.
    let request = with_cookie(
        from(client.get("/users/me"), None),
        "__Host-access",
        &session.refresh,
    );
    assert_eq!(send(request).await.status, Status::Unauthorized);
}

#[rocket::async_test]
async fn unsafe_cookie_requests_need_the_sessions_csrf_token() {
    let (client, _db) = demo().await;
    let session = login(&client).await;

    let missing = create_item(&client, &session, Some(ORIGIN), None, "no-token").await;
    assert_refused(&missing, Status::Forbidden, "access_denied");
    let other = login(&client).await;
    let wrong = create_item(&client, &session, Some(ORIGIN), Some(&other.csrf), "wrong").await;
    assert_refused(&wrong, Status::Forbidden, "access_denied");
    let garbage = create_item(&client, &session, Some(ORIGIN), Some("x"), "garbage").await;
    assert_refused(&garbage, Status::Forbidden, "access_denied");

    let created = create_item(&client, &session, Some(ORIGIN), Some(&session.csrf), "ok").await;
    assert_eq!(created.status, Status::Created, "{}", created.text);
    let names = item_names(&client, &session).await;
    assert!(names.contains(&"ok".to_owned()));
    for refused in ["no-token", "wrong", "garbage"] {
        assert!(
            !names.contains(&refused.to_owned()),
            "{refused} was created"
        );
    }
}

#[rocket::async_test]
async fn the_csrf_check_runs_before_the_handler_and_its_body() {
    let (client, _db) = demo().await;
    let session = login(&client).await;
    // A body the handler would refuse with 400: the 403 comes first.
    let request = client
        .post("/items")
        .header(ContentType::JSON)
        .body("{not json");
    let request = with_cookie(
        from(request, Some(ORIGIN)),
        "__Host-access",
        &session.access,
    );
    assert_refused(&send(request).await, Status::Forbidden, "access_denied");
    // The same for DELETE.
    let request = with_cookie(
        from(client.delete("/items/1"), Some(ORIGIN)),
        "__Host-access",
        &session.access,
    );
    assert_refused(&send(request).await, Status::Forbidden, "access_denied");
}

#[rocket::async_test]
async fn cookie_requests_from_another_origin_are_refused_even_with_the_token() {
    let (client, _db) = demo().await;
    let session = login(&client).await;
    let csrf = Some(session.csrf.as_str());

    let foreign = create_item(&client, &session, Some(EVIL), csrf, "evil").await;
    assert_refused(&foreign, Status::Forbidden, "access_denied");
    let null = create_item(&client, &session, Some("null"), csrf, "null").await;
    assert_refused(&null, Status::Forbidden, "access_denied");
    // Without Origin, Sec-Fetch-Site decides; with neither, nothing shows
    // where the request comes from.
    let headless = create_item(&client, &session, None, csrf, "headless").await;
    assert_refused(&headless, Status::Forbidden, "access_denied");
    for (site, expected) in [
        ("cross-site", Status::Forbidden),
        ("same-site", Status::Forbidden),
        ("none", Status::Forbidden),
        ("same-origin", Status::Created),
    ] {
        let request = client
            .post("/items")
            .header(ContentType::JSON)
            .body(format!(r#"{{"name": "fetch-{site}"}}"#))
            .header(Header::new("Sec-Fetch-Site", site))
            .header(Header::new("X-CSRF-Token", session.csrf.clone()));
        let request = with_cookie(from(request, None), "__Host-access", &session.access);
        assert_eq!(
            send(request).await.status,
            expected,
            "Sec-Fetch-Site: {site}"
        );
    }
    // A foreign Origin is refused even when Sec-Fetch-Site claims otherwise.
    let request = client
        .post("/items")
        .header(ContentType::JSON)
        .body(r#"{"name": "liar"}"#)
        .header(Header::new("Sec-Fetch-Site", "same-origin"))
        .header(Header::new("X-CSRF-Token", session.csrf.clone()));
    let request = with_cookie(from(request, Some(EVIL)), "__Host-access", &session.access);
    assert_eq!(send(request).await.status, Status::Forbidden);

    let names = item_names(&client, &session).await;
    assert!(names.contains(&"fetch-same-origin".to_owned()));
    for refused in [
        "evil",
        "null",
        "headless",
        "fetch-cross-site",
        "fetch-same-site",
        "fetch-none",
        "liar",
    ] {
        assert!(
            !names.contains(&refused.to_owned()),
            "{refused} was created"
        );
    }
}

#[rocket::async_test]
async fn bearer_requests_need_no_csrf_token_and_both_credentials_are_refused() {
    let (client, _db) = demo().await;
    let session = login(&client).await;
    // The bearer client of the black-box suite is unaffected.
    let token = send(
        client
            .post("/token")
            .header(ContentType::Form)
            .body(form(&[("username", "johndoe"), ("password", "secret")])),
    )
    .await;
    let access = token.json["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let request = client
        .post("/items")
        .header(ContentType::JSON)
        .body(r#"{"name": "bearer"}"#)
        .header(Header::new("Authorization", format!("Bearer {access}")));
    assert_eq!(
        send(from(request, Some(EVIL))).await.status,
        Status::Created
    );

    let both = with_cookie(
        from(client.get("/users/me"), None)
            .header(Header::new("Authorization", format!("Bearer {access}"))),
        "__Host-access",
        &session.access,
    );
    let reply = send(both).await;
    assert_refused(&reply, Status::BadRequest, "invalid_request");
    assert!(
        reply
            .header("WWW-Authenticate")
            .is_some_and(|c| c.contains("invalid_request")),
        "{:?}",
        reply.headers
    );
}

#[rocket::async_test]
async fn a_login_posted_from_another_origin_sets_no_cookie() {
    let (client, _db) = demo().await;
    // Login CSRF: a page elsewhere must not log the victim into its account.
    let foreign = login_from(&client, Some(EVIL), "johndoe", "secret").await;
    assert_refused(&foreign, Status::Forbidden, "access_denied");
    assert!(set_cookies(&foreign).is_empty());
    let request = client
        .post("/session")
        .header(ContentType::Form)
        .header(Header::new("Sec-Fetch-Site", "cross-site"))
        .body(form(&[("username", "johndoe"), ("password", "secret")]));
    let cross = send(from(request, None)).await;
    assert_refused(&cross, Status::Forbidden, "access_denied");
    assert!(set_cookies(&cross).is_empty());
    // A script (no Origin, no Sec-Fetch-Site) may log in.
    let script = login_from(&client, None, "johndoe", "secret").await;
    assert_eq!(script.status, Status::Ok, "{}", script.text);
}

#[rocket::async_test]
async fn refresh_rotates_the_cookies_and_a_replay_ends_the_session() {
    let (client, _db) = demo().await;
    let first = login(&client).await;

    let rotated = refresh(&client, &first.refresh).await;
    let second = Session::from_reply(&rotated);
    assert_ne!(second.refresh, first.refresh);
    assert_ne!(second.access, first.access);
    // Same session, same CSRF token.
    assert_eq!(second.csrf, first.csrf);
    assert_eq!(rotated.header("Cache-Control"), Some("no-store"));
    assert_eq!(
        set_cookie(&rotated, "__Secure-refresh")
            .and_then(|c| c.attribute("Path").map(str::to_owned)),
        Some("/session".to_owned())
    );
    let created = create_item(
        &client,
        &second,
        Some(ORIGIN),
        Some(&second.csrf),
        "after-refresh",
    )
    .await;
    assert_eq!(created.status, Status::Created, "{}", created.text);

    // The stolen old cookie comes back: the family is revoked, the cookies
    // cleared, and the legitimate holder's newer cookies stop working.
    let replay = refresh(&client, &first.refresh).await;
    assert_refused(&replay, Status::BadRequest, "invalid_grant");
    assert_cleared(&replay);
    assert_refused(
        &refresh(&client, &second.refresh).await,
        Status::BadRequest,
        "invalid_grant",
    );
    let request = with_cookie(
        from(client.get("/items"), None),
        "__Host-access",
        &second.access,
    );
    assert_eq!(send(request).await.status, Status::Unauthorized);
}

#[rocket::async_test]
async fn refresh_needs_a_cookie_and_the_same_origin() {
    let (client, _db) = demo().await;
    let session = login(&client).await;
    let none = send(from(client.post("/session/refresh"), Some(ORIGIN))).await;
    assert_refused(&none, Status::BadRequest, "invalid_grant");
    assert_cleared(&none);
    let request = from(client.post("/session/refresh"), Some(EVIL));
    let foreign = send(with_cookie(request, "__Secure-refresh", &session.refresh)).await;
    assert_refused(&foreign, Status::Forbidden, "access_denied");
    // The refused attempt did not burn the token.
    assert_eq!(refresh(&client, &session.refresh).await.status, Status::Ok);
}

#[rocket::async_test]
async fn logout_revokes_the_session_and_clears_the_cookies() {
    let (client, _db) = demo().await;
    let session = login(&client).await;
    let request = from(client.delete("/session"), Some(ORIGIN)).cookies(vec![
        Cookie::new("__Host-access", session.access.clone()),
        Cookie::new("__Secure-refresh", session.refresh.clone()),
    ]);
    let reply = send(request).await;
    assert_eq!(reply.status, Status::NoContent, "{}", reply.text);
    assert_cleared(&reply);
    // The access cookie, kept by an attacker, no longer works; nor does the
    // refresh cookie.
    let request = with_cookie(
        from(client.get("/items"), None),
        "__Host-access",
        &session.access,
    );
    assert_eq!(send(request).await.status, Status::Unauthorized);
    assert_refused(
        &refresh(&client, &session.refresh).await,
        Status::BadRequest,
        "invalid_grant",
    );
}

#[rocket::async_test]
async fn logout_with_the_access_cookie_alone_ends_the_session() {
    let (client, _db) = demo().await;
    let session = login(&client).await;
    let request = with_cookie(
        from(client.delete("/session"), Some(ORIGIN)),
        "__Host-access",
        &session.access,
    );
    assert_eq!(send(request).await.status, Status::NoContent);
    assert_refused(
        &refresh(&client, &session.refresh).await,
        Status::BadRequest,
        "invalid_grant",
    );
    // From another origin, logout is refused and the session goes on.
    let other = login(&client).await;
    let request = with_cookie(
        from(client.delete("/session"), Some(EVIL)),
        "__Secure-refresh",
        &other.refresh,
    );
    assert_refused(&send(request).await, Status::Forbidden, "access_denied");
    assert_eq!(refresh(&client, &other.refresh).await.status, Status::Ok);
}

#[rocket::async_test]
async fn a_new_login_ends_the_session_the_browser_still_had() {
    let (client, _db) = demo().await;
    let old = login(&client).await;
    let request = client
        .post("/session")
        .header(ContentType::Form)
        .body(form(&[("username", "johndoe"), ("password", "secret")]));
    let request = with_cookie(
        from(request, Some(ORIGIN)),
        "__Secure-refresh",
        &old.refresh,
    );
    let new = Session::from_reply(&send(request).await);
    assert_refused(
        &refresh(&client, &old.refresh).await,
        Status::BadRequest,
        "invalid_grant",
    );
    assert_eq!(refresh(&client, &new.refresh).await.status, Status::Ok);
}

#[rocket::async_test]
async fn an_allowed_origin_passes_and_gets_cors_with_credentials() {
    let db = TestDb::new();
    let figment =
        figment(&db).merge(("auth_cookie_allowed_origins", vec!["https://app.demo.test"]));
    let client = Client::untracked(demo_app::rocket_from(figment))
        .await
        .expect("ignites");
    let app = "https://app.demo.test";
    let session = Session::from_reply(&login_from(&client, Some(app), "johndoe", "secret").await);
    let request = client
        .post("/items")
        .header(ContentType::JSON)
        .body(r#"{"name": "from-app"}"#)
        .header(Header::new("Sec-Fetch-Site", "same-site"))
        .header(Header::new("X-CSRF-Token", session.csrf.clone()));
    let reply = send(with_cookie(
        from(request, Some(app)),
        "__Host-access",
        &session.access,
    ))
    .await;
    assert_eq!(reply.status, Status::Created, "{}", reply.text);
    assert_eq!(reply.header("Access-Control-Allow-Origin"), Some(app));
    assert_eq!(
        reply.header("Access-Control-Allow-Credentials"),
        Some("true")
    );

    let preflight = |origin: &str| {
        from(client.options("/items"), Some(origin))
            .header(Header::new("Access-Control-Request-Method", "POST"))
            .header(Header::new(
                "Access-Control-Request-Headers",
                "content-type, x-csrf-token",
            ))
    };
    let allowed = send(preflight(app)).await;
    assert_eq!(allowed.status, Status::NoContent);
    assert_eq!(allowed.header("Access-Control-Allow-Origin"), Some(app));
    assert!(
        allowed
            .header("Access-Control-Allow-Headers")
            .is_some_and(|h| h.contains("X-CSRF-Token"))
    );
    let foreign = send(preflight(EVIL)).await;
    assert_eq!(foreign.status, Status::Forbidden);
    assert_eq!(foreign.header("Access-Control-Allow-Origin"), None);
    // Other origins get no CORS headers on ordinary answers either.
    let reply = send(from(client.get("/health"), Some(EVIL))).await;
    assert_eq!(reply.header("Access-Control-Allow-Origin"), None);
}

#[rocket::async_test]
async fn unsafe_cookie_settings_stop_the_launch() {
    for (key, value) in [
        (
            "auth_cookie_allowed_origins",
            rocket::figment::value::Value::from(vec!["*"]),
        ),
        ("auth_cookie_same_site", "none".into()),
        ("auth_cookie_domain", "example.com".into()),
        ("auth_csrf_secret", "short".into()),
    ] {
        let db = TestDb::new();
        let mut figment = figment(&db).merge((key, value));
        if key == "auth_cookie_same_site" {
            // SameSite=None without Secure.
            figment = figment
                .merge(("auth_cookie_secure", false))
                .merge(("auth_cookie_access_name", "access"))
                .merge(("auth_cookie_refresh_name", "refresh"));
        }
        match demo_app::rocket_from(figment).ignite().await {
            Ok(_) => panic!("{key} should stop the launch"),
            Err(e) => assert!(
                matches!(e.kind(), ErrorKind::FailedFairings(failed)
                    if failed.iter().any(|f| f.name == "auth-core")),
                "{key}: {e:?}"
            ),
        }
    }
    // The same configuration without them launches.
    let db = TestDb::new();
    assert!(demo_app::rocket_from(figment(&db)).ignite().await.is_ok());
}
