//! Issuing and verifying: claims, the fast path and the cache, keys
//! selected by `kid`, rotation.

use super::*;
use hmac::Mac as _;
use jsonwebtoken::EncodingKey;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

fn tokens() -> AccessTokens {
    AccessTokens::new(TokenKeys::hs256(SECRET).unwrap(), "iss", "aud")
}

fn scopes() -> Scopes {
    Scopes::parse("read:items").unwrap()
}

/// Signs arbitrary claims with an arbitrary header, for forging tests.
fn sign(header: &Header, claims: &serde_json::Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(header, claims, &EncodingKey::from_secret(secret)).unwrap()
}

fn claims_json(now: u64) -> serde_json::Value {
    serde_json::json!({
        "iss": "iss", "sub": "alice", "aud": "aud", "exp": now + 60, "iat": now,
        "jti": "j", "client_id": "c", "scope": "read:items"
    })
}

fn at_header(alg: Algorithm) -> Header {
    let mut header = Header::new(alg);
    header.typ = Some("at+jwt".into());
    header
}

#[test]
fn issued_tokens_verify_and_carry_rfc_9068_claims() {
    let t = tokens().with_ttl(600);
    let issued = t.issue("alice", "cli", &scopes()).unwrap();
    let claims = t.verify(&issued.token).unwrap();
    assert_eq!(claims, issued.claims);
    assert_eq!(claims.exp - claims.iat, 600);
    assert_eq!(claims.client_id, "cli");
    let header = jsonwebtoken::decode_header(&issued.token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.alg, Algorithm::HS256);
    assert_eq!(header.kid.as_deref(), Some(t.signing_keys().unwrap().kid()));
    // jti is unique per token
    let again = t.issue("alice", "cli", &scopes()).unwrap();
    assert_ne!(again.claims.jti, claims.jti);
}

#[test]
fn expiry_honours_the_leeway() {
    let t = tokens().with_ttl(60).with_leeway(5);
    let now = unix_now();
    let expired = t.issue_at("a", "c", &scopes(), now - 70).unwrap();
    assert_eq!(t.verify(&expired.token), Err(TokenProblem::Expired));
    let within_leeway = t.issue_at("a", "c", &scopes(), now - 62).unwrap();
    assert!(t.verify(&within_leeway.token).is_ok());
}

#[test]
fn future_tokens_are_not_yet_valid() {
    let t = tokens();
    let future = t.issue_at("a", "c", &scopes(), unix_now() + 600).unwrap();
    assert_eq!(t.verify(&future.token), Err(TokenProblem::NotYetValid));
}

#[test]
fn wrong_secret_issuer_audience_are_rejected() {
    let now = unix_now();
    let t = tokens();
    let other = sign(
        &at_header(Algorithm::HS256),
        &claims_json(now),
        b"another-secret-another-secret-xx",
    );
    assert_eq!(t.verify(&other), Err(TokenProblem::BadSignature));
    let mut c = claims_json(now);
    c["iss"] = "evil".into();
    assert_eq!(
        t.verify(&sign(&at_header(Algorithm::HS256), &c, SECRET)),
        Err(TokenProblem::WrongIssuer)
    );
    let mut c = claims_json(now);
    c["aud"] = "other".into();
    assert_eq!(
        t.verify(&sign(&at_header(Algorithm::HS256), &c, SECRET)),
        Err(TokenProblem::WrongAudience)
    );
}

#[test]
fn algorithm_is_pinned() {
    let now = unix_now();
    let t = tokens();
    let hs512 = sign(&at_header(Algorithm::HS512), &claims_json(now), SECRET);
    assert_eq!(t.verify(&hs512), Err(TokenProblem::WrongAlgorithm));
    // alg "none": header {"alg":"none","typ":"at+jwt"}, no signature
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims_json(now).to_string());
    let none = format!("{header}.{body}.");
    assert!(t.verify(&none).is_err());
}

