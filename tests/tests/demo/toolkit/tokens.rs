//! Contract §3 and §6: invalid, forged, expired tokens and tokens of
//! unknown or disabled subjects are 401 `invalid_token`.

use auth_core::{AccessTokens, Algorithm, MemoryUserStore, Scopes, TestUser, TokenKeys};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Header as JwtHeader;
use rocket::http::Status;
use rocket::local::asynchronous::Client;
use rocket::routes;

use super::app::{
    AUDIENCE, ISSUER, SECRET, assert_invalid_token, at_jwt, auth, claims_json, client, config, get,
    me, parts, sign, token, with_auth,
};

#[rocket::async_test]
async fn scheme_is_case_insensitive() {
    let client = client().await;
    let t = token(&client, "john", "read");
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let response = get(&client, "/me", Some(&format!("{scheme} {t}"))).await;
        assert_eq!(response.status, Status::Ok, "{scheme}");
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
    let (status, _, body) = parts(get(&client, "/me", Some("Bearer two words")).await);
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
    future["nbf"] = (super::app::unix_now() + 600).into();
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
            super::app::unix_now() - tokens.ttl() - 60,
        )
        .unwrap()
        .token;
    let (status, challenge, body) =
        parts(get(&client, "/me", Some(&format!("Bearer {expired}"))).await);
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
    assert_eq!(get(&client, "/me", Some(&t)).await.status, Status::Ok);
    let users = client.rocket().state::<MemoryUserStore>().unwrap();
    assert!(users.set_disabled("john", true));
    // Remembered as enabled for auth_subject_cache_ttl (5 s here) ...
    assert_eq!(get(&client, "/me", Some(&t)).await.status, Status::Ok);
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
    let john = TestUser::new("john").scopes("read").insert_into(&users);
    let rocket = with_auth(&users, config).mount("/", routes![me]);
    let client = Client::tracked(rocket).await.unwrap();
    let t = john.token(auth(&client));
    assert_eq!(
        get(&client, "/me", Some(&format!("Bearer {t}")))
            .await
            .status,
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
