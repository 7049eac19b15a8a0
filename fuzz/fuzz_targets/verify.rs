//! Token verification: never panics, and accepts nothing but a token with a
//! valid signature whose claims name the expected issuer and audience.
//!
//! The input is used two ways: as a raw token string, and as a header and a
//! payload (separated by the first `0xFF` byte) that are encoded and signed
//! with the verifier's own key, so the claim checks behind the signature
//! check are fuzzed as well.
#![no_main]

use std::sync::LazyLock;

use auth_core::{AccessTokens, TokenKeys};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

const SECRET: &[u8] = b"fuzzing-secret-fuzzing-secret-fuzzing-secret-0123";
const ISSUER: &str = "fuzz-issuer";
const AUDIENCE: &str = "fuzz-audience";

static TOKENS: LazyLock<AccessTokens> = LazyLock::new(|| {
    AccessTokens::new(TokenKeys::hs256(SECRET).expect("valid key"), ISSUER, AUDIENCE)
});

fn sign(header: &[u8], payload: &[u8]) -> String {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).expect("any key length");
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        // A raw string carries no valid signature unless it was forged from
        // the secret, which the fuzzer cannot do.
        assert!(TOKENS.verify(text).is_err(), "an unsigned token was accepted");
    }
    if let Some(split) = data.iter().position(|&b| b == 0xFF) {
        let token = sign(&data[..split], &data[split + 1..]);
        if let Ok(claims) = TOKENS.verify(&token) {
            assert_eq!(claims.iss, ISSUER);
            assert_eq!(claims.aud, AUDIENCE);
        }
    }
});
