//! The documented responses of the token endpoint and of [`AuthError`].

use rocket_okapi::r#gen::OpenApiGenerator;
use std::collections::BTreeMap;

use rocket_okapi::okapi::openapi3::{MediaType, RefOr, Response, Responses};
use rocket_okapi::response::OpenApiResponderInner;
use serde_json::{Value, json};

use super::schemas::ErrorBody;
use super::{JSON, response_fragment};
use crate::error::AuthError;
use crate::grant::TokenResponse;

fn json_response(
    generator: &mut OpenApiGenerator,
    description: &str,
    headers: &Value,
    example: Option<Value>,
) -> RefOr<Response> {
    let mut response = response_fragment(json!({
        "description": description,
        "headers": headers,
    }));
    response.content.insert(
        JSON.to_owned(),
        MediaType {
            schema: Some(generator.json_schema::<ErrorBody>()),
            example,
            ..MediaType::default()
        },
    );
    RefOr::Object(response)
}

fn no_store() -> Value {
    json!({
        "description": "`no-store`",
        "schema": { "type": "string" },
    })
}

fn retry_after() -> Value {
    json!({
        "description": "Seconds to wait before retrying",
        "required": true,
        "schema": { "type": "integer", "minimum": 0 },
    })
}

impl OpenApiResponderInner for TokenResponse {
    fn responses(generator: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        let mut response = response_fragment(json!({
            "description": "RFC 6749 §5.1 access token response",
            "headers": {
                "Cache-Control": no_store(),
                "Pragma": { "description": "`no-cache`", "schema": { "type": "string" } },
            },
        }));
        response.content.insert(
            JSON.to_owned(),
            MediaType {
                schema: Some(generator.json_schema::<TokenResponse>()),
                ..MediaType::default()
            },
        );
        let mut responses = Responses::default();
        responses
            .responses
            .insert("200".to_owned(), RefOr::Object(response));
        Ok(responses)
    }
}

/// As the result of a token or revocation endpoint: the RFC 6749 §5.2
/// errors.
impl OpenApiResponderInner for AuthError {
    fn responses(generator: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        let headers = json!({ "Cache-Control": no_store() });
        let with_retry = json!({ "Cache-Control": no_store(), "Retry-After": retry_after() });
        let codes: BTreeMap<&str, RefOr<Response>> = BTreeMap::from([
            (
                "400",
                json_response(
                    generator,
                    "RFC 6749 §5.2 error: `invalid_request` (missing or duplicated \
                     parameter, body not form-encoded), `invalid_grant` (wrong \
                     credentials, bad refresh token), `invalid_scope`, \
                     `unsupported_grant_type`",
                    &headers,
                    Some(json!({
                        "error": "invalid_grant",
                        "error_description": "incorrect username or password",
                    })),
                ),
            ),
            (
                "429",
                json_response(
                    generator,
                    "`slow_down`: too many failed logins",
                    &with_retry,
                    None,
                ),
            ),
            (
                "503",
                json_response(
                    generator,
                    "`temporarily_unavailable`: too many logins at once",
                    &with_retry,
                    None,
                ),
            ),
        ]);
        let mut responses = Responses::default();
        for (status, response) in codes {
            responses.responses.insert(status.to_owned(), response);
        }
        Ok(responses)
    }
}
