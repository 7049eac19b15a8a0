//! The `Authorization` parser: never panics, and whatever it accepts is a
//! non-empty `b64token` taken verbatim from the header.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Up to three header values, separated by NUL (never part of a header).
    let values: Vec<&str> = text.splitn(3, '\0').collect();
    if let Ok(Some(token)) = auth_core::extract_bearer(values.iter().copied()) {
        assert_eq!(values.len(), 1, "a token was taken from several headers");
        assert!(!token.is_empty());
        assert!(values[0].ends_with(token));
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b)));
    }
});