#[test]
fn typ_must_be_at_jwt() {
    let now = unix_now();
    let t = tokens();
    let plain = sign(&Header::new(Algorithm::HS256), &claims_json(now), SECRET);
    assert_eq!(t.verify(&plain), Err(TokenProblem::WrongType));
    let mut media = Header::new(Algorithm::HS256);
    media.typ = Some("application/at+jwt".into());
    assert!(t.verify(&sign(&media, &claims_json(now), SECRET)).is_ok());
}

#[test]
fn missing_or_mistyped_claims_are_bad_claims() {
    let now = unix_now();
    let t = tokens();
    let mut c = claims_json(now);
    c.as_object_mut().unwrap().remove("sub");
    assert_eq!(
        t.verify(&sign(&at_header(Algorithm::HS256), &c, SECRET)),
        Err(TokenProblem::BadClaims)
    );
    let mut c = claims_json(now);
    c["scope"] = "bad\"scope".into();
    assert!(
        t.verify(&sign(&at_header(Algorithm::HS256), &c, SECRET))
            .is_err()
    );
    let mut c = claims_json(now);
    c.as_object_mut().unwrap().remove("exp");
    assert!(
        t.verify(&sign(&at_header(Algorithm::HS256), &c, SECRET))
            .is_err()
    );
}

#[test]
fn tampered_and_garbage_tokens_fail() {
    let t = tokens();
    let issued = t.issue("alice", "c", &scopes()).unwrap();
    let mut parts: Vec<String> = issued.token.split('.').map(str::to_owned).collect();
    let mut claims = issued.claims.clone();
    claims.scope = Scopes::parse("admin").unwrap();
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    assert_eq!(t.verify(&parts.join(".")), Err(TokenProblem::BadSignature));
    for garbage in ["", "a", "a.b", "a.b.c", "....", "eyJ.eyJ.sig"] {
        assert!(t.verify(garbage).is_err(), "{garbage:?}");
    }
    // Three dot-separated parts that are not JSON are malformed, not a
    // token with bad claims.
    for not_a_jwt in ["abc.def.ghi", "e30.abc.def"] {
        assert_eq!(
            t.verify(not_a_jwt),
            Err(TokenProblem::Malformed),
            "{not_a_jwt}"
        );
    }
}

/// A throwaway Ed25519 key pair, made for this test only.
const ED25519_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIFbtpXJ+w9SViNs84GHqH/9LCFmPONXV+B0XtsbGxBUn
-----END PRIVATE KEY-----";
const ED25519_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEALXiXtCDoS1Dt5NyUbnSGrkU9JUbq/GANo2I6NLp/ioc=
-----END PUBLIC KEY-----";

#[test]
fn ed25519_keys_sign_and_verify_and_pin_eddsa() {
    let keys =
        TokenKeys::ed25519_pem(ED25519_PRIVATE.as_bytes(), ED25519_PUBLIC.as_bytes()).unwrap();
    assert_eq!(keys.algorithm(), Algorithm::EdDSA);
    let t = AccessTokens::new(keys, "iss", "aud");
    let issued = t.issue("alice", "c", &scopes()).unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(&issued.token).unwrap().alg,
        Algorithm::EdDSA
    );
    assert_eq!(t.verify(&issued.token).unwrap().sub, "alice");
    // An HMAC token signed with the public key as secret (the classic
    // algorithm-confusion attack) is refused.
    let confused = sign(
        &at_header(Algorithm::HS256),
        &claims_json(unix_now()),
        ED25519_PUBLIC.as_bytes(),
    );
    assert_eq!(t.verify(&confused), Err(TokenProblem::WrongAlgorithm));
    assert!(TokenKeys::ed25519_pem(b"not a pem", ED25519_PUBLIC.as_bytes()).is_err());
}

