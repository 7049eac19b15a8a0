//! The attack matrix: hostile tokens, headers and bodies against every
//! protected route kind of the demo. Each attack gets the contract's answer
//! (401 `invalid_token` with a challenge for a bad token, 400
//! `invalid_request` for a malformed request, 400 `invalid_grant` at the
//! token endpoint), and `/health` still answers afterwards.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header as JwtHeader};
use rocket::http::{ContentType, Header, Status};
use serde_json::Value;

use super::support::{
    App, Reply, SECRET, assert_challenge, assert_error, assert_token_error, send,
};

/// A protected route of the demo: method, path, and a valid body for it.
#[derive(Clone, Copy, Debug)]
struct Route {
    post: bool,
    path: &'static str,
}

const ROUTES: [Route; 5] = [
    Route {
        post: false,
        path: "/users/me",
    },
    Route {
        post: false,
        path: "/items",
    },
    Route {
        post: true,
        path: "/items",
    },
    Route {
        post: false,
        path: "/admin/users",
    },
    // Optional authentication: a bad token is still refused (contract §4).
    Route {
        post: false,
        path: "/tasks",
    },
];

/// Sends `route` with these `Authorization` header values.
async fn call(app: &App, route: Route, authorization: &[String]) -> Reply {
    let mut request = if route.post {
        app.client
            .post(route.path)
            .header(ContentType::JSON)
            .body(r#"{"name": "attack"}"#)
    } else {
        app.client.get(route.path)
    };
    for value in authorization {
        request = request.header(Header::new("Authorization", value.clone()));
    }
    send(request).await
}

async fn assert_healthy(app: &App) {
    let health = app.get("/health", None).await;
    assert_eq!(health.status, Status::Ok, "{}", health.text);
}

/// The claims of a real access token, to forge variants of.
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON")
}

fn header(alg: Algorithm, typ: Option<&str>) -> JwtHeader {
    let mut header = JwtHeader::new(alg);
    header.typ = typ.map(str::to_owned);
    header
}

fn sign(header: &JwtHeader, claims: &Value) -> String {
    jsonwebtoken::encode(header, claims, &EncodingKey::from_secret(SECRET.as_bytes()))
        .expect("sign")
}

fn b64(json: &str) -> String {
    URL_SAFE_NO_PAD.encode(json)
}

/// Replaces one character of `segment` (0 header, 1 payload, 2 signature).
fn tamper(token: &str, segment: usize) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let part = &mut parts[segment];
    let middle = part.len() / 2;
    let replacement = if &part[middle..=middle] == "A" {
        "B"
    } else {
        "A"
    };
    part.replace_range(middle..=middle, replacement);
    parts.join(".")
}

