//! Contract §3 (responses of protected routes), §4 (optional auth) and §6
//! (access tokens) over HTTP, against a small app built only from the
//! toolkit: in-memory users, `#[protected]` handlers, `MaybeUser`.

use std::sync::atomic::{AtomicUsize, Ordering};

use auth_core::{
    AccessTokens, Algorithm, Auth, AuthConfig, AuthUser, BearerToken, MaybeUser, MemoryUserStore,
    PasswordHasher, Scopes, TokenKeys, protected,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header as JwtHeader};
use rocket::data::{self, Data, FromData};
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use rocket::request::Request;
use rocket::{State, catch, catchers, get, post, routes};
use serde_json::{Value, json};

const SECRET: &str = "test-secret-0123456789-abcdefghijklmnop";
const ISSUER: &str = "test-issuer";
const AUDIENCE: &str = "test-api";

/// Counts handler runs and body reads, to prove rejected requests reach
/// neither.
#[derive(Default)]
struct Counters {
    handler: AtomicUsize,
    body_reads: AtomicUsize,
}

/// A data guard that records that it ran.
struct CountedBody(String);

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
fn me(user: AuthUser) -> Value {
    json!({ "sub": user.subject(), "scopes": user.scopes().to_vec() })
}

#[protected(scopes = "read")]
#[get("/read")]
async fn read(counters: &State<Counters>) -> &'static str {
    counters.handler.fetch_add(1, Ordering::SeqCst);
    "read ok"
}

#[protected(scopes = "read write")]
#[post("/write", data = "<body>")]
fn write(body: CountedBody, counters: &State<Counters>, user: AuthUser) -> String {
    counters.handler.fetch_add(1, Ordering::SeqCst);
    format!("{} wrote {}", user.subject(), body.0)
}

#[get("/maybe")]
fn maybe(user: MaybeUser) -> Value {
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

/// Seconds since the Unix epoch, for hand-made claims.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

fn config() -> AuthConfig {
    let mut config = AuthConfig::default();
    config.secret = Some(SECRET.to_owned());
    config.issuer = ISSUER.to_owned();
    config.audience = AUDIENCE.to_owned();
    config.realm = "test".to_owned();
    config.leeway = 5;
    config
}

async fn client() -> Client {
    let hasher = PasswordHasher::with_params(256, 1, 1).unwrap();
    let hash = hasher.hash_blocking("pw").unwrap();
    let users = MemoryUserStore::new();
    users.insert_hashed("john", &hash, Scopes::parse("read write").unwrap(), false);
    users.insert_hashed("reader", &hash, Scopes::parse("read").unwrap(), false);
    users.insert_hashed("off", &hash, Scopes::parse("read").unwrap(), true);
    let rocket = rocket::build()
        .attach(
            Auth::fairing()
                .users(users.clone())
                .hasher(hasher)
                .config(config())
                .scope("read", "Read")
                .scope("write", "Write"),
        )
        .manage(Counters::default())
        .manage(users.clone())
        .mount("/", routes![me, read, write, maybe, raw])
        .register("/", catchers![html_401]);
    Client::tracked(rocket).await.expect("valid rocket")
}

fn auth(client: &Client) -> &Auth {
    client.rocket().state::<Auth>().expect("auth managed")
}

/// A valid token for `sub` with `scope`.
fn token(client: &Client, sub: &str, scope: &str) -> String {
    auth(client)
        .tokens()
        .issue(sub, "test-client", &Scopes::parse(scope).unwrap())
        .unwrap()
        .token
}

fn counters(client: &Client) -> &Counters {
    client.rocket().state::<Counters>().unwrap()
}

async fn get<'c>(client: &'c Client, path: &str, authorization: Option<&str>) -> LocalResponse<'c> {
    let mut request = client.get(path.to_owned());
    if let Some(value) = authorization {
        request = request.header(Header::new("Authorization", value.to_owned()));
    }
    request.dispatch().await
}