/// Signs with the Ed25519 fixture under `kid`.
fn ed_tokens(kid: &str) -> AccessTokens {
    let keys = TokenKeys::ed25519_private_pem(ED_A_KEY.as_bytes())
        .unwrap()
        .with_kid(kid)
        .unwrap();
    AccessTokens::new(keys, "iss", "aud")
}

const ED_A_KEY: &str = include_str!("../../tests/fixtures/ed25519-a.key");
const ED_A_PUB: &str = include_str!("../../tests/fixtures/ed25519-a.pub");
const ED_B_KEY: &str = include_str!("../../tests/fixtures/ed25519-b.key");
const RSA_KEY: &str = include_str!("../../tests/fixtures/rsa-2048.key");

fn kid_of(token: &str) -> Option<String> {
    jsonwebtoken::decode_header(token).unwrap().kid
}

#[test]
fn every_issued_token_names_its_key() {
    let hs = tokens();
    let token = hs.issue("alice", "c", &scopes()).unwrap().token;
    assert_eq!(
        kid_of(&token).as_deref(),
        Some(hs.signing_keys().unwrap().kid())
    );
    let ed = ed_tokens("ed-1");
    let token = ed.issue("alice", "c", &scopes()).unwrap().token;
    assert_eq!(kid_of(&token).as_deref(), Some("ed-1"));
    assert_eq!(ed.verify(&token).unwrap().sub, "alice");
    let rsa = AccessTokens::new(
        TokenKeys::rsa_private_pem(Algorithm::RS256, RSA_KEY.as_bytes()).unwrap(),
        "iss",
        "aud",
    );
    let token = rsa.issue("alice", "c", &scopes()).unwrap().token;
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(
        header.kid.as_deref(),
        Some(rsa.signing_keys().unwrap().kid())
    );
    assert_eq!(rsa.verify(&token).unwrap().sub, "alice");
}

#[test]
fn the_kid_selects_the_key() {
    // Signs with HS256 and also verifies with an Ed25519 key and an
    // older HMAC secret.
    let old_secret = b"an-older-secret-an-older-secret!";
    let previous = KeySet::new()
        .with(VerificationKey::ed25519_pem(Some("ed"), ED_A_PUB.as_bytes()).unwrap())
        .unwrap()
        .with(VerificationKey::hmac("old", Algorithm::HS256, old_secret).unwrap())
        .unwrap();
    let t = tokens().with_verification_keys(previous).unwrap();
    let ed = ed_tokens("ed")
        .issue("alice", "c", &scopes())
        .unwrap()
        .token;
    assert_eq!(t.verify(&ed).unwrap().sub, "alice");
    let old = AccessTokens::new(
        TokenKeys::hs256(old_secret)
            .unwrap()
            .with_kid("old")
            .unwrap(),
        "iss",
        "aud",
    );
    let old_token = old.issue("bob", "c", &scopes()).unwrap().token;
    assert_eq!(t.verify(&old_token).unwrap().sub, "bob");
    // The same old-secret token under the current key's kid: the
    // current key is tried, and the signature does not match.
    let current_kid = t.signing_keys().unwrap().kid().to_owned();
    let mislabelled = sign(
        &Header {
            kid: Some(current_kid),
            ..at_header(Algorithm::HS256)
        },
        &claims_json(unix_now()),
        old_secret,
    );
    assert_eq!(t.verify(&mislabelled), Err(TokenProblem::BadSignature));
    // A kid no key has.
    let other = ed_tokens("nobody")
        .issue("alice", "c", &scopes())
        .unwrap()
        .token;
    assert_eq!(t.verify(&other), Err(TokenProblem::UnknownKey));
    // The signing key's kid cannot be reused by a verification key.
    let clash = KeySet::new()
        .with(
            VerificationKey::hmac(
                tokens().signing_keys().unwrap().kid(),
                Algorithm::HS256,
                old_secret,
            )
            .unwrap(),
        )
        .unwrap();
    assert!(matches!(
        tokens().with_verification_keys(clash),
        Err(KeyError::DuplicateKid { .. })
    ));
}

