//! JSON schemas of the error body, the token response and the token forms,
//! and the form request bodies.

use rocket_okapi::r#gen::OpenApiGenerator;
use rocket_okapi::okapi::openapi3::{MediaType, RequestBody};
use rocket_okapi::okapi::schemars::JsonSchema;
use rocket_okapi::okapi::schemars::r#gen::SchemaGenerator;
use rocket_okapi::okapi::schemars::schema::Schema;
use rocket_okapi::request::OpenApiFromData;
use serde_json::json;

use super::{FORM, fragment};
use crate::grant::TokenResponse;
use crate::grant::request::{
    PasswordRequestForm, PasswordRequestFormStrict, RevocationRequest, TokenRequest,
};

/// The JSON body of every error response: `{"error", "error_description"}`
/// (RFC 6749 §5.2, RFC 6750 §3). Only its schema is used, as
/// `#/components/schemas/Error`; apps whose own errors have the same shape
/// can refer to it with `generator.json_schema::<ErrorBody>()`.
#[derive(Debug, Clone, Copy)]
pub struct ErrorBody;

impl JsonSchema for ErrorBody {
    fn schema_name() -> String {
        "Error".to_owned()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        fragment(json!({
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "string",
                    "description": "An RFC 6749 / RFC 6750 error code",
                    "example": "invalid_request",
                },
                "error_description": {
                    "type": "string",
                    "description": "What went wrong, for the developer",
                },
            },
        }))
    }
}

impl JsonSchema for TokenResponse {
    fn schema_name() -> String {
        "TokenResponse".to_owned()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        fragment(json!({
            "type": "object",
            "required": ["access_token", "token_type", "expires_in", "scope"],
            "properties": {
                "access_token": {
                    "type": "string",
                    "description": "The access token, an RFC 9068 JWT",
                },
                "token_type": { "type": "string", "enum": ["bearer"] },
                "expires_in": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Lifetime of the access token, in seconds",
                },
                "refresh_token": {
                    "type": "string",
                    "description": "Opaque, single-use refresh token (not sent for the \
                                    client-credentials grant)",
                },
                "scope": {
                    "type": "string",
                    "description": "The granted scopes, space-separated",
                },
            },
        }))
    }
}

/// The fields of a token request form; `grant_types` is the `enum` of
/// `grant_type`.
fn form_schema(grant_types: &[&str], required: &[&str], refresh: bool) -> Schema {
    let mut properties = json!({
        "grant_type": {
            "type": "string",
            "enum": grant_types,
            "description": "The grant; without it, a password grant",
        },
        "username": {
            "type": "string",
            "minLength": 1,
            "description": "Password grant: the username",
        },
        "password": {
            "type": "string",
            "format": "password",
            "minLength": 1,
            "description": "Password grant: the password",
        },
        "scope": {
            "type": "string",
            "description": "Space-separated scopes to grant (all the user may have when \
                            omitted; a subset of the original grant on refresh)",
        },
        "client_id": {
            "type": "string",
            "description": "The client (client_secret_post); or send it with HTTP Basic",
        },
        "client_secret": {
            "type": "string",
            "format": "password",
            "description": "A confidential client's secret (client_secret_post); or send it \
                            with HTTP Basic (client_secret_basic)",
        },
    });
    if refresh {
        properties["refresh_token"] = json!({
            "type": "string",
            "minLength": 1,
            "description": "Refresh grant: the refresh token",
        });
    }
    let mut schema = json!({ "type": "object", "properties": properties });
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    fragment(schema)
}

impl JsonSchema for TokenRequest {
    fn schema_name() -> String {
        "TokenRequest".to_owned()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        form_schema(
            &["password", "refresh_token", "client_credentials"],
            &[],
            true,
        )
    }
}

impl JsonSchema for PasswordRequestForm {
    fn schema_name() -> String {
        "PasswordRequestForm".to_owned()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        form_schema(&["password"], &["username", "password"], false)
    }
}

impl JsonSchema for PasswordRequestFormStrict {
    fn schema_name() -> String {
        "PasswordRequestFormStrict".to_owned()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        form_schema(
            &["password"],
            &["grant_type", "username", "password"],
            false,
        )
    }
}

// ----- request bodies -----

fn form_body<T: JsonSchema>(generator: &mut OpenApiGenerator, description: &str) -> RequestBody {
    let mut content = rocket_okapi::okapi::Map::new();
    content.insert(
        FORM.to_owned(),
        MediaType {
            schema: Some(generator.json_schema::<T>()),
            ..MediaType::default()
        },
    );
    RequestBody {
        description: Some(description.to_owned()),
        content,
        required: true,
        ..RequestBody::default()
    }
}

impl OpenApiFromData<'_> for TokenRequest {
    fn request_body(generator: &mut OpenApiGenerator) -> rocket_okapi::Result<RequestBody> {
        Ok(form_body::<Self>(
            generator,
            "RFC 6749 §4.3.2 password grant (`username`, `password`), §6 refresh grant \
             (`grant_type=refresh_token`, `refresh_token`) or §4.4 client-credentials \
             grant (`grant_type=client_credentials`). Client credentials may instead \
             come as HTTP Basic.",
        ))
    }
}

impl JsonSchema for RevocationRequest {
    fn schema_name() -> String {
        "RevocationRequest".to_owned()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        fragment(json!({
            "type": "object",
            "required": ["token"],
            "properties": {
                "token": {
                    "type": "string",
                    "minLength": 1,
                    "description": "The refresh token to revoke",
                },
                "token_type_hint": {
                    "type": "string",
                    "description": "Ignored: only refresh tokens can be revoked",
                },
                "client_id": {
                    "type": "string",
                    "description": "The client (or send it with HTTP Basic)",
                },
                "client_secret": {
                    "type": "string",
                    "format": "password",
                    "description": "A confidential client's secret (or HTTP Basic)",
                },
            },
        }))
    }
}

impl OpenApiFromData<'_> for RevocationRequest {
    fn request_body(generator: &mut OpenApiGenerator) -> rocket_okapi::Result<RequestBody> {
        Ok(form_body::<Self>(
            generator,
            "RFC 7009 revocation: `token`; a confidential client authenticates with HTTP \
             Basic or `client_id` and `client_secret`.",
        ))
    }
}

impl OpenApiFromData<'_> for PasswordRequestForm {
    fn request_body(generator: &mut OpenApiGenerator) -> rocket_okapi::Result<RequestBody> {
        Ok(form_body::<Self>(
            generator,
            "RFC 6749 §4.3.2 password grant; `grant_type` may be omitted.",
        ))
    }
}

impl OpenApiFromData<'_> for PasswordRequestFormStrict {
    fn request_body(generator: &mut OpenApiGenerator) -> rocket_okapi::Result<RequestBody> {
        Ok(form_body::<Self>(
            generator,
            "RFC 6749 §4.3.2 password grant; `grant_type=password` is required.",
        ))
    }
}
