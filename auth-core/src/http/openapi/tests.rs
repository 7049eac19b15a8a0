//! Tests of the document completion and of what guards contribute.

use rocket_okapi::r#gen::OpenApiGenerator;
use serde_json::{Value, json};

use super::guards::guard_responses;
use super::*;

fn operation(security: &Value) -> Operation {
    fragment(json!({ "responses": {}, "security": security }))
}

fn normalized(security: &Value) -> Value {
    let mut operation = operation(security);
    normalize_security(&mut operation);
    serde_json::to_value(operation.security).unwrap()
}

#[test]
fn guards_of_one_handler_make_one_requirement() {
    let s = SECURITY_SCHEME;
    // #[protected(scopes = "b a")] with an AuthUser parameter.
    assert_eq!(
        normalized(&json!([{ s: ["b", "a"] }, { s: [] }])),
        json!([{ s: ["b", "a"] }])
    );
    // MaybeUser alone: anonymous allowed.
    assert_eq!(normalized(&json!([{}])), json!([{}, { s: [] }]));
    // MaybeUser beside a required guard: the token is required.
    assert_eq!(
        normalized(&json!([{}, { s: ["x"] }])),
        json!([{ s: ["x"] }])
    );
    // Another scheme's requirement is kept.
    assert_eq!(
        normalized(&json!([{ "apiKey": [] }, { s: [] }])),
        json!([{ s: [] }, { "apiKey": [] }])
    );
    assert_eq!(normalized(&Value::Null), Value::Null);
}

#[test]
fn alternatives_become_one_requirement_each() {
    let s = SECURITY_SCHEME;
    let second = alternative_key(1);
    // #[protected(any(scopes = "admin", scopes = "write:items"))].
    assert_eq!(
        normalized(&json!([{ s: ["admin"], second.as_str(): ["write:items"] }])),
        json!([{ s: ["admin"] }, { s: ["write:items"] }])
    );
    // Beside an AuthUser parameter and MaybeUser: unchanged.
    assert_eq!(
        normalized(&json!([{}, { s: [] }, { s: ["a"], second.as_str(): ["b", "c"] }])),
        json!([{ s: ["a"] }, { s: ["b", "c"] }])
    );
    // Two guards with alternatives: every pair (AND of two ORs).
    assert_eq!(
        normalized(&json!([
            { s: ["a"], second.as_str(): ["b"] },
            { s: ["x"], second.as_str(): ["a"] },
        ])),
        json!([{ s: ["a", "x"] }, { s: ["a"] }, { s: ["b", "x"] }, { s: ["b", "a"] }])
    );
    assert!(alternative_key(2) < alternative_key(10));
}

#[test]
fn documented_headers_have_each_key_once() {
    let mut generator = OpenApiGenerator::new(&rocket_okapi::settings::OpenApiSettings::new());
    let responses = guard_responses(&mut generator, true);
    for response in responses.responses.values() {
        let RefOr::Object(response) = response else {
            panic!("inline responses only")
        };
        for header in response.headers.values() {
            let text = serde_json::to_string(header).unwrap();
            assert_eq!(text.matches("\"schema\"").count(), 1, "{text}");
            assert_eq!(text.matches("\"example\"").count(), 1, "{text}");
        }
    }
    let text = serde_json::to_string(&responses).unwrap();
    let back: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(back["403"]["headers"]["WWW-Authenticate"]["required"], true);
    assert_eq!(
        back["401"]["content"][JSON]["schema"]["$ref"],
        "#/components/schemas/Error"
    );
}

#[test]
fn token_url_comes_from_the_token_form_and_the_base() {
    let form = |name: &str| {
        json!({
            "requestBody": { "content": { FORM: {
                "schema": { "$ref": format!("#/components/schemas/{name}") }
            } } },
            "responses": {},
        })
    };
    let mut spec: OpenApi = fragment(json!({
        "openapi": "3.0.0",
        "info": { "title": "t", "version": "1" },
        "paths": {
            "/login": { "post": form("PasswordRequestFormStrict") },
            "/oauth/token": { "post": form("TokenRequest") },
        },
    }));
    let registry = ScopeRegistry::new().with("read:items", "Read items");
    complete(&mut spec, &registry, "/api/");
    let json = serde_json::to_value(&spec).unwrap();
    let flow = &json["components"]["securitySchemes"][SECURITY_SCHEME]["flows"]["password"];
    assert_eq!(flow["tokenUrl"], "/api/oauth/token");
    assert_eq!(flow["refreshUrl"], "/api/oauth/token");
    assert_eq!(flow["scopes"], json!({ "read:items": "Read items" }));
    assert_eq!(json["servers"], json!([{ "url": "/api" }]));

    let mut at_root: OpenApi = fragment(json!({
        "openapi": "3.0.0",
        "info": { "title": "t", "version": "1" },
        "paths": { "/login": { "post": form("PasswordRequestForm") } },
    }));
    complete(&mut at_root, &registry, "/");
    let json = serde_json::to_value(&at_root).unwrap();
    let flow = &json["components"]["securitySchemes"][SECURITY_SCHEME]["flows"]["password"];
    assert_eq!(flow["tokenUrl"], "/login");
    assert!(flow.get("refreshUrl").is_none());
    assert!(json.get("servers").is_none());
}