/// Forged and hostile bearer tokens, each with a label.
fn forged_tokens(valid: &str, refresh: &str) -> Vec<(&'static str, String)> {
    let claims = claims_of(valid);
    let now = claims["iat"].as_u64().expect("iat");
    let with = |key: &str, value: Value| {
        let mut claims = claims.clone();
        claims[key] = value;
        claims
    };
    let at = Some("at+jwt");
    let payload = b64(&claims.to_string());
    vec![
        (
            "alg none",
            format!("{}.{payload}.", b64(r#"{"alg":"none","typ":"at+jwt"}"#)),
        ),
        (
            "alg none, no dot",
            format!("{}.{payload}", b64(r#"{"alg":"none"}"#)),
        ),
        (
            "alg None spelled oddly",
            format!("{}.{payload}.", b64(r#"{"alg":"nOnE","typ":"at+jwt"}"#)),
        ),
        (
            "HS512 with the right secret",
            sign(&header(Algorithm::HS512, at), &claims),
        ),
        (
            "HS384 with the right secret",
            sign(&header(Algorithm::HS384, at), &claims),
        ),
        (
            "RS256 header, HMAC signature",
            format!(
                "{}.{payload}.{}",
                b64(r#"{"alg":"RS256","typ":"at+jwt"}"#),
                valid.rsplit('.').next().unwrap()
            ),
        ),
        (
            "EdDSA header, HMAC signature",
            format!(
                "{}.{payload}.{}",
                b64(r#"{"alg":"EdDSA","typ":"at+jwt"}"#),
                valid.rsplit('.').next().unwrap()
            ),
        ),
        ("tampered header", tamper(valid, 0)),
        ("tampered payload", tamper(valid, 1)),
        ("tampered signature", tamper(valid, 2)),
        (
            "signature stripped",
            format!("{}.", valid.rsplit_once('.').unwrap().0),
        ),
        (
            "expired",
            sign(
                &header(Algorithm::HS256, at),
                &with("exp", (now - 3600).into()),
            ),
        ),
        (
            "not yet valid",
            sign(
                &header(Algorithm::HS256, at),
                &with("nbf", (now + 3600).into()),
            ),
        ),
        (
            "wrong issuer",
            sign(&header(Algorithm::HS256, at), &with("iss", "evil".into())),
        ),
        (
            "wrong audience",
            sign(
                &header(Algorithm::HS256, at),
                &with("aud", "other-api".into()),
            ),
        ),
        (
            "audience list",
            sign(
                &header(Algorithm::HS256, at),
                &with("aud", Value::from(vec!["x"])),
            ),
        ),
        (
            "wrong typ",
            sign(&header(Algorithm::HS256, Some("JWT")), &claims),
        ),
        ("no typ", sign(&header(Algorithm::HS256, None), &claims)),
        (
            "refresh typ",
            sign(&header(Algorithm::HS256, Some("refresh+jwt")), &claims),
        ),
        (
            "exp as a string",
            sign(
                &header(Algorithm::HS256, at),
                &with("exp", "9999999999".into()),
            ),
        ),
        ("sub missing", {
            let mut claims = claims.clone();
            claims.as_object_mut().unwrap().remove("sub");
            sign(&header(Algorithm::HS256, at), &claims)
        }),
        (
            "unknown subject",
            sign(&header(Algorithm::HS256, at), &with("sub", "ghost".into())),
        ),
        ("refresh token as bearer", refresh.to_owned()),
        ("oversized token", "a".repeat(64 * 1024)),
        ("just past the token limit", "a".repeat(8 * 1024 + 1)),
        ("not a b64token", format!("{valid}!")),
        ("two tokens", format!("{valid} {valid}")),
        ("not a JWT", "abc.def".to_owned()),
        ("empty segments", "..".to_owned()),
    ]
}

#[rocket::async_test]
async fn forged_tokens_are_refused_on_every_protected_route() {
    let app = App::new().await;
    let admin = app.login("admin", "adminpass").await;
    for (label, forged) in forged_tokens(&admin.access, &admin.refresh) {
        for route in ROUTES {
            let reply = call(&app, route, &[format!("Bearer {forged}")]).await;
            assert_eq!(
                (reply.status, reply.error()),
                (Status::Unauthorized, "invalid_token"),
                "{label} on {route:?}: {}",
                reply.text
            );
            assert_challenge(&reply, Status::Unauthorized, "invalid_token");
        }
    }
    // The genuine token still works everywhere after all that.
    for route in ROUTES {
        let reply = call(&app, route, &[format!("Bearer {}", admin.access)]).await;
        assert!(reply.status.code < 300, "{route:?}: {}", reply.text);
    }
    assert_healthy(&app).await;
}

#[rocket::async_test]
async fn malformed_authorization_headers_are_refused() {
    let app = App::new().await;
    let user = app.login("admin", "adminpass").await;
    let bearer = format!("Bearer {}", user.access);
    let cases: Vec<(&str, Vec<String>, Status, &str)> = vec![
        (
            "empty bearer",
            vec!["Bearer ".to_owned()],
            Status::BadRequest,
            "invalid_request",
        ),
        (
            "bare scheme",
            vec!["Bearer".to_owned()],
            Status::BadRequest,
            "invalid_request",
        ),
        (
            "two headers",
            vec![bearer.clone(), bearer.clone()],
            Status::BadRequest,
            "invalid_request",
        ),
        (
            "control character",
            vec![format!("{bearer}\u{1}")],
            Status::Unauthorized,
            "invalid_token",
        ),
        (
            "non-ASCII token",
            vec!["Bearer tökén".to_owned()],
            Status::Unauthorized,
            "invalid_token",
        ),
        (
            "huge header",
            vec![format!("Bearer {}", "x".repeat(256 * 1024))],
            Status::Unauthorized,
            "invalid_token",
        ),
    ];
    for (label, values, status, code) in cases {
        for route in ROUTES {
            let reply = call(&app, route, &values).await;
            assert_eq!(
                (reply.status, reply.error()),
                (status, code),
                "{label} on {route:?}: {}",
                reply.text
            );
            assert_error(&reply, status, code);
        }
    }
    // Another scheme is no credential: protected routes challenge, the
    // optional one serves anonymously.
    for route in ROUTES {
        let reply = call(&app, route, &["Basic YTpi".to_owned()]).await;
        if route.path == "/tasks" {
            assert_eq!(reply.status, Status::Ok, "{}", reply.text);
            assert_eq!(reply.json["user"], Value::Null);
        } else {
            assert_challenge(&reply, Status::Unauthorized, "unauthorized");
        }
    }
    assert_healthy(&app).await;
}

#[rocket::async_test]
async fn tokens_of_disabled_and_deleted_users_are_refused() {
    let db = super::support::TestDb::new();
    let figment = super::support::figment(&db).merge(("auth_subject_cache_ttl", 0));
    let app = App::with(&db, figment).await;
    let admin = app.login("admin", "adminpass").await;
    let john = app.login("johndoe", "secret").await;
    let pool = db.pool().await;
    sqlx::query("UPDATE users SET disabled = 1 WHERE username = 'admin'")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM users WHERE username = 'johndoe'")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    for (label, tokens) in [("disabled", &admin), ("deleted", &john)] {
        for route in ROUTES {
            let reply = call(&app, route, &[format!("Bearer {}", tokens.access)]).await;
            assert_eq!(
                (reply.status, reply.error()),
                (Status::Unauthorized, "invalid_token"),
                "{label} user on {route:?}: {}",
                reply.text
            );
        }
        let refresh = app.refresh(&tokens.refresh).await;
        assert_token_error(&refresh, "invalid_grant");
    }
    assert_healthy(&app).await;
}

#[rocket::async_test]
async fn token_endpoint_refuses_hostile_forms() {
    let app = App::new().await;
    let john = app.login("johndoe", "secret").await;

    // An access token is not a refresh token, nor is anything forged.
    for (label, refresh) in [
        ("access token", john.access.clone()),
        ("tampered refresh token", tamper_text(&john.refresh)),
        ("huge refresh token", "r".repeat(8 * 1024)),
    ] {
        let reply = app.refresh(&refresh).await;
        assert_token_error(&reply, "invalid_grant");
        assert!(!reply.text.contains(&refresh), "{label} echoed");
    }
    // An altered refresh token that still names a live session is handled
    // as a replay (RFC 9700 §4.14.2): the session ends, its access token too.
    assert_token_error(&app.refresh(&john.refresh).await, "invalid_grant");
    let ended = app.get("/users/me", Some(&john.access)).await;
    assert_challenge(&ended, Status::Unauthorized, "invalid_token");
    let john = app.login("johndoe", "secret").await;

    let cases: Vec<(&str, String, &str)> = vec![
        (
            "duplicated password",
            "username=johndoe&password=secret&password=secret".to_owned(),
            "invalid_request",
        ),
        (
            "duplicated username",
            "username=johndoe&username=admin&password=secret".to_owned(),
            "invalid_request",
        ),
        (
            "duplicated grant_type",
            "grant_type=password&grant_type=refresh_token&username=johndoe&password=secret"
                .to_owned(),
            "invalid_request",
        ),
        (
            "huge field",
            format!("username=johndoe&password={}", "p".repeat(64 * 1024)),
            "invalid_request",
        ),
        (
            "many fields",
            format!("username=johndoe&password=secret&{}", "x=1&".repeat(8000)),
            "invalid_request",
        ),
        // Rocket decodes a stray `%` literally: a username nobody has.
        (
            "bad percent-encoding",
            "username=john%zz&password=secret".to_owned(),
            "invalid_grant",
        ),
        (
            "non-UTF-8 percent-encoding",
            "username=%ff%fe&password=secret".to_owned(),
            "invalid_request",
        ),
        (
            "unknown grant",
            "grant_type=authorization_code&code=x".to_owned(),
            "unsupported_grant_type",
        ),
    ];
    for (label, body, code) in cases {
        let reply = app.post_form("/token", &body).await;
        assert_eq!(reply.error(), code, "{label}: {}", reply.text);
        assert_token_error(&reply, code);
        assert!(
            !reply.text.contains("secret\""),
            "{label} echoed the password"
        );
    }

    // JSON, or no content type, where a form is expected.
    let json = send(
        app.client
            .post("/token")
            .header(ContentType::JSON)
            .body(r#"{"username":"johndoe","password":"secret"}"#),
    )
    .await;
    assert_token_error(&json, "invalid_request");
    let untyped = send(
        app.client
            .post("/token")
            .body("username=johndoe&password=secret"),
    )
    .await;
    assert_token_error(&untyped, "invalid_request");

    // A form where JSON is expected, and broken JSON, on a protected route.
    let bearer = Header::new("Authorization", format!("Bearer {}", john.access));
    let form_item = send(
        app.client
            .post("/items")
            .header(ContentType::Form)
            .header(bearer.clone())
            .body("name=attack"),
    )
    .await;
    assert!(
        form_item.status.code >= 400 && form_item.status.code < 500,
        "{}",
        form_item.text
    );
    assert!(form_item.json["error"].is_string(), "{}", form_item.text);
    for body in [
        r#"{"name": "#,
        r#"{"name": 1}"#,
        r#"{"name": "a", "name": "b"}"#,
        "[]",
    ] {
        let reply = app.post_json("/items", Some(&john.access), body).await;
        assert!(
            matches!(reply.status.code, 400 | 409 | 422),
            "{body}: {}",
            reply.text
        );
        assert!(reply.json["error"].is_string(), "{body}: {}", reply.text);
    }
    let huge = app
        .post_json(
            "/items",
            Some(&john.access),
            &format!(r#"{{"name": "{}"}}"#, "n".repeat(2 * 1024 * 1024)),
        )
        .await;
    assert!(
        matches!(huge.status.code, 400 | 413 | 422),
        "{}",
        huge.status
    );

    // The session survives all of it.
    let refreshed = app.refresh(&john.refresh).await;
    assert_eq!(refreshed.status, Status::Ok, "{}", refreshed.text);
    assert_healthy(&app).await;
}

fn tamper_text(text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let middle = chars.len() / 2;
    chars[middle] = if chars[middle] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}