#[test]
fn the_algorithm_is_pinned_per_key() {
    // An HMAC token naming the Ed25519 key, "signed" with the public
    // key's PEM as the secret (algorithm confusion): refused.
    let set = KeySet::new()
        .with(VerificationKey::ed25519_pem(Some("ed"), ED_A_PUB.as_bytes()).unwrap())
        .unwrap();
    let t = tokens().with_verification_keys(set).unwrap();
    for secret in [ED_A_PUB.as_bytes(), SECRET] {
        let confused = sign(
            &Header {
                kid: Some("ed".into()),
                ..at_header(Algorithm::HS256)
            },
            &claims_json(unix_now()),
            secret,
        );
        assert_eq!(t.verify(&confused), Err(TokenProblem::WrongAlgorithm));
    }
    // An Ed25519-signed token naming the HMAC signing key: refused.
    let kid = t.signing_keys().unwrap().kid().to_owned();
    let ed = ed_tokens(&kid)
        .issue("alice", "c", &scopes())
        .unwrap()
        .token;
    assert_eq!(t.verify(&ed), Err(TokenProblem::WrongAlgorithm));
    // An RS256 key accepts neither PS256 nor HS256 tokens.
    let rsa = AccessTokens::new(
        TokenKeys::rsa_private_pem(Algorithm::RS256, RSA_KEY.as_bytes())
            .unwrap()
            .with_kid("rsa")
            .unwrap(),
        "iss",
        "aud",
    );
    let ps = AccessTokens::new(
        TokenKeys::rsa_private_pem(Algorithm::PS256, RSA_KEY.as_bytes())
            .unwrap()
            .with_kid("rsa")
            .unwrap(),
        "iss",
        "aud",
    )
    .issue("alice", "c", &scopes())
    .unwrap()
    .token;
    assert_eq!(rsa.verify(&ps), Err(TokenProblem::WrongAlgorithm));
}

#[test]
fn tokens_without_kid_verify_with_the_signing_key_only() {
    let now = unix_now();
    let old_secret = b"an-older-secret-an-older-secret!";
    let set = KeySet::new()
        .with(VerificationKey::hmac("old", Algorithm::HS256, old_secret).unwrap())
        .unwrap();
    let t = tokens().with_verification_keys(set).unwrap();
    // Issued before tokens had a kid, by the current secret: accepted
    // (on the fast path).
    let legacy = sign(&at_header(Algorithm::HS256), &claims_json(now), SECRET);
    assert_eq!(t.verify(&legacy).unwrap().sub, "alice");
    assert_eq!(t.verify_slow(&legacy).unwrap().sub, "alice");
    // By a previous secret: the signing key does not match.
    let old = sign(&at_header(Algorithm::HS256), &claims_json(now), old_secret);
    assert_eq!(t.verify(&old), Err(TokenProblem::BadSignature));
    // A verifier without a signing key accepts a kid-less token only
    // from its one key.
    let one = KeySet::new()
        .with(VerificationKey::hmac("old", Algorithm::HS256, old_secret).unwrap())
        .unwrap();
    let verifier = AccessTokens::verifier(SharedKeys::new(one), "iss", "aud");
    assert_eq!(verifier.verify(&old).unwrap().sub, "alice");
    let two = KeySet::new()
        .with(VerificationKey::hmac("old", Algorithm::HS256, old_secret).unwrap())
        .unwrap()
        .with(VerificationKey::ed25519_pem(Some("ed"), ED_A_PUB.as_bytes()).unwrap())
        .unwrap();
    let verifier = AccessTokens::verifier(SharedKeys::new(two), "iss", "aud");
    assert_eq!(verifier.verify(&old), Err(TokenProblem::UnknownKey));
}