/// `POST /write` with `token` and a small body.
async fn post_write<'c>(client: &'c Client, token: &str) -> LocalResponse<'c> {
    client
        .post("/write")
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .body("payload")
        .dispatch()
        .await
}

/// Status, `WWW-Authenticate`, and the JSON body of a response.
async fn parts(response: LocalResponse<'_>) -> (Status, Option<String>, Value) {
    let status = response.status();
    let challenge = response
        .headers()
        .get_one("WWW-Authenticate")
        .map(str::to_owned);
    assert_eq!(
        response.content_type(),
        Some(ContentType::JSON),
        "error bodies are JSON"
    );
    let body: Value = serde_json::from_str(&response.into_string().await.unwrap()).unwrap();
    (status, challenge, body)
}

fn claims_json(sub: &str, scope: &str) -> Value {
    let now = unix_now();
    json!({
        "iss": ISSUER, "sub": sub, "aud": AUDIENCE, "exp": now + 300, "iat": now, "nbf": now,
        "jti": "forged", "client_id": "c", "scope": scope
    })
}

fn sign(header: &JwtHeader, claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(header, claims, &EncodingKey::from_secret(secret)).unwrap()
}

fn at_jwt(alg: Algorithm) -> JwtHeader {
    let mut header = JwtHeader::new(alg);
    header.typ = Some("at+jwt".to_owned());
    header
}

