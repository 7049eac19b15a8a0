//! The token-endpoint form parsers: never panic on any body, and agree with
//! each other on what a password grant is.
#![no_main]

use auth_core::{PasswordRequestForm, PasswordRequestFormStrict, TokenRequest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let lenient = PasswordRequestForm::parse(body);
    let strict = PasswordRequestFormStrict::parse(body);
    let request = TokenRequest::parse(body);
    // Whatever the strict parser accepts, the lenient one accepts too.
    if let Ok(strict) = strict {
        let lenient = lenient.as_ref().expect("strict form accepted, lenient refused");
        assert_eq!(strict.0.username, lenient.username);
    }
    if let Ok(TokenRequest::Password(form)) = request {
        assert_eq!(Some(&form.username), lenient.as_ref().ok().map(|f| &f.username));
    }
});