#[test]
fn a_rotation_keeps_old_tokens_until_the_old_key_is_removed() {
    // Day 1: sign with key A.
    let day1 = ed_tokens("a");
    let old_token = day1.issue("alice", "c", &scopes()).unwrap().token;
    // Day 2: sign with key B, keep A's public key as a verification key.
    let b = TokenKeys::ed25519_private_pem(ED_B_KEY.as_bytes())
        .unwrap()
        .with_kid("b")
        .unwrap();
    let a_public = VerificationKey::ed25519_pem(Some("a"), ED_A_PUB.as_bytes()).unwrap();
    let shared = SharedKeys::new(KeySet::new().with(a_public).unwrap());
    let day2 = AccessTokens::new(b, "iss", "aud").with_shared_keys(shared.clone());
    let new_token = day2.issue("bob", "c", &scopes()).unwrap().token;
    assert_eq!(kid_of(&new_token).as_deref(), Some("b"));
    assert_eq!(day2.verify(&old_token).unwrap().sub, "alice");
    assert_eq!(day2.verify(&new_token).unwrap().sub, "bob");
    // Both published.
    let kids: Vec<_> = day2
        .jwks()
        .keys
        .iter()
        .map(|k| k.common.key_id.clone().unwrap())
        .collect();
    assert_eq!(kids, ["b", "a"]);
    // Day 3: A removed. Its tokens are refused, although the first
    // verification was remembered.
    shared.replace(KeySet::new());
    assert_eq!(day2.verify(&old_token), Err(TokenProblem::UnknownKey));
    assert_eq!(day2.verify(&new_token).unwrap().sub, "bob");
    assert_eq!(day2.jwks().keys.len(), 1);
    // Day 1's server, restarted with B as a verification key only,
    // accepts B's tokens too.
    let b_public = TokenKeys::ed25519_private_pem(ED_B_KEY.as_bytes())
        .unwrap()
        .with_kid("b")
        .unwrap()
        .verification_key()
        .clone();
    let day1 = ed_tokens("a")
        .with_verification_keys(KeySet::new().with(b_public).unwrap())
        .unwrap();
    assert_eq!(day1.verify(&new_token).unwrap().sub, "bob");
}

#[test]
fn hmac_rotation_keeps_old_tokens_until_the_old_secret_is_removed() {
    let old_secret = b"an-older-secret-an-older-secret!";
    let before = AccessTokens::new(TokenKeys::hs256(old_secret).unwrap(), "iss", "aud");
    let old_token = before.issue("alice", "c", &scopes()).unwrap().token;
    let previous = VerificationKey::hmac_default_kid(Algorithm::HS256, old_secret).unwrap();
    let after = tokens()
        .with_verification_keys(KeySet::new().with(previous).unwrap())
        .unwrap();
    assert_eq!(after.verify(&old_token).unwrap().sub, "alice");
    // Secrets are never published.
    assert!(after.jwks().keys.is_empty());
    let removed = tokens();
    assert_eq!(removed.verify(&old_token), Err(TokenProblem::UnknownKey));
}

#[test]
fn unknown_kids_reach_the_hook_and_verifiers_cannot_sign() {
    use std::sync::Mutex;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let shared = SharedKeys::new(KeySet::new());
    let log = Arc::clone(&seen);
    assert!(shared.on_unknown_kid(move |kid| log.lock().unwrap().push(kid.to_owned())));
    assert!(!shared.on_unknown_kid(|_| {}));
    let verifier = AccessTokens::verifier(shared.clone(), "iss", "aud");
    assert!(verifier.issue("alice", "c", &scopes()).is_err());
    assert_eq!(verifier.keys_algorithm(), None);
    let token = ed_tokens("new")
        .issue("alice", "c", &scopes())
        .unwrap()
        .token;
    assert_eq!(verifier.verify(&token), Err(TokenProblem::UnknownKey));
    assert_eq!(*seen.lock().unwrap(), ["new"]);
    // The keys arrive (e.g. fetched again): the same token now passes.
    let key = VerificationKey::ed25519_pem(Some("new"), ED_A_PUB.as_bytes()).unwrap();
    shared.replace(KeySet::new().with(key).unwrap());
    assert_eq!(verifier.verify(&token).unwrap().sub, "alice");
}

