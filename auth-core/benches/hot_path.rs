//! The per-request cost of authentication: parsing the header, verifying
//! the JWT, checking scopes; and the cost of issuing a token.
//!
//! The `verify_vs_hmac` group puts access-token verification (accepted and
//! each way of being rejected) beside one raw HMAC-SHA256 over the same
//! signing input, so "verify / raw HMAC" comes out of one run.
//! `verify_access_token` verifies the same token again and again, as a
//! client sending it with every request does (after the first time it is
//! a hit in the cache of verified tokens); `verify_first_sight` verifies
//! tokens never seen before.
//!
//! ```sh
//! cargo bench -p auth-core --bench hot_path
//! cargo bench -p auth-core --bench hot_path -- verify_vs_hmac
//! ```

use auth_core::{AccessTokenClaims, AccessTokens, Scopes, TokenKeys, extract_bearer};

/// Seconds since the Unix epoch.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::hint::black_box;

const SECRET: &[u8] = b"bench-secret-0123456789-abcdefghijklmnop";

fn tokens() -> AccessTokens {
    let keys = TokenKeys::hs256(SECRET).expect("strong secret");
    AccessTokens::new(keys, "auth-core", "api")
}

/// A lower bound for HS256 verification, for comparison only (not a
/// verifier to use): the header segment compared byte for byte with the one
/// this issuer writes, one pre-keyed HMAC, the payload decoded and parsed
/// once, then `exp`, `nbf`, `iss` and `aud` checked.
fn lean_verify(
    keyed: &Hmac<Sha256>,
    expected_header: &str,
    token: &str,
) -> Option<AccessTokenClaims> {
    let (signing_input, signature) = token.rsplit_once('.')?;
    let (header, payload) = signing_input.split_once('.')?;
    if header != expected_header {
        return None;
    }
    let mut tag = [0u8; 32];
    if URL_SAFE_NO_PAD.decode_slice(signature, &mut tag).ok()? != tag.len() {
        return None;
    }
    let mut mac = keyed.clone();
    mac.update(signing_input.as_bytes());
    mac.verify_slice(&tag).ok()?;
    let json = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: AccessTokenClaims = serde_json::from_slice(&json).ok()?;
    let now = unix_now();
    let leeway = AccessTokens::DEFAULT_LEEWAY;
    let fresh = claims.exp + leeway > now && claims.nbf.is_none_or(|nbf| nbf <= now + leeway);
    (fresh && claims.iss == "auth-core" && claims.aud == "api").then_some(claims)
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
    let expected_header = token.split('.').next().expect("a header segment");
    assert!(lean_verify(&keyed, expected_header, &token).is_some());
    assert!(lean_verify(&keyed, expected_header, &bad_signature).is_none());
    assert!(lean_verify(&keyed, expected_header, &expired).is_none());
    group.bench_function("lean_verify_lower_bound", |b| {
        b.iter(|| lean_verify(&keyed, expected_header, black_box(&token)));
    });
    group.bench_function("verify_access_token", |b| {
        b.iter(|| tokens.verify(black_box(&token)));
    });
    // Tokens seen for the first time: more distinct tokens than the cache of
    // verified tokens holds, cycled, so every verification misses it.
    let fresh: Vec<String> = (0..2 * AccessTokens::VERIFIED_CACHE_SIZE)
        .map(|_| {
            tokens
                .issue("johndoe", "default", &scopes)
                .expect("signs")
                .token
        })
        .collect();
    let mut next = fresh.iter().cycle();
    group.bench_function("verify_first_sight", |b| {
        b.iter(|| tokens.verify(black_box(next.next().expect("endless"))));
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
