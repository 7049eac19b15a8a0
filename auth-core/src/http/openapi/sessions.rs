//! Cookie sessions in the document: the session cookie as a security scheme
//! beside the bearer one on every operation that takes a token, and the
//! four session endpoints.

use rocket_okapi::okapi::openapi3::{
    OpenApi, Operation, PathItem, RefOr, SecurityRequirement, SecurityScheme, SecuritySchemeData,
    Server,
};
use serde_json::json;

use super::{JSON, SECURITY_SCHEME, fragment};
use crate::auth::browser::CSRF_HEADER;

/// The name of the cookie scheme in `components.securitySchemes`.
pub const COOKIE_SCHEME: &str = "SessionCookie";

/// Adds the cookie scheme (the access cookie `cookie_name`) as an
/// alternative wherever the bearer scheme is required or optional, and
/// documents `/session` and `/session/refresh`. The fairing mounts those at
/// the root, so under a `base` other than `/` they name the root server
/// (`root`: `/`, or the public base URL).
pub(super) fn document(spec: &mut OpenApi, cookie_name: &str, base: &str, root: &str) {
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
            "A browser session: `POST /session` sets the access token in the HttpOnly cookie \
             `{cookie_name}`, which carries the same scopes as a bearer token. Requests that \
             change state (anything but GET, HEAD, OPTIONS) also need a same-origin `Origin` \
             and the session's `{CSRF_HEADER}` header (from `POST /session` or \
             `GET /session`). Send either the cookie or `Authorization`, not both."
        )),
        data: SecuritySchemeData::ApiKey {
            name: cookie_name.to_owned(),
            location: "cookie".to_owned(),
        },
        extensions: rocket_okapi::okapi::Map::new(),
    };
    spec.components
        .get_or_insert_with(Default::default)
        .security_schemes
        .insert(COOKIE_SCHEME.to_owned(), RefOr::Object(scheme));
    for (path, mut item) in session_paths() {
        if !base.trim_end_matches('/').is_empty() {
            item.servers = Some(vec![Server {
                url: root.to_owned(),
                ..Server::default()
            }]);
        }
        spec.paths.entry(path.to_owned()).or_insert(item);
    }
}

/// The cookie as one more alternative of an operation that takes a bearer
/// token. An API-key scheme lists no scopes (OpenAPI 3.0): the cookie
/// carries the token, and the token its scopes.
fn add_alternative(operation: &mut Operation) {
    let Some(security) = &mut operation.security else {
        return;
    };
    if !security.iter().any(|r| r.contains_key(SECURITY_SCHEME)) {
        return;
    }
    let mut cookie = SecurityRequirement::new();
    cookie.insert(COOKIE_SCHEME.to_owned(), Vec::new());
    security.push(cookie);
}

/// `/session` and `/session/refresh`, as `http::session` serves them.
fn session_paths() -> Vec<(&'static str, PathItem)> {
    let info = json!({
        "type": "object",
        "required": ["username", "scope", "expires_in", "csrf_token"],
        "properties": {
            "username": { "type": "string" },
            "scope": { "type": "string", "description": "The granted scopes, space-separated" },
            "expires_in": { "type": "integer", "description": "Seconds the access cookie has left" },
            "csrf_token": { "type": "string", "description": format!("Send as `{CSRF_HEADER}` on unsafe requests") },
        },
    });
    let error = json!({
        "description": "An RFC 6749 error: `{\"error\", \"error_description\"}`",
        "content": { JSON: { "schema": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": { "type": "string" },
                "error_description": { "type": "string" },
            },
        } } },
    });
    let ok = json!({
        "description": "The session; the tokens are in the cookies, never in the body",
        "content": { JSON: { "schema": info } },
    });
    let session = json!({
        "post": {
            "tags": ["session"],
            "summary": "Log in: the password grant, with the tokens set as HttpOnly cookies",
            "operationId": "session_login",
            "requestBody": {
                "required": true,
                "content": { "application/x-www-form-urlencoded": { "schema": {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {
                        "username": { "type": "string" },
                        "password": { "type": "string", "format": "password" },
                        "scope": { "type": "string" },
                    },
                } } },
            },
            "responses": {
                "200": ok,
                "400": error,
                "403": error,
                "429": error,
                "503": error,
            },
        },
        "get": {
            "tags": ["session"],
            "summary": "The current session and its CSRF token",
            "operationId": "session_current",
            "security": [{ COOKIE_SCHEME: [] }],
            "responses": { "200": ok, "401": error },
        },
        "delete": {
            "tags": ["session"],
            "summary": "Log out: revoke the session and clear the cookies",
            "operationId": "session_logout",
            "responses": { "204": { "description": "Logged out" }, "403": error },
        },
    });
    let refresh = json!({
        "post": {
            "tags": ["session"],
            "summary": "Rotate the refresh cookie and get a new access cookie",
            "operationId": "session_refresh",
            "responses": { "200": ok, "400": error, "403": error },
        },
    });
    vec![
        ("/session", without_echo(fragment(session))),
        ("/session/refresh", without_echo(fragment(refresh))),
    ]
}

/// `okapi`'s `Responses` flattens both its status map and its extensions,
/// so a deserialized fragment holds every status twice and would write
/// duplicated keys (which Swagger UI refuses); extensions are dropped.
fn without_echo(mut item: PathItem) -> PathItem {
    for operation in [&mut item.get, &mut item.post, &mut item.delete]
        .into_iter()
        .flatten()
    {
        operation.responses.extensions.clear();
    }
    item
}
