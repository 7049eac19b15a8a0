//! API keys in the document: an `apiKey` security scheme in the configured
//! header, as one more alternative wherever the bearer scheme is required
//! or optional, so Swagger UI's Authorize dialog offers it.

use rocket_okapi::okapi::openapi3::{
    OpenApi, Operation, RefOr, SecurityRequirement, SecurityScheme, SecuritySchemeData,
};

use super::SECURITY_SCHEME;

/// The name of the API-key scheme in `components.securitySchemes`.
pub const API_KEY_SCHEME: &str = "ApiKey";

/// Adds the API-key scheme (keys sent in the header `header`) beside the
/// bearer scheme.
pub(super) fn document(spec: &mut OpenApi, header: &str) {
    for item in spec.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            add_alternative(operation);
        }
    }
    let scheme = SecurityScheme {
        description: Some(format!(
            "An API key (`ak_...`), sent in the `{header}` header: it acts as its owner with \
             the key's scopes that the owner still holds. Send either the key or a bearer \
             token or session cookie, not several."
        )),
        data: SecuritySchemeData::ApiKey {
            name: header.to_owned(),
            location: "header".to_owned(),
        },
        extensions: rocket_okapi::okapi::Map::new(),
    };
    spec.components
        .get_or_insert_with(Default::default)
        .security_schemes
        .insert(API_KEY_SCHEME.to_owned(), RefOr::Object(scheme));
}

/// The key as one more alternative of an operation that takes a bearer
/// token. Like the cookie scheme, it lists no scopes (OpenAPI 3.0 gives an
/// API-key scheme none); the route's scopes are those of the bearer
/// requirement.
fn add_alternative(operation: &mut Operation) {
    let Some(security) = &mut operation.security else {
        return;
    };
    if !security.iter().any(|r| r.contains_key(SECURITY_SCHEME)) {
        return;
    }
    let mut key = SecurityRequirement::new();
    key.insert(API_KEY_SCHEME.to_owned(), Vec::new());
    security.push(key);
}
