//! The per-request cost of authentication: parsing the header, verifying
//! the JWT, checking scopes; and the cost of issuing a token.
//!
//! The `verify_vs_hmac` group puts access-token verification (accepted and
//! each way of being rejected) beside one raw HMAC-SHA256 over the same
//! signing input, so "verify / raw HMAC" comes out of one run.
//!
//! ```sh
//! cargo bench -p auth-core --bench hot_path
//! cargo bench -p auth-core --bench hot_path -- verify_vs_hmac
//! ```

use auth_core::{AccessTokens, Scopes, TokenKeys, extract_bearer, unix_now};
use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::hint::black_box;

const SECRET: &[u8] = b"bench-secret-0123456789-abcdefghijklmnop";

fn tokens() -> AccessTokens {
    let keys = TokenKeys::hs256(SECRET).expect("strong secret");
    AccessTokens::new(keys, "auth-core", "api")
}

/// Verification beside the HMAC it cannot avoid.
fn verify_vs_hmac(c: &mut Criterion) {
    let tokens = tokens();
    let scopes = Scopes::parse("read:items write:items").expect("valid scopes");
    let token = tokens
        .issue("johndoe", "default", &scopes)
        .expect("signs")
        .token;
    let (signing_input, _) = token.rsplit_once('.').expect("a compact JWS");
    // Same claims shape, signature of another message: fails only on the MAC.
    let other = tokens
        .issue("johndoe", "default", &scopes)
        .expect("signs")
        .token;
    let (_, other_signature) = other.rsplit_once('.').expect("a compact JWS");
    let bad_signature = format!("{signing_input}.{other_signature}");
    let expired = tokens
        .issue_at("johndoe", "default", &scopes, unix_now() - 3600)
        .expect("signs")
        .token;
    let malformed = "not.a-jwt.at-all";
    assert!(tokens.verify(&token).is_ok());
    assert!(tokens.verify(&bad_signature).is_err());
    assert!(tokens.verify(&expired).is_err());
    assert!(tokens.verify(malformed).is_err());

    let keyed = Hmac::<Sha256>::new_from_slice(SECRET).expect("any key length");
    let mut group = c.benchmark_group("verify_vs_hmac");
    group.bench_function("raw_hmac_sha256", |b| {
        b.iter(|| {
            let mut mac = Hmac::<Sha256>::new_from_slice(black_box(SECRET)).expect("any key");
            mac.update(black_box(signing_input).as_bytes());
            mac.finalize().into_bytes()
        });
    });
    group.bench_function("raw_hmac_sha256_prekeyed", |b| {
        b.iter(|| {
            let mut mac = black_box(&keyed).clone();
            mac.update(black_box(signing_input).as_bytes());
            mac.finalize().into_bytes()
        });
    });
    group.bench_function("verify_access_token", |b| {
        b.iter(|| tokens.verify(black_box(&token)));
    });
    group.bench_function("verify_bad_signature", |b| {
        b.iter(|| tokens.verify(black_box(&bad_signature)));
    });
    group.bench_function("verify_expired", |b| {
        b.iter(|| tokens.verify(black_box(&expired)));
    });
    group.bench_function("verify_malformed", |b| {
        b.iter(|| tokens.verify(black_box(malformed)));
    });
    group.finish();
}

fn hot_path(c: &mut Criterion) {
    let tokens = tokens();
    let scopes = Scopes::parse("read:items write:items").expect("valid scopes");
    let token = tokens
        .issue("johndoe", "default", &scopes)
        .expect("signs")
        .token;
    let header = format!("Bearer {token}");

    c.bench_function("extract_bearer", |b| {
        b.iter(|| extract_bearer([black_box(header.as_str())]));
    });
    c.bench_function("verify_access_token", |b| {
        b.iter(|| tokens.verify(black_box(&token)));
    });
    c.bench_function("header_to_scope_check", |b| {
        b.iter(|| {
            let raw = extract_bearer([black_box(header.as_str())])
                .ok()
                .flatten()?;
            let claims = tokens.verify(raw).ok()?;
            Some(claims.scope.contains("read:items"))
        });
    });
    c.bench_function("issue_access_token", |b| {
        b.iter(|| tokens.issue(black_box("johndoe"), "default", &scopes));
    });
}

criterion_group!(benches, verify_vs_hmac, hot_path);
criterion_main!(benches);
