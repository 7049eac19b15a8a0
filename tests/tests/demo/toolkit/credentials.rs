//! Contract §3: requests without usable credentials, against the toolkit
//! app: 401 with a bare challenge, or 400 `invalid_request`.

use rocket::http::{Header, Status};

use super::app::{client, get, parts, token};
use crate::demo::support::send;

#[rocket::async_test]
async fn no_authorization_header_is_401_with_bare_challenge() {
    let client = client().await;
    let (status, challenge, body) = parts(get(&client, "/me", None).await);
    assert_eq!(status, Status::Unauthorized);
    assert_eq!(challenge.as_deref(), Some("Bearer realm=\"test\""));
    assert_eq!(body["error"], "unauthorized");
    assert!(body["error_description"].is_string());
}

#[rocket::async_test]
async fn other_schemes_are_401_without_error_code() {
    let client = client().await;
    for value in ["Basic am9objpwdw==", "Token abc", "Bearerxyz"] {
        let (status, challenge, body) = parts(get(&client, "/read", Some(value)).await);
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
    let (_, _, body) = parts(get(&client, "/me", None).await);
    assert_eq!(body["error"], "unauthorized");
}

#[rocket::async_test]
async fn empty_bearer_token_is_400() {
    let client = client().await;
    for value in ["Bearer", "Bearer ", "bearer   "] {
        let (status, challenge, body) = parts(get(&client, "/me", Some(value)).await);
        assert_eq!(status, Status::BadRequest, "{value:?}");
        assert_eq!(body["error"], "invalid_request");
        assert!(challenge.unwrap().contains("error=\"invalid_request\""));
    }
}

#[rocket::async_test]
async fn several_authorization_headers_are_400() {
    let client = client().await;
    let good = format!("Bearer {}", token(&client, "john", "read"));
    let request = client
        .get("/me")
        .header(Header::new("Authorization", good.clone()))
        .header(Header::new("Authorization", good));
    let response = send(request).await;
    let (status, challenge, body) = parts(response);
    assert_eq!(status, Status::BadRequest);
    assert_eq!(body["error"], "invalid_request");
    assert!(challenge.unwrap().contains("error=\"invalid_request\""));
}

#[rocket::async_test]
async fn the_header_name_is_case_insensitive() {
    // RFC 9110 §5.1: field names are case-insensitive, so every spelling
    // authenticates, and two spellings are two `Authorization` headers.
    let client = client().await;
    let good = format!("Bearer {}", token(&client, "john", "read"));
    for name in ["authorization", "AUTHORIZATION", "aUtHoRiZaTiOn"] {
        let request = client.get("/me").header(Header::new(name, good.clone()));
        let response = send(request).await;
        assert_eq!(response.status, Status::Ok, "{name}");
    }
    let request = client
        .get("/me")
        .header(Header::new("authorization", good.clone()))
        .header(Header::new("AUTHORIZATION", good));
    let (status, _, body) = parts(send(request).await);
    assert_eq!(status, Status::BadRequest);
    assert_eq!(body["error"], "invalid_request");
}

#[rocket::async_test]
async fn other_headers_around_the_credentials_change_nothing() {
    let client = client().await;
    let good = format!("Bearer {}", token(&client, "john", "read"));
    let request = client
        .get("/me")
        .header(Header::new("X-Before", "Bearer forged.token.value"))
        .header(Header::new("Authorization", good))
        .header(Header::new("X-After", "1"));
    assert_eq!(send(request).await.status, Status::Ok);
    let request = client
        .get("/me")
        .header(Header::new("X-Authorization", "Bearer forged.token.value"));
    let (status, challenge, _) = parts(send(request).await);
    assert_eq!(status, Status::Unauthorized);
    assert_eq!(challenge.as_deref(), Some("Bearer realm=\"test\""));
}