#[test]
fn hs256_tokens_take_the_fast_path_and_are_remembered() {
    let t = tokens();
    assert!(t.signing.as_ref().unwrap().fast.is_some());
    let issued = t.issue("alice", "c", &scopes()).unwrap();
    assert_eq!(t.verified.len(), 0);
    assert_eq!(t.verify(&issued.token).unwrap(), issued.claims);
    assert_eq!(t.verified.len(), 1);
    // A hit returns the same claims.
    assert_eq!(t.verify(&issued.token).unwrap(), issued.claims);
    assert_eq!(t.verified.len(), 1);
    // The slow path agrees with the fast path.
    assert_eq!(t.verify_slow(&issued.token).unwrap(), issued.claims);
    // Other algorithms never take the fast path.
    let hs512 = AccessTokens::new(
        TokenKeys::hmac(Algorithm::HS512, SECRET).unwrap(),
        "iss",
        "aud",
    );
    assert!(hs512.signing.as_ref().unwrap().fast.is_none());
    let token = hs512.issue("alice", "c", &scopes()).unwrap().token;
    assert_eq!(hs512.verify(&token).unwrap().sub, "alice");
    // Fully verified by jsonwebtoken, then remembered too.
    assert_eq!(hs512.verified.len(), 1);
    assert_eq!(hs512.verify(&token).unwrap().sub, "alice");
}