/// Asserts a 401 `invalid_token` with a challenge and a description.
async fn assert_invalid_token(client: &Client, path: &str, token: &str, why: &str) {
    let (status, challenge, body) =
        parts(get(client, path, Some(&format!("Bearer {token}"))).await).await;
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

mod missing_credentials {
    use super::*;

    #[rocket::async_test]
    async fn no_authorization_header_is_401_with_bare_challenge() {
        let client = client().await;
        let (status, challenge, body) = parts(get(&client, "/me", None).await).await;
        assert_eq!(status, Status::Unauthorized);
        assert_eq!(challenge.as_deref(), Some("Bearer realm=\"test\""));
        assert_eq!(body["error"], "unauthorized");
        assert!(body["error_description"].is_string());
    }

    #[rocket::async_test]
    async fn other_schemes_are_401_without_error_code() {
        let client = client().await;
        for value in ["Basic am9objpwdw==", "Token abc", "Bearerxyz"] {
            let (status, challenge, body) = parts(get(&client, "/read", Some(value)).await).await;
            assert_eq!(status, Status::Unauthorized, "{value}");
            assert_eq!(
                challenge.as_deref(),
                Some("Bearer realm=\"test\""),
                "{value}"
            );
            assert_eq!(body["error"], "unauthorized");
        }
    }

    #[rocket::async_test]
    async fn app_catchers_do_not_hide_the_rfc_error() {
        // The app registered an HTML 401 catcher; the body is still JSON.
        let client = client().await;
        let (_, _, body) = parts(get(&client, "/me", None).await).await;
        assert_eq!(body["error"], "unauthorized");
    }
}

mod invalid_request {
    use super::*;

    #[rocket::async_test]
    async fn empty_bearer_token_is_400() {
        let client = client().await;
        for value in ["Bearer", "Bearer ", "bearer   "] {
            let (status, challenge, body) = parts(get(&client, "/me", Some(value)).await).await;
            assert_eq!(status, Status::BadRequest, "{value:?}");
            assert_eq!(body["error"], "invalid_request");
            assert!(challenge.unwrap().contains("error=\"invalid_request\""));
        }
    }

    #[rocket::async_test]
    async fn several_authorization_headers_are_400() {
        let client = client().await;
        let good = format!("Bearer {}", token(&client, "john", "read"));
        let response = client
            .get("/me")
            .header(Header::new("Authorization", good.clone()))
            .header(Header::new("Authorization", good))
            .dispatch()
            .await;
        let (status, challenge, body) = parts(response).await;
        assert_eq!(status, Status::BadRequest);
        assert_eq!(body["error"], "invalid_request");
        assert!(challenge.unwrap().contains("error=\"invalid_request\""));
    }
}

mod invalid_token {
    use super::*;

    #[rocket::async_test]
    async fn scheme_is_case_insensitive() {
        let client = client().await;
        let t = token(&client, "john", "read");
        for scheme in ["Bearer", "bearer", "BEARER"] {
            let response = get(&client, "/me", Some(&format!("{scheme} {t}"))).await;
            assert_eq!(response.status(), Status::Ok, "{scheme}");
        }
    }

    #[rocket::async_test]
    async fn malformed_tokens_are_401() {
        let client = client().await;
        for bad in [
            "a\"b",
            "tok=en",
            "not.a.jwt",
            "eyJhbGciOiJIUzI1NiJ9",
            "===",
            "a,b",
        ] {
            assert_invalid_token(&client, "/me", bad, bad).await;
        }
        let (status, _, body) = parts(get(&client, "/me", Some("Bearer two words")).await).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (Status::Unauthorized, Some("invalid_token"))
        );
    }

    #[rocket::async_test]
    async fn forged_and_tampered_tokens_are_401() {
        let client = client().await;
        let claims = claims_json("john", "read write");
        let other_secret = sign(
            &at_jwt(Algorithm::HS256),
            &claims,
            b"another-secret-0123456789-abcdefghij",
        );
        assert_invalid_token(&client, "/me", &other_secret, "other secret").await;

        let hs512 = sign(&at_jwt(Algorithm::HS512), &claims, SECRET.as_bytes());
        assert_invalid_token(&client, "/me", &hs512, "algorithm switch").await;

        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        assert_invalid_token(
            &client,
            "/me",
            &format!("{none_header}.{payload}."),
            "alg none",
        )
        .await;
        assert_invalid_token(
            &client,
            "/me",
            &format!("{none_header}.{payload}.c2ln"),
            "alg none with sig",
        )
        .await;

        // Scope escalation: swap the payload of a real token.
        let real = token(&client, "reader", "read");
        let mut pieces: Vec<&str> = real.split('.').collect();
        let escalated = URL_SAFE_NO_PAD.encode(claims_json("reader", "read write").to_string());
        pieces[1] = &escalated;
        assert_invalid_token(&client, "/me", &pieces.join("."), "tampered payload").await;

        // Flip one signature character.
        let mut flipped = real.clone();
        let last = flipped.pop().unwrap();
        flipped.push(if last == 'A' { 'B' } else { 'A' });
        assert_invalid_token(&client, "/me", &flipped, "tampered signature").await;
    }

    #[rocket::async_test]
    async fn claims_are_checked() {
        let client = client().await;
        let key = SECRET.as_bytes();
        let mut wrong_iss = claims_json("john", "read");
        wrong_iss["iss"] = "someone-else".into();
        assert_invalid_token(
            &client,
            "/me",
            &sign(&at_jwt(Algorithm::HS256), &wrong_iss, key),
            "issuer",
        )
        .await;
        let mut wrong_aud = claims_json("john", "read");
        wrong_aud["aud"] = "other-api".into();
        assert_invalid_token(
            &client,
            "/me",
            &sign(&at_jwt(Algorithm::HS256), &wrong_aud, key),
            "audience",
        )
        .await;
        let no_typ = sign(
            &JwtHeader::new(Algorithm::HS256),
            &claims_json("john", "read"),
            key,
        );
        assert_invalid_token(&client, "/me", &no_typ, "typ").await;
        let mut no_exp = claims_json("john", "read");
        no_exp.as_object_mut().unwrap().remove("exp");
        assert_invalid_token(
            &client,
            "/me",
            &sign(&at_jwt(Algorithm::HS256), &no_exp, key),
            "exp",
        )
        .await;
        let mut future = claims_json("john", "read");
        future["nbf"] = (unix_now() + 600).into();
        assert_invalid_token(
            &client,
            "/me",
            &sign(&at_jwt(Algorithm::HS256), &future, key),
            "nbf",
        )
        .await;
    }

    #[rocket::async_test]
    async fn expired_token_is_401_invalid_token() {
        let client = client().await;
        let tokens = auth(&client).tokens();
        let expired = tokens
            .issue_at(
                "john",
                "c",
                &Scopes::parse("read").unwrap(),
                unix_now() - tokens.ttl() - 60,
            )
            .unwrap()
            .token;
        let (status, challenge, body) =
            parts(get(&client, "/me", Some(&format!("Bearer {expired}"))).await).await;
        assert_eq!(status, Status::Unauthorized);
        assert_eq!(body["error"], "invalid_token");
        assert!(challenge.unwrap().contains("expired"));
    }

    #[rocket::async_test]
    async fn token_of_an_unknown_or_disabled_subject_is_401() {
        let client = client().await;
        assert_invalid_token(
            &client,
            "/me",
            &token(&client, "ghost", "read"),
            "unknown subject",
        )
        .await;
        assert_invalid_token(
            &client,
            "/me",
            &token(&client, "off", "read"),
            "disabled subject",
        )
        .await;
    }

    #[rocket::async_test]
    async fn disabled_subject_loses_access_within_the_cache_lifetime() {
        let client = client().await;
        let t = format!("Bearer {}", token(&client, "john", "read"));
        assert_eq!(get(&client, "/me", Some(&t)).await.status(), Status::Ok);
        let users = client.rocket().state::<MemoryUserStore>().unwrap();
        assert!(users.set_disabled("john", true));
        // Remembered as enabled for auth_subject_cache_ttl (5 s here) ...
        assert_eq!(get(&client, "/me", Some(&t)).await.status(), Status::Ok);
        // ... unless the app says so.
        auth(&client).forget_subject("john");
        assert_invalid_token(
            &client,
            "/me",
            &t["Bearer ".len()..],
            "disabled and forgotten",
        )
        .await;
    }

    #[rocket::async_test]
    async fn zero_cache_lifetime_checks_the_store_every_time() {
        let mut config = config();
        config.subject_cache_ttl = 0;
        let users = MemoryUserStore::new();
        let hash = PasswordHasher::with_params(256, 1, 1)
            .unwrap()
            .hash_blocking("pw")
            .unwrap();
        users.insert_hashed("john", &hash, Scopes::parse("read").unwrap(), false);
        let rocket = rocket::build()
            .attach(Auth::fairing().users(users.clone()).config(config))
            .mount("/", routes![me]);
        let client = Client::tracked(rocket).await.unwrap();
        let t = token(&client, "john", "read");
        assert_eq!(
            get(&client, "/me", Some(&format!("Bearer {t}")))
                .await
                .status(),
            Status::Ok
        );
        users.set_disabled("john", true);
        assert_invalid_token(&client, "/me", &t, "disabled, no cache").await;
    }

    #[rocket::async_test]
    async fn token_from_another_key_pair_is_401() {
        let client = client().await;
        let other = AccessTokens::new(
            TokenKeys::hs256(b"0123456789abcdef0123456789ABCDEF").unwrap(),
            ISSUER,
            AUDIENCE,
        );
        let t = other
            .issue("john", "c", &Scopes::parse("read").unwrap())
            .unwrap()
            .token;
        assert_invalid_token(&client, "/me", &t, "other key").await;
    }
}

