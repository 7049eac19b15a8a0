//! Contract §5: `POST /token` and `POST /token-strict`.

use rocket::http::{ContentType, Status};

use super::support::{App, Reply, assert_token_error, form};

fn assert_success_headers(reply: &Reply) {
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
    assert_eq!(reply.header("Pragma"), Some("no-cache"));
    assert_eq!(reply.header("Content-Type"), Some("application/json"));
}

#[rocket::async_test]
async fn password_grant_answers_rfc_6749_token_response() {
    let app = App::new().await;
    let reply = app
        .token(&[("username", "johndoe"), ("password", "secret")])
        .await;
    assert_success_headers(&reply);
    let body = reply.json.as_object().expect("a JSON object");
    let mut keys: Vec<&str> = body.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "access_token",
            "expires_in",
            "refresh_token",
            "scope",
            "token_type"
        ]
    );
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 1800);
    assert_eq!(body["scope"], "read:items write:items");
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(access.split('.').count(), 3, "a JWT: {access}");
    let refresh = body["refresh_token"].as_str().unwrap();
    assert!(refresh.len() >= 32, "{refresh}");
    assert_ne!(access, refresh);
    // The password never comes back.
    assert!(!reply.text.contains("secret\""), "{}", reply.text);

    // The access token works.
    let me = app.get("/users/me", Some(access)).await;
    assert_eq!(me.status, Status::Ok, "{}", me.text);
    assert_eq!(me.json["username"], "johndoe");
}

#[rocket::async_test]
async fn explicit_grant_type_and_client_fields_are_accepted() {
    let app = App::new().await;
    let reply = app
        .token(&[
            ("grant_type", "password"),
            ("username", "johndoe"),
            ("password", "secret"),
            ("client_id", "cli"),
            ("client_secret", "unused"),
        ])
        .await;
    assert_success_headers(&reply);
    assert_eq!(reply.json["scope"], "read:items write:items");
}

#[rocket::async_test]
async fn no_scope_requested_grants_every_allowed_scope() {
    let app = App::new().await;
    let admin = app.login("admin", "adminpass").await;
    assert_eq!(admin.scope, "admin read:items write:items");
    let john = app.login("johndoe", "secret").await;
    assert_eq!(john.scope, "read:items write:items");
    // An empty scope parameter counts as omitted (RFC 6749 §3.2).
    let empty = app
        .token(&[
            ("username", "johndoe"),
            ("password", "secret"),
            ("scope", ""),
        ])
        .await;
    assert_success_headers(&empty);
    assert_eq!(empty.json["scope"], "read:items write:items");
}

#[rocket::async_test]
async fn requested_scopes_are_granted_exactly() {
    let app = App::new().await;
    let narrowed = app
        .login_with_scope("johndoe", "secret", "read:items")
        .await;
    assert_eq!(narrowed.scope, "read:items");
    let me = app.get("/users/me", Some(&narrowed.access)).await;
    assert_eq!(me.json["scopes"], serde_json::json!(["read:items"]));
    assert_eq!(
        app.get("/items", Some(&narrowed.access)).await.status,
        Status::Ok
    );
    let write = app
        .post_json("/items", Some(&narrowed.access), r#"{"name": "x"}"#)
        .await;
    assert_eq!(write.status, Status::Forbidden, "{}", write.text);

    let both = app
        .login_with_scope("admin", "adminpass", "write:items  admin")
        .await;
    assert_eq!(both.scope, "admin write:items");
}

#[rocket::async_test]
async fn scope_not_allowed_unknown_or_malformed_is_invalid_scope() {
    let app = App::new().await;
    for scope in [
        "admin",             // declared, not allowed for johndoe
        "delete:everything", // not declared
        "read:items admin",  // one of them not allowed
        "read\"items",       // not a scope-token
        "read\\items",       // not a scope-token
    ] {
        let reply = app
            .token(&[
                ("username", "johndoe"),
                ("password", "secret"),
                ("scope", scope),
            ])
            .await;
        assert_token_error(&reply, "invalid_scope");
    }
}

#[rocket::async_test]
async fn missing_or_duplicated_fields_are_invalid_request() {
    let app = App::new().await;
    for body in [
        "password=secret",
        "username=johndoe",
        "username=&password=secret",
        "username=johndoe&password=",
        "",
        "username=johndoe&username=admin&password=secret",
        "username=johndoe&password=secret&password=other",
        "username=johndoe&password=secret&scope=read:items&scope=write:items",
        "grant_type=password&grant_type=password&username=johndoe&password=secret",
    ] {
        let reply = app.post_form("/token", body).await;
        assert_token_error(&reply, "invalid_request");
        assert!(!reply.text.contains("secret\""), "{}", reply.text);
    }
}

#[rocket::async_test]
async fn a_body_that_is_not_form_encoded_is_invalid_request() {
    let app = App::new().await;
    let json = app
        .client
        .post("/token")
        .header(ContentType::JSON)
        .body(r#"{"username": "johndoe", "password": "secret"}"#);
    assert_token_error(&super::support::send(json).await, "invalid_request");
    let untyped = app
        .client
        .post("/token")
        .body("username=johndoe&password=secret");
    assert_token_error(&super::support::send(untyped).await, "invalid_request");
    let bad_encoding = app
        .post_form("/token", "username=johndoe&password=%FF%FE")
        .await;
    assert_token_error(&bad_encoding, "invalid_request");
}

#[rocket::async_test]
async fn unsupported_grant_types_are_refused() {
    let app = App::new().await;
    for grant in [
        "authorization_code",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "Client_credentials",
        "Password",
        "implicit",
    ] {
        let reply = app
            .token(&[
                ("grant_type", grant),
                ("username", "johndoe"),
                ("password", "secret"),
            ])
            .await;
        assert_token_error(&reply, "unsupported_grant_type");
    }
}

#[rocket::async_test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let app = App::new().await;
    let wrong_password = app
        .token(&[("username", "johndoe"), ("password", "not-the-password")])
        .await;
    let unknown_user = app
        .token(&[("username", "nobody"), ("password", "not-the-password")])
        .await;
    assert_token_error(&wrong_password, "invalid_grant");
    assert_eq!(wrong_password.status, unknown_user.status);
    assert_eq!(wrong_password.text, unknown_user.text);
    assert_eq!(wrong_password.headers, unknown_user.headers);
    assert!(!wrong_password.text.contains("not-the-password"));
    assert!(!wrong_password.text.contains("johndoe"));
    // Usernames are exact: no case folding.
    let other_case = app
        .token(&[("username", "JohnDoe"), ("password", "secret")])
        .await;
    assert_eq!(other_case.text, unknown_user.text);
}

#[rocket::async_test]
async fn a_disabled_user_cannot_log_in() {
    let app = App::new().await;
    let alice = app
        .token(&[("username", "alice"), ("password", "secret2")])
        .await;
    let wrong = app
        .token(&[("username", "alice"), ("password", "wrong")])
        .await;
    assert_token_error(&alice, "invalid_grant");
    // Nothing tells a disabled account apart from a wrong password.
    assert_eq!(alice.text, wrong.text);
    let strict = app
        .post_form(
            "/token-strict",
            &form(&[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "secret2"),
            ]),
        )
        .await;
    assert_token_error(&strict, "invalid_grant");
}