#[test]
fn equivalent_headers_take_the_fast_path_too() {
    let t = tokens();
    let now = unix_now();
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ": "at+jwt", "alg": "HS256"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims_json(now).to_string());
    let input = format!("{header}.{body}");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).unwrap();
    mac.update(input.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    assert_eq!(t.verify(&format!("{input}.{sig}")).unwrap().sub, "alice");
    assert_eq!(t.verified.len(), 1);
    // Not base64url at all: malformed, as the full path says.
    assert_eq!(t.verify("no!.a-jwt.at-all"), Err(TokenProblem::Malformed));
    assert_eq!(
        t.verify_slow("no!.a-jwt.at-all"),
        Err(TokenProblem::Malformed)
    );
    // The signing key's kid, in another order: still the fast path.
    let kid = t.signing_keys().unwrap().kid();
    let header =
        URL_SAFE_NO_PAD.encode(format!(r#"{{"kid":"{kid}","alg":"HS256","typ":"at+jwt"}}"#));
    let input = format!("{header}.{body}");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).unwrap();
    mac.update(input.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    assert!(t.is_plain_header(&header).unwrap());
    assert_eq!(t.verify(&format!("{input}.{sig}")).unwrap().sub, "alice");
    assert_eq!(t.verified.len(), 2);
    // An unknown kid goes to the full verification, and is refused
    // even though the secret signed it.
    let unknown = sign(
        &Header {
            kid: Some("k".into()),
            ..at_header(Algorithm::HS256)
        },
        &claims_json(now),
        SECRET,
    );
    assert_eq!(t.verify(&unknown), Err(TokenProblem::UnknownKey));
    assert_eq!(t.verified.len(), 2);
}

#[test]
fn a_cache_hit_still_honours_exp_and_nbf() {
    let t = tokens().with_ttl(60).with_leeway(5);
    let now = unix_now();
    let issued = t.issue_at("alice", "c", &scopes(), now).unwrap();
    assert!(t.verify_at(&issued.token, now).is_ok());
    assert_eq!(t.verified.len(), 1);
    assert_eq!(
        t.verify_at(&issued.token, now + 66),
        Err(TokenProblem::Expired)
    );
    assert_eq!(
        t.verify_at(&issued.token, now - 6),
        Err(TokenProblem::NotYetValid)
    );
    assert!(t.verify_at(&issued.token, now + 65).is_ok());
}

#[test]
fn the_cache_is_bounded() {
    let t = tokens().with_cache_capacity(3);
    for _ in 0..10 {
        let token = t.issue("alice", "c", &scopes()).unwrap().token;
        assert!(t.verify(&token).is_ok());
        assert!(t.verified.len() <= 3);
    }
    let none = tokens().with_cache_capacity(0);
    let token = none.issue("alice", "c", &scopes()).unwrap().token;
    assert!(none.verify(&token).is_ok());
    assert_eq!(none.verified.len(), 0);
}

#[test]
fn altered_or_forged_tokens_never_hit_the_cache() {
    let t = tokens();
    let now = unix_now();
    let issued = t.issue("alice", "c", &scopes()).unwrap();
    assert!(t.verify(&issued.token).is_ok());
    // Same header and payload, another signature.
    let (input, signature) = issued.token.rsplit_once('.').unwrap();
    let mut sig = signature.as_bytes().to_vec();
    sig[0] = if sig[0] == b'A' { b'B' } else { b'A' };
    let resigned = format!("{input}.{}", String::from_utf8(sig).unwrap());
    assert_eq!(t.verify(&resigned), Err(TokenProblem::BadSignature));
    // A longer signature, or one with padding.
    assert!(t.verify(&format!("{}A", issued.token)).is_err());
    assert!(t.verify(&format!("{}=", issued.token)).is_err());
    // The same claims signed with another secret.
    let forged = sign(
        &at_header(Algorithm::HS256),
        &serde_json::to_value(&issued.claims).unwrap(),
        b"another-secret-another-secret-xx",
    );
    assert_eq!(t.verify(&forged), Err(TokenProblem::BadSignature));
    // Properly signed but for another issuer: refused, not remembered.
    let mut c = claims_json(now);
    c["iss"] = "evil".into();
    let wrong_iss = sign(&at_header(Algorithm::HS256), &c, SECRET);
    assert_eq!(t.verify(&wrong_iss), Err(TokenProblem::WrongIssuer));
    assert_eq!(t.verify(&wrong_iss), Err(TokenProblem::WrongIssuer));
    assert_eq!(t.verified.len(), 1);
}

#[test]
fn lasting_refusals_are_remembered_by_exact_bytes() {
    let t = tokens();
    let issued = t.issue("alice", "c", &scopes()).unwrap();
    let (signing_input, _) = issued.token.rsplit_once('.').unwrap();
    let forged = format!("{signing_input}.{}", "A".repeat(43));
    assert_eq!(t.verify(&forged), Err(TokenProblem::BadSignature));
    assert_eq!(t.refused.len(), 1);
    assert_eq!(t.verify(&forged), Err(TokenProblem::BadSignature));
    assert_eq!(t.refused.len(), 1, "the second refusal came from the cache");
    assert_eq!(t.verify("not.a-jwt.at-all"), Err(TokenProblem::Malformed));
    assert_eq!(t.refused.len(), 2);
    // The valid token is untouched by its forged sibling.
    assert_eq!(t.verify(&issued.token).unwrap(), issued.claims);
    // Tokens longer than the bound are refused in full every time.
    let long = format!("{forged}{}", "A".repeat(AccessTokens::CACHED_TOKEN_MAX_LEN));
    assert!(t.verify(&long).is_err());
    assert_eq!(t.refused.len(), 2);
}

#[test]
fn expired_is_remembered_from_the_refusal_on_not_before() {
    let t = tokens();
    let now = unix_now();
    let token = sign(&at_header(Algorithm::HS256), &claims_json(now), SECRET);
    let later = now + 60 + AccessTokens::DEFAULT_LEEWAY + 1;
    assert_eq!(t.verify_at(&token, later), Err(TokenProblem::Expired));
    assert_eq!(t.refused.len(), 1);
    assert_eq!(t.verify_at(&token, later + 5), Err(TokenProblem::Expired));
    // Asked about an earlier time, the cache does not answer for it.
    assert_eq!(t.verify_at(&token, now).unwrap().sub, "alice");
}

#[test]
fn refusals_that_can_change_are_not_remembered() {
    let t = tokens();
    let now = unix_now();
    let mut claims = claims_json(now);
    claims["nbf"] = serde_json::json!(now + 3600);
    claims["exp"] = serde_json::json!(now + 7200);
    let early = sign(&at_header(Algorithm::HS256), &claims, SECRET);
    assert_eq!(t.verify(&early), Err(TokenProblem::NotYetValid));
    assert_eq!(t.verify_at(&early, now + 3600).unwrap().sub, "alice");
    let unknown = ed_tokens("elsewhere")
        .issue("alice", "c", &scopes())
        .unwrap();
    assert_eq!(t.verify(&unknown.token), Err(TokenProblem::UnknownKey));
    assert_eq!(t.refused.len(), 0);
}

#[test]
fn replacing_the_keys_forgets_refusals() {
    let shared = SharedKeys::new(
        KeySet::new()
            .with(VerificationKey::ed25519_pem(Some("ed"), ED_A_PUB.as_bytes()).unwrap())
            .unwrap(),
    );
    let verifier = AccessTokens::verifier(shared.clone(), "iss", "aud");
    // Signed with key B under the kid the verifier knows for key A.
    let b = TokenKeys::ed25519_private_pem(ED_B_KEY.as_bytes())
        .unwrap()
        .with_kid("ed")
        .unwrap();
    let token = AccessTokens::new(b, "iss", "aud")
        .issue("alice", "c", &scopes())
        .unwrap()
        .token;
    assert_eq!(verifier.verify(&token), Err(TokenProblem::BadSignature));
    assert_eq!(verifier.refused.len(), 1);
    // The issuer's key under "ed" turns out to be B after all.
    let b_pub = include_str!("../../tests/fixtures/ed25519-b.pub");
    shared.replace(
        KeySet::new()
            .with(VerificationKey::ed25519_pem(Some("ed"), b_pub.as_bytes()).unwrap())
            .unwrap(),
    );
    assert_eq!(verifier.verify(&token).unwrap().sub, "alice");
}

#[test]
fn the_refused_cache_is_bounded() {
    let t = tokens().with_cache_capacity(8);
    let issued = t.issue("alice", "c", &scopes()).unwrap();
    let (signing_input, _) = issued.token.rsplit_once('.').unwrap();
    for n in 0..100_u8 {
        let forged = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode([n; 32]));
        assert_eq!(t.verify(&forged), Err(TokenProblem::BadSignature));
        assert!(t.refused.len() <= 8);
    }
}

#[test]
fn every_token_problem_is_listed_in_declaration_order() {
    // Exhaustive: a new variant fails to compile here until it is added to
    // `TokenProblem::ALL` (and so gets a prebuilt answer).
    let position = |problem: TokenProblem| match problem {
        TokenProblem::Malformed => 0,
        TokenProblem::BadSignature => 1,
        TokenProblem::Expired => 2,
        TokenProblem::NotYetValid => 3,
        TokenProblem::WrongIssuer => 4,
        TokenProblem::WrongAudience => 5,
        TokenProblem::WrongAlgorithm => 6,
        TokenProblem::WrongType => 7,
        TokenProblem::BadClaims => 8,
        TokenProblem::UnknownSubject => 9,
        TokenProblem::UnknownKey => 10,
        TokenProblem::SessionEnded => 11,
        TokenProblem::ScopeWithdrawn => 12,
        TokenProblem::InvalidApiKey => 13,
    };
    for (index, problem) in TokenProblem::ALL.into_iter().enumerate() {
        assert_eq!(position(problem), index);
        assert_eq!(problem as usize, index);
    }
}