mod scopes {
    use super::*;

    #[rocket::async_test]
    async fn valid_token_reaches_the_handler_with_its_caller() {
        let client = client().await;
        let t = token(&client, "john", "read write");
        let response = get(&client, "/me", Some(&format!("Bearer {t}"))).await;
        assert_eq!(response.status(), Status::Ok);
        let body: Value = response.into_json().await.unwrap();
        assert_eq!(body, json!({ "sub": "john", "scopes": ["read", "write"] }));
    }

    #[rocket::async_test]
    async fn missing_scope_is_403_insufficient_scope() {
        let client = client().await;
        let t = token(&client, "reader", "read");
        let response = post_write(&client, &t).await;
        let (status, challenge, body) = parts(response).await;
        assert_eq!(status, Status::Forbidden);
        assert_eq!(body["error"], "insufficient_scope");
        let challenge = challenge.unwrap();
        assert!(
            challenge.contains("error=\"insufficient_scope\""),
            "{challenge}"
        );
        assert!(challenge.ends_with("scope=\"read write\""), "{challenge}");
    }

    #[rocket::async_test]
    async fn all_required_scopes_let_the_request_through() {
        let client = client().await;
        let t = token(&client, "john", "read write");
        let response = post_write(&client, &t).await;
        assert_eq!(response.status(), Status::Ok);
        assert_eq!(response.into_string().await.unwrap(), "john wrote payload");
        assert_eq!(counters(&client).handler.load(Ordering::SeqCst), 1);
        assert_eq!(counters(&client).body_reads.load(Ordering::SeqCst), 1);
    }

