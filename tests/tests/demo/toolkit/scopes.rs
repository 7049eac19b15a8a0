//! Contract §3: `#[protected(scopes = ..)]` over HTTP; rejected requests
//! never reach the handler or the body.

use std::sync::atomic::Ordering;

use rocket::http::{Header, Status};
use serde_json::{Value, json};

use super::app::{client, counters, get, parts, post_write, token};

#[rocket::async_test]
async fn valid_token_reaches_the_handler_with_its_caller() {
    let client = client().await;
    let t = token(&client, "john", "read write");
    let response = get(&client, "/me", Some(&format!("Bearer {t}"))).await;
    assert_eq!(response.status, Status::Ok);
    let body: Value = response.json;
    assert_eq!(body, json!({ "sub": "john", "scopes": ["read", "write"] }));
}

#[rocket::async_test]
async fn missing_scope_is_403_insufficient_scope() {
    let client = client().await;
    let t = token(&client, "reader", "read");
    let response = post_write(&client, &t).await;
    let (status, challenge, body) = parts(response);
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
    assert_eq!(response.status, Status::Ok);
    assert_eq!(response.text, "john wrote payload");
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
        get(&client, "/read", None).await.status,
        Status::Unauthorized
    );
    assert_eq!(counters(&client).handler.load(Ordering::SeqCst), 0);
}
