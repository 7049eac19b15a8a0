//! What each auth guard contributes to an operation: its security
//! requirement and its 400/401/403 responses.

use rocket_okapi::r#gen::OpenApiGenerator;
use rocket_okapi::okapi::openapi3::{
    MediaType, OAuthFlows, RefOr, Response, Responses, SecurityRequirement, SecurityScheme,
    SecuritySchemeData,
};
use rocket_okapi::request::{OpenApiFromRequest, RequestHeaderInput};
use serde_json::{Value, json};

use super::schemas::ErrorBody;
use super::{JSON, SECURITY_SCHEME, alternative_key, response_fragment};
use crate::auth::Auth;
use crate::http::guard::{AuthUser, BearerToken, MaybeUser, Protected, RequiredScopes};

/// What one of our guards contributes: each alternative set of scopes (one
/// for most guards). The scheme itself is a placeholder that [`complete`]
/// replaces.
///
/// `rocket_okapi` takes one requirement object per guard, so the alternatives
/// of `#[protected(any(..))]` travel in one object, under [`alternative_key`]
/// names, and [`complete`] makes them one object each.
///
/// [`complete`]: super::complete
fn security(alternatives: &[Vec<String>], required: bool) -> RequestHeaderInput {
    let requirement = if required {
        let mut requirement = SecurityRequirement::new();
        for (index, scopes) in alternatives.iter().enumerate() {
            requirement.insert(alternative_key(index), scopes.clone());
        }
        requirement
    } else {
        SecurityRequirement::new()
    };
    let scheme = SecurityScheme {
        description: None,
        data: SecuritySchemeData::OAuth2 {
            flows: OAuthFlows::Password {
                token_url: "/token".to_owned(),
                refresh_url: None,
                scopes: rocket_okapi::okapi::Map::new(),
                extensions: rocket_okapi::okapi::Map::new(),
            },
        },
        extensions: rocket_okapi::okapi::Map::new(),
    };
    RequestHeaderInput::Security(SECURITY_SCHEME.to_owned(), scheme, requirement)
}

/// The 400/401 (and 403) responses of a guard that reads the bearer token.
pub(super) fn guard_responses(generator: &mut OpenApiGenerator, forbidden: bool) -> Responses {
    let schema = generator.json_schema::<ErrorBody>();
    let challenge = |description: &str, example: &str, required: bool| -> Value {
        json!({
            "description": description,
            "required": required,
            "schema": { "type": "string" },
            "example": example,
        })
    };
    let response = |description: &str, header: Value, code: &str| -> RefOr<Response> {
        let mut response = response_fragment(json!({
            "description": description,
            "headers": { "WWW-Authenticate": header },
        }));
        response.content.insert(
            JSON.to_owned(),
            MediaType {
                schema: Some(schema.clone()),
                example: Some(json!({
                    "error": code,
                    "error_description": "...",
                })),
                ..MediaType::default()
            },
        );
        RefOr::Object(response)
    };
    let mut responses = Responses::default();
    responses.responses.insert(
        "400".to_owned(),
        response(
            "`invalid_request`: a `Bearer` header with an empty token, or several \
             `Authorization` headers",
            challenge(
                "RFC 6750 challenge with `error=\"invalid_request\"`",
                "Bearer realm=\"api\", error=\"invalid_request\"",
                false,
            ),
            "invalid_request",
        ),
    );
    responses.responses.insert(
        "401".to_owned(),
        response(
            "`unauthorized`: no bearer token; `invalid_token`: a malformed, expired or \
             otherwise invalid token",
            challenge(
                "RFC 6750 challenge, with `error=\"invalid_token\"` for a bad token",
                "Bearer realm=\"api\"",
                true,
            ),
            "invalid_token",
        ),
    );
    if forbidden {
        responses.responses.insert(
            "403".to_owned(),
            response(
                "`insufficient_scope`: the token lacks a required scope",
                challenge(
                    "RFC 6750 challenge with `error=\"insufficient_scope\"` and the \
                     required `scope`",
                    "Bearer realm=\"api\", error=\"insufficient_scope\", scope=\"read:items\"",
                    true,
                ),
                "insufficient_scope",
            ),
        );
    }
    responses
}

impl<S: RequiredScopes> OpenApiFromRequest<'_> for Protected<S> {
    fn from_request_input(
        _generator: &mut OpenApiGenerator,
        _name: String,
        required: bool,
    ) -> rocket_okapi::Result<RequestHeaderInput> {
        let alternatives: Vec<Vec<String>> = S::ANY_OF
            .iter()
            .map(|alternative| {
                S::SCOPES
                    .iter()
                    .chain(alternative.iter())
                    .map(|s| (*s).to_owned())
                    .collect()
            })
            .collect();
        Ok(security(&alternatives, required))
    }

    fn get_responses(generator: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        let scoped = !S::SCOPES.is_empty() || S::ANY_OF.iter().any(|a| !a.is_empty());
        Ok(guard_responses(generator, scoped))
    }
}

/// The guards that require no particular scope: `required` tells whether an
/// anonymous request is refused (`MaybeUser` never refuses it).
macro_rules! unscoped_guard {
    ($guard:ty, |$required:ident| $anonymous_refused:expr) => {
        impl OpenApiFromRequest<'_> for $guard {
            fn from_request_input(
                _generator: &mut OpenApiGenerator,
                _name: String,
                $required: bool,
            ) -> rocket_okapi::Result<RequestHeaderInput> {
                Ok(security(&[Vec::new()], $anonymous_refused))
            }

            fn get_responses(generator: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
                Ok(guard_responses(generator, false))
            }
        }
    };
}

unscoped_guard!(AuthUser, |required| required);
unscoped_guard!(BearerToken, |required| required);
unscoped_guard!(MaybeUser, |_required| false);

impl<'r> OpenApiFromRequest<'r> for &'r Auth {
    fn from_request_input(
        _generator: &mut OpenApiGenerator,
        _name: String,
        _required: bool,
    ) -> rocket_okapi::Result<RequestHeaderInput> {
        Ok(RequestHeaderInput::None)
    }
}

impl OpenApiFromRequest<'_> for crate::ClientAddress {
    fn from_request_input(
        _generator: &mut OpenApiGenerator,
        _name: String,
        _required: bool,
    ) -> rocket_okapi::Result<RequestHeaderInput> {
        Ok(RequestHeaderInput::None)
    }
}