#[rocket::async_test]
async fn strict_route_requires_grant_type_password() {
    let app = App::new().await;
    let ok = app
        .post_form(
            "/token-strict",
            "grant_type=password&username=johndoe&password=secret&scope=read:items",
        )
        .await;
    assert_success_headers(&ok);
    assert_eq!(ok.json["scope"], "read:items");

    let missing = app
        .post_form("/token-strict", "username=johndoe&password=secret")
        .await;
    assert_token_error(&missing, "invalid_request");
    assert!(
        missing.json["error_description"]
            .as_str()
            .unwrap()
            .contains("grant_type"),
        "{}",
        missing.text
    );

    for grant in ["refresh_token", "client_credentials"] {
        let reply = app
            .post_form(
                "/token-strict",
                &form(&[
                    ("grant_type", grant),
                    ("username", "johndoe"),
                    ("password", "secret"),
                ]),
            )
            .await;
        assert_token_error(&reply, "unsupported_grant_type");
    }

    let wrong = app
        .post_form(
            "/token-strict",
            "grant_type=password&username=johndoe&password=nope",
        )
        .await;
    assert_token_error(&wrong, "invalid_grant");
    let scope = app
        .post_form(
            "/token-strict",
            "grant_type=password&username=johndoe&password=secret&scope=admin",
        )
        .await;
    assert_token_error(&scope, "invalid_scope");
}

/// The claims of a JWT, read without verification (the test trusts its
/// own server).
fn claims_of(token: &str) -> serde_json::Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

#[rocket::async_test]
async fn client_credentials_may_come_as_http_basic() {
    use base64::Engine as _;
    use rocket::http::Header;

    let app = App::new().await;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("my-client:s3cret")
    );
    let with_basic = |body: String| {
        app.client
            .post("/token")
            .header(ContentType::Form)
            .header(Header::new("Authorization", basic.clone()))
            .body(body)
    };
    let reply = super::support::send(with_basic(form(&[
        ("username", "johndoe"),
        ("password", "secret"),
    ])))
    .await;
    assert_eq!(reply.status, Status::Ok, "{}", reply.text);
    let claims = claims_of(reply.json["access_token"].as_str().unwrap());
    assert_eq!(claims["client_id"], "my-client");

    // One authentication method per request (RFC 6749 §2.3).
    let twice = super::support::send(with_basic(form(&[
        ("username", "johndoe"),
        ("password", "secret"),
        ("client_secret", "other"),
    ])))
    .await;
    assert_token_error(&twice, "invalid_request");
    assert!(!twice.text.contains("s3cret") && !twice.text.contains("other"));
}

#[rocket::async_test]
async fn client_id_in_the_body_or_the_default_lands_in_the_token() {
    let app = App::new().await;
    let named = app
        .token(&[
            ("username", "johndoe"),
            ("password", "secret"),
            ("client_id", "cli"),
        ])
        .await;
    assert_eq!(
        claims_of(named.json["access_token"].as_str().unwrap())["client_id"],
        "cli"
    );
    let anonymous = app
        .token(&[("username", "johndoe"), ("password", "secret")])
        .await;
    let claims = claims_of(anonymous.json["access_token"].as_str().unwrap());
    assert_eq!(claims["client_id"], "default");
    for claim in [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "jti",
        "client_id",
        "scope",
    ] {
        assert!(
            claims.get(claim).is_some(),
            "RFC 9068 claim {claim} missing: {claims}"
        );
    }
}