    #[rocket::async_test]
    async fn rejected_requests_never_run_the_handler_or_read_the_body() {
        let client = client().await;
        let reader = token(&client, "reader", "read");
        let cases = [
            None,
            Some("Basic x".to_owned()),
            Some("Bearer ".to_owned()),
            Some("Bearer bad\"token".to_owned()),
            Some(format!("Bearer {reader}x")),
            Some(format!("Bearer {reader}")), // lacks "write"
        ];
        for authorization in &cases {
            let mut request = client.post("/write").body("payload");
            if let Some(value) = authorization {
                request = request.header(Header::new("Authorization", value.clone()));
            }
            let status = request.dispatch().await.status();
            assert!(status.code >= 400, "{authorization:?} got {status}");
        }
        assert_eq!(counters(&client).handler.load(Ordering::SeqCst), 0);
        assert_eq!(counters(&client).body_reads.load(Ordering::SeqCst), 0);
        // The async handler too.
        assert_eq!(
            get(&client, "/read", None).await.status(),
            Status::Unauthorized
        );
        assert_eq!(counters(&client).handler.load(Ordering::SeqCst), 0);
    }
}

mod optional_auth {
    use super::*;

    async fn user_of(client: &Client, authorization: Option<&str>) -> (Status, Value) {
        let response = get(client, "/maybe", authorization).await;
        let status = response.status();
        (status, response.into_json().await.unwrap())
    }

    #[rocket::async_test]
    async fn no_header_or_other_scheme_is_anonymous() {
        let client = client().await;
        assert_eq!(
            user_of(&client, None).await,
            (Status::Ok, json!({ "user": null }))
        );
        assert_eq!(
            user_of(&client, Some("Basic abc")).await,
            (Status::Ok, json!({ "user": null }))
        );
    }

    #[rocket::async_test]
    async fn valid_token_is_the_caller() {
        let client = client().await;
        let t = token(&client, "john", "read");
        assert_eq!(
            user_of(&client, Some(&format!("Bearer {t}"))).await,
            (Status::Ok, json!({ "user": "john" }))
        );
    }

    #[rocket::async_test]
    async fn invalid_or_expired_token_is_rejected_not_downgraded() {
        let client = client().await;
        let tokens = auth(&client).tokens();
        let expired = tokens
            .issue_at("john", "c", &Scopes::new(), unix_now() - tokens.ttl() - 60)
            .unwrap()
            .token;
        for (value, status, code) in [
            (
                format!("Bearer {expired}"),
                Status::Unauthorized,
                "invalid_token",
            ),
            (
                "Bearer garbage.token.here".to_owned(),
                Status::Unauthorized,
                "invalid_token",
            ),
            ("Bearer ".to_owned(), Status::BadRequest, "invalid_request"),
        ] {
            let (got, challenge, body) = parts(get(&client, "/maybe", Some(&value)).await).await;
            assert_eq!(got, status, "{value}");
            assert_eq!(body["error"], code);
            assert!(challenge.is_some());
        }
    }

