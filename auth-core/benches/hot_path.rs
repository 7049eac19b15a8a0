//! The per-request cost of authentication: parsing the header, verifying
//! the JWT, checking scopes; and the cost of issuing a token.
//!
//! ```sh
//! cargo bench -p auth-core --bench hot_path
//! ```

use auth_core::{AccessTokens, Scopes, TokenKeys, extract_bearer};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn tokens() -> AccessTokens {
    let keys =
        TokenKeys::hs256(b"bench-secret-0123456789-abcdefghijklmnop").expect("strong secret");
    AccessTokens::new(keys, "auth-core", "api")
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

criterion_group!(benches, hot_path);
criterion_main!(benches);
