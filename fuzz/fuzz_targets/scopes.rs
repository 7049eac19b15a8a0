//! The scope-list parser: never panics, and a parsed list prints back to a
//! string that parses to the same set.
#![no_main]

use auth_core::Scopes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(scopes) = Scopes::parse(text) {
        let printed = scopes.to_string();
        let again = Scopes::parse(&printed).expect("a printed scope list parses");
        assert_eq!(again, scopes);
        assert_eq!(again.to_string(), printed);
    }
});