    #[rocket::async_test]
    async fn raw_bearer_token_guard_is_optional() {
        let client = client().await;
        assert_eq!(
            get(&client, "/raw", None)
                .await
                .into_string()
                .await
                .unwrap(),
            "none"
        );
        assert_eq!(
            get(&client, "/raw", Some("Bearer abc"))
                .await
                .into_string()
                .await
                .unwrap(),
            "token"
        );
        // A failed `Option<BearerToken>` must not turn a later 200 into an error.
        let response = get(&client, "/raw", Some("Bearer ")).await;
        assert_eq!(response.status(), Status::Ok);
        assert_eq!(response.into_string().await.unwrap(), "none");
    }
}

mod configuration {
    use super::*;
    use rocket::error::ErrorKind;

    /// Rocket's launch error panics if dropped unread; read its kind.
    fn assert_fairing_failed<P: rocket::Phase>(result: Result<rocket::Rocket<P>, rocket::Error>) {
        match result {
            Ok(_) => panic!("launch should have been refused"),
            Err(e) => assert!(matches!(e.kind(), ErrorKind::FailedFairings(_)), "{e:?}"),
        }
    }

    #[rocket::async_test]
    async fn weak_secret_refuses_to_launch() {
        let mut config = config();
        config.secret = Some("too-short".to_owned());
        let rocket = rocket::build().attach(Auth::fairing().config(config));
        assert_fairing_failed(rocket.ignite().await);
    }

    #[rocket::async_test]
    async fn secret_is_read_from_rocket_configuration() {
        let figment = rocket::Config::figment()
            .merge(("auth_secret", "figment-secret-0123456789-abcdefghijkl"))
            .merge(("auth_access_ttl", 60));
        let rocket = rocket::custom(figment).attach(Auth::fairing());
        let rocket = rocket.ignite().await.expect("ignites");
        let auth = rocket.state::<Auth>().unwrap();
        assert_eq!(auth.tokens().ttl(), 60);
        let figment_short = rocket::Config::figment().merge(("auth_secret", "short"));
        assert_fairing_failed(
            rocket::custom(figment_short)
                .attach(Auth::fairing())
                .ignite()
                .await,
        );
    }

    #[rocket::async_test]
    async fn guards_without_the_fairing_stop_the_launch() {
        for rocket in [
            rocket::build().mount("/", routes![me]),
            rocket::build().mount("/", routes![maybe]),
            rocket::build().mount("/", routes![read]),
        ] {
            let error = Client::tracked(rocket).await.expect_err("launch refused");
            assert!(
                matches!(error.kind(), rocket::error::ErrorKind::SentinelAborts(_)),
                "{error:?}"
            );
        }
    }

    #[rocket::async_test]
    async fn an_undeclared_scope_stops_the_launch() {
        let fairing = Auth::fairing()
            .config(config())
            .scope("read", "Read")
            .scope("writ", "A typo of write");
        let rocket = rocket::build()
            .attach(fairing)
            .manage(Counters::default())
            .mount("/", routes![read, write]);
        let error = Client::tracked(rocket).await.expect_err("launch refused");
        let rocket::error::ErrorKind::SentinelAborts(sentries) = error.kind() else {
            panic!("{error:?}");
        };
        // Only `write` requires a scope ("write") nobody declared.
        assert_eq!(sentries.len(), 1, "{sentries:?}");
        assert!(sentries[0].type_name.contains("__auth_scopes_write"));
    }
}
