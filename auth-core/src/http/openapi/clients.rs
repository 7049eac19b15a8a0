//! The client-credentials flow in the document: a second `oauth2` scheme
//! (okapi's `OAuthFlows` holds one flow per scheme), offered as an
//! alternative wherever the password scheme is required, with the same
//! scopes, so Swagger UI's **Authorize** offers it too.

use rocket_okapi::okapi::openapi3::{
    OAuthFlows, OpenApi, Operation, RefOr, SecurityRequirement, SecurityScheme, SecuritySchemeData,
};

use super::SECURITY_SCHEME;

/// The name of the client-credentials scheme in
/// `components.securitySchemes`.
pub const CLIENT_CREDENTIALS_SCHEME: &str = "OAuth2ClientCredentials";

/// Adds the scheme, whose `tokenUrl` is `token_url`, and the alternatives.
pub(super) fn document(
    spec: &mut OpenApi,
    token_url: String,
    scopes: &rocket_okapi::okapi::Map<String, String>,
) {
    for item in spec.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            add_alternatives(operation);
        }
    }
    let scheme = SecurityScheme {
        description: Some(
            "OAuth2 client-credentials flow (RFC 6749 §4.4), for services: a registered \
             confidential client authenticates with its id and secret and gets a token \
             on its own behalf, sent as `Authorization: Bearer <token>`."
                .to_owned(),
        ),
        data: SecuritySchemeData::OAuth2 {
            flows: OAuthFlows::ClientCredentials {
                token_url,
                refresh_url: None,
                scopes: scopes.clone(),
                extensions: rocket_okapi::okapi::Map::new(),
            },
        },
        extensions: rocket_okapi::okapi::Map::new(),
    };
    spec.components
        .get_or_insert_with(Default::default)
        .security_schemes
        .insert(CLIENT_CREDENTIALS_SCHEME.to_owned(), RefOr::Object(scheme));
}

/// For each requirement of the password scheme, the same scopes under the
/// client-credentials scheme, as one more alternative (OpenAPI's OR).
fn add_alternatives(operation: &mut Operation) {
    let Some(security) = &mut operation.security else {
        return;
    };
    let alternatives: Vec<SecurityRequirement> = security
        .iter()
        .filter_map(|r| r.get(SECURITY_SCHEME).filter(|_| r.len() == 1))
        .map(|scopes| {
            let mut requirement = SecurityRequirement::new();
            requirement.insert(CLIENT_CREDENTIALS_SCHEME.to_owned(), scopes.clone());
            requirement
        })
        .collect();
    security.extend(alternatives);
}
