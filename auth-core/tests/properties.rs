//! Property tests of the parsers that read untrusted input: the
//! `Authorization` header, scope lists and token-endpoint forms never panic,
//! and valid input round-trips.
//!
//! Case counts are modest so the normal test run stays fast; the `fuzz/`
//! targets explore the same parsers for longer.

use auth_core::{
    AuthError, PasswordRequestForm, PasswordRequestFormStrict, Scopes, TokenRequest, extract_bearer,
};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

/// A `b64token` (RFC 6750 §2.1): `1*( ALPHA / DIGIT / "-" / "." / "_" /
/// "~" / "+" / "/" ) *"="`.
fn b64token() -> impl Strategy<Value = String> {
    ("[A-Za-z0-9._~+/-]{1,200}", "={0,3}").prop_map(|(body, pad)| body + &pad)
}

/// A `scope-token` (RFC 6749 §3.3): `1*( %x21 / %x23-5B / %x5D-7E )`.
fn scope_token() -> impl Strategy<Value = String> {
    "[!#-\\[\\]-~]{1,20}"
}

fn is_scope_char(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E)
}

/// A form value with every byte percent-encoded when it is not unreserved.
fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn bearer_parser_never_panics(values in prop::collection::vec(any::<String>(), 0..3)) {
        let result = extract_bearer(values.iter().map(String::as_str));
        if let Ok(Some(token)) = result {
            prop_assert_eq!(values.len(), 1);
            prop_assert!(values[0].ends_with(token));
        }
    }

    #[test]
    fn bearer_parser_never_panics_on_near_misses(
        scheme in "(?i)bearer|basic|[a-z]{0,8}",
        spaces in " {0,3}",
        token in "[ -~]{0,64}",
    ) {
        let header = format!("{scheme}{spaces}{token}");
        if let Ok(Some(token)) = extract_bearer([header.as_str()]) {
            prop_assert!(!token.is_empty());
            prop_assert!(scheme.eq_ignore_ascii_case("bearer"));
        }
    }

    #[test]
    fn valid_bearer_tokens_round_trip(scheme in "(?i)bearer", token in b64token()) {
        let header = format!("{scheme} {token}");
        prop_assert_eq!(extract_bearer([header.as_str()]).unwrap(), Some(token.as_str()));
    }

    #[test]
    fn two_bearer_headers_are_refused(a in b64token(), b in b64token()) {
        let (a, b) = (format!("Bearer {a}"), format!("Bearer {b}"));
        prop_assert!(matches!(
            extract_bearer([a.as_str(), b.as_str()]),
            Err(AuthError::InvalidRequest(_))
        ));
    }

    #[test]
    fn scope_parser_never_panics(list in any::<String>()) {
        if let Ok(scopes) = Scopes::parse(&list) {
            // Whatever parses is made of valid scope-tokens.
            for scope in scopes.iter() {
                prop_assert!(!scope.as_str().is_empty());
                prop_assert!(scope.as_str().bytes().all(is_scope_char));
            }
        }
    }

    #[test]
    fn scopes_round_trip_through_display(
        tokens in prop::collection::vec(scope_token(), 0..8),
        separators in prop::collection::vec(" {1,3}", 8),
    ) {
        let mut list = String::new();
        for (token, separator) in tokens.iter().zip(&separators) {
            list.push_str(token);
            list.push_str(separator);
        }
        let scopes = Scopes::parse(&list).unwrap();
        for token in &tokens {
            prop_assert!(scopes.contains(token));
        }
        let printed = scopes.to_string();
        let again = Scopes::parse(&printed).unwrap();
        prop_assert_eq!(&again, &scopes);
        prop_assert_eq!(again.to_string(), printed);
    }

    #[test]
    fn form_parsers_never_panic(body in any::<String>()) {
        let _ = PasswordRequestForm::parse(&body);
        let _ = PasswordRequestFormStrict::parse(&body);
        let _ = TokenRequest::parse(&body);
    }

    #[test]
    fn form_parsers_never_panic_on_form_shaped_bodies(
        pairs in prop::collection::vec(
            (
                "grant_type|username|password|scope|client_id|client_secret|refresh_token|[a-z%=]{0,6}",
                "[ -~]{0,24}",
            ),
            0..10,
        ),
    ) {
        let body = pairs
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("&");
        let _ = PasswordRequestForm::parse(&body);
        let _ = PasswordRequestFormStrict::parse(&body);
        let _ = TokenRequest::parse(&body);
    }

    #[test]
    fn password_forms_round_trip(
        username in "[^\u{0}]{1,40}",
        password in "[^\u{0}]{1,60}",
        tokens in prop::collection::vec(scope_token(), 0..4),
        client_id in proptest::option::of("[ -~]{1,20}"),
        strict in any::<bool>(),
    ) {
        let scope = tokens.join(" ");
        let mut fields = vec![
            ("username", username.clone()),
            ("password", password.clone()),
            ("scope", scope.clone()),
        ];
        if strict {
            fields.insert(0, ("grant_type", "password".to_owned()));
        }
        if let Some(client_id) = &client_id {
            fields.push(("client_id", client_id.clone()));
        }
        let body = fields
            .iter()
            .map(|(name, value)| format!("{name}={}", form_encode(value)))
            .collect::<Vec<_>>()
            .join("&");

        let form = PasswordRequestForm::parse(&body).unwrap();
        prop_assert_eq!(&form.username, &username);
        prop_assert_eq!(form.password.expose(), password.as_str());
        prop_assert_eq!(&form.scopes, &Scopes::parse(&scope).unwrap());
        prop_assert_eq!(&form.client_id, &client_id);
        prop_assert_eq!(PasswordRequestFormStrict::parse(&body).is_ok(), strict);
        match TokenRequest::parse(&body).unwrap() {
            TokenRequest::Password(again) => prop_assert_eq!(again.username, username),
            other => prop_assert!(false, "a password grant parsed as {:?}", other),
        }
    }

    #[test]
    fn refresh_forms_round_trip(
        refresh in "[ -~]{1,80}",
        tokens in prop::collection::vec(scope_token(), 1..4),
    ) {
        let scope = tokens.join(" ");
        let body = format!(
            "grant_type=refresh_token&refresh_token={}&scope={}",
            form_encode(&refresh),
            form_encode(&scope)
        );
        match TokenRequest::parse(&body).unwrap() {
            TokenRequest::Refresh(form) => {
                prop_assert_eq!(form.refresh_token.expose(), refresh.as_str());
                prop_assert_eq!(form.scopes, Some(Scopes::parse(&scope).unwrap()));
            }
            other => prop_assert!(false, "a refresh grant parsed as {:?}", other),
        }
    }

    #[test]
    fn duplicated_fields_are_refused(
        name in "grant_type|username|password|scope|client_id|client_secret|refresh_token",
        a in "[a-z]{1,10}",
        b in "[a-z]{1,10}",
    ) {
        let body = format!("username=u&password=p&{name}={a}&{name}={b}");
        let refused = |r: Result<(), AuthError>| matches!(r, Err(AuthError::InvalidRequest(_)));
        prop_assert!(refused(PasswordRequestForm::parse(&body).map(drop)));
        prop_assert!(refused(TokenRequest::parse(&body).map(drop)));
    }
}
