//! Contract §4: `MaybeUser` and `Option<BearerToken>`.

use auth_core::Scopes;
use rocket::http::Status;
use rocket::local::asynchronous::Client;
use serde_json::{Value, json};

use super::app::{auth, client, get, parts, token};

async fn user_of(client: &Client, authorization: Option<&str>) -> (Status, Value) {
    let response = get(client, "/maybe", authorization).await;
    (response.status, response.json)
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
        .issue_at(
            "john",
            "c",
            &Scopes::new(),
            super::app::unix_now() - tokens.ttl() - 60,
        )
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
        let (got, challenge, body) = parts(get(&client, "/maybe", Some(&value)).await);
        assert_eq!(got, status, "{value}");
        assert_eq!(body["error"], code);
        assert!(challenge.is_some());
    }
}

#[rocket::async_test]
async fn raw_bearer_token_guard_is_optional() {
    let client = client().await;
    assert_eq!(get(&client, "/raw", None).await.text, "none");
    assert_eq!(get(&client, "/raw", Some("Bearer abc")).await.text, "token");
    // A failed `Option<BearerToken>` must not turn a later 200 into an error.
    let response = get(&client, "/raw", Some("Bearer ")).await;
    assert_eq!(response.status, Status::Ok);
    assert_eq!(response.text, "none");
}
