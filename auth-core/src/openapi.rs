//! OpenAPI 3 documents and Swagger UI with a working **Authorize** button
//! (cargo feature `openapi`), built on [`rocket_okapi`].
//!
//! Each operation's `security` is derived from the guards its handler
//! takes, so no scope is ever written twice:
//!
//! | handler | `security` of the operation |
//! |---|---|
//! | `#[protected(scopes = "a b")]` | `[{"OAuth2PasswordBearer": ["a", "b"]}]` |
//! | `#[protected]`, or takes [`AuthUser`] or [`BearerToken`] | `[{"OAuth2PasswordBearer": []}]` |
//! | takes [`MaybeUser`] (or an `Option` of the above) | `[{}, {"OAuth2PasswordBearer": []}]` |
//! | none of them | none |
//!
//! The one `oauth2` security scheme ([`SECURITY_SCHEME`], password flow) is
//! filled in when the document is served: `tokenUrl` is the route that takes
//! a [`TokenRequest`] (or a password form), `refreshUrl` the one that takes a
//! [`TokenRequest`], both with the prefix the routes are mounted under, and
//! the scopes are the ones declared to the [`Auth`] fairing, with their
//! descriptions.
//!
//! Protected operations document their 400, 401 and 403 responses with the
//! `WWW-Authenticate` header and the JSON error body; the token forms
//! document their `application/x-www-form-urlencoded` body and their
//! RFC 6749 §5.2 errors.
//!
//! Put `#[openapi]` **between** `#[protected]` and the route attribute, so it
//! sees the guard `#[protected]` adds:
//!
//! ```
//! use auth_core::{Auth, protected};
//! use rocket::get;
//! use rocket_okapi::{openapi, openapi_get_routes_spec};
//!
//! #[protected(scopes = "read:items")]
//! #[openapi]
//! #[get("/items")]
//! fn items() -> &'static str { "[]" }
//!
//! let (routes, spec) = openapi_get_routes_spec![items];
//! let rocket = rocket::build()
//!     .attach(Auth::fairing().scope("read:items", "Read items"))
//!     .mount("/", routes)
//!     .mount("/", auth_core::openapi::docs(spec)); // GET /openapi.json, GET /docs
//! # let _ = rocket;
//! ```

use std::collections::BTreeMap;

use rocket::http::Method;
use rocket::route::{Handler, Outcome};
use rocket::{Data, Request, Route};
use rocket_okapi::r#gen::OpenApiGenerator;
use rocket_okapi::okapi::openapi3::{
    Header, MediaType, OAuthFlows, OpenApi, Operation, ParameterValue, RefOr, RequestBody,
    Response, Responses, SecurityRequirement, SecurityScheme, SecuritySchemeData, Server,
};
use rocket_okapi::okapi::schemars::JsonSchema;
use rocket_okapi::okapi::schemars::r#gen::SchemaGenerator;
use rocket_okapi::okapi::schemars::schema::Schema;
use rocket_okapi::request::{OpenApiFromData, OpenApiFromRequest, RequestHeaderInput};
use rocket_okapi::response::OpenApiResponderInner;
use rocket_okapi::swagger_ui::{SwaggerUIConfig, make_swagger_ui};
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::error::AuthError;
use crate::form::{PasswordRequestForm, PasswordRequestFormStrict, TokenRequest};
use crate::grant::TokenResponse;
use crate::guard::{AuthUser, BearerToken, MaybeUser, Protected, RequiredScopes};
use crate::scopes::ScopeRegistry;

/// The name of the `oauth2` security scheme in the document (FastAPI's name
/// for the same scheme).
pub const SECURITY_SCHEME: &str = "OAuth2PasswordBearer";

/// Where [`docs`] serves the document, relative to its mount point.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// Where [`docs`] serves Swagger UI, relative to its mount point.
pub const DOCS_PATH: &str = "/docs";

/// The routes that serve `spec` at [`OPENAPI_PATH`] and Swagger UI at
/// [`DOCS_PATH`]: mount them where the documented routes are mounted.
///
/// The Swagger UI assets are compiled into the binary; nothing is fetched
/// from the network. The document is completed by [`complete`] on every
/// request, with the scopes of the [`Auth`] fairing and the mount point.
///
/// # Panics
///
/// Never: the paths of the bundled routes are static and valid.
#[must_use]
pub fn docs(spec: OpenApi) -> Vec<Route> {
    let config = SwaggerUIConfig {
        // Relative to `<mount>/docs/index.html`, so a path prefix keeps working.
        url: format!("..{OPENAPI_PATH}"),
        ..SwaggerUIConfig::default()
    };
    let ui: Vec<Route> = make_swagger_ui(&config).into();
    let mut routes: Vec<Route> = ui
        .into_iter()
        .map(|route| {
            route
                .map_base(|_| DOCS_PATH.to_owned())
                .expect("a static, valid base")
        })
        .collect();
    routes.push(Route::new(Method::Get, OPENAPI_PATH, DocumentHandler(spec)));
    routes
}

/// Serves the document, completed for the request's mount point.
#[derive(Clone)]
struct DocumentHandler(OpenApi);

#[rocket::async_trait]
impl Handler for DocumentHandler {
    async fn handle<'r>(&self, request: &'r Request<'_>, _: Data<'r>) -> Outcome<'r> {
        let mut spec = self.0.clone();
        let base = request.route().map_or("/", |route| route.uri.base());
        let scopes = request
            .rocket()
            .state::<Auth>()
            .map(|auth| auth.scopes().clone())
            .unwrap_or_default();
        complete(&mut spec, &scopes, base);
        Outcome::from(request, rocket::serde::json::Json(spec))
    }
}

/// Completes a document generated by `rocket_okapi` from routes that use
/// this crate's guards, as [`docs`] does before serving it.
///
/// * Each operation's `security` becomes one requirement listing every
///   scope the handler requires, or `[{}, {scheme: []}]` when it takes only
///   optional authentication ([`MaybeUser`]).
/// * The [`SECURITY_SCHEME`] gets its password flow: `tokenUrl` and
///   `refreshUrl` (the token route, prefixed with `base`) and `scopes`.
/// * `base`, the mount point of the documented routes, becomes the server
///   URL when it is not `/`.
///
/// # Example
///
/// ```
/// use auth_core::ScopeRegistry;
/// use auth_core::openapi::{SECURITY_SCHEME, complete};
/// use rocket_okapi::okapi::openapi3::OpenApi;
///
/// let mut spec = OpenApi::default();
/// complete(&mut spec, &ScopeRegistry::new().with("admin", "Full access"), "/api");
/// let json = serde_json::to_value(&spec).unwrap();
/// let scheme = &json["components"]["securitySchemes"][SECURITY_SCHEME];
/// assert_eq!(scheme["flows"]["password"]["scopes"]["admin"], "Full access");
/// assert_eq!(json["servers"][0]["url"], "/api");
/// ```
pub fn complete(spec: &mut OpenApi, scopes: &ScopeRegistry, base: &str) {
    let base = base.trim_end_matches('/');
    let mut token_path = None;
    let mut refresh_path = None;
    for (path, item) in &mut spec.paths {
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
            normalize_security(operation);
            match token_body(operation) {
                Some(TokenBody::PasswordAndRefresh) => {
                    refresh_path.get_or_insert_with(|| path.clone());
                    token_path = Some(path.clone());
                }
                Some(TokenBody::Password) => {
                    token_path.get_or_insert_with(|| path.clone());
                }
                None => {}
            }
        }
    }
    if !base.is_empty() && spec.servers.is_empty() {
        spec.servers.push(Server {
            url: base.to_owned(),
            ..Server::default()
        });
    }
    // Swagger UI resolves a relative `tokenUrl` against the server URL; an
    // absolute path with the prefix is right whatever it is resolved against.
    let url = |path: &str| format!("{base}{path}");
    let flow = OAuthFlows::Password {
        token_url: url(token_path.as_deref().unwrap_or("/token")),
        refresh_url: refresh_path.as_deref().map(url),
        scopes: scopes
            .iter()
            .map(|(scope, description)| (scope.to_string(), description.to_owned()))
            .collect(),
        extensions: rocket_okapi::okapi::Map::new(),
    };
    let scheme = SecurityScheme {
        description: Some(
            "OAuth2 password flow: log in with a username and password; the access \
             token is then sent as `Authorization: Bearer <token>`."
                .to_owned(),
        ),
        data: SecuritySchemeData::OAuth2 { flows: flow },
        extensions: rocket_okapi::okapi::Map::new(),
    };
    spec.components
        .get_or_insert_with(Default::default)
        .security_schemes
        .insert(SECURITY_SCHEME.to_owned(), RefOr::Object(scheme));
}

/// Merges the requirements the guards of one handler contributed. The
/// guards all have to pass, so our requirements are one: every scope any
/// of them requires. An empty requirement (optional authentication) only
/// counts when no guard requires a token. Requirements of other schemes
/// are kept as they are.
fn normalize_security(operation: &mut Operation) {
    let Some(requirements) = operation.security.take() else {
        return;
    };
    let mut required: Option<Vec<String>> = None;
    let mut optional = false;
    let mut others = Vec::new();
    for requirement in requirements {
        if requirement.is_empty() {
            optional = true;
        } else if requirement.len() == 1 && requirement.contains_key(SECURITY_SCHEME) {
            let scopes = required.get_or_insert_with(Vec::new);
            for scope in &requirement[SECURITY_SCHEME] {
                if !scopes.contains(scope) {
                    scopes.push(scope.clone());
                }
            }
        } else {
            others.push(requirement);
        }
    }
    let mut security = match (required, optional) {
        (Some(scopes), _) => vec![requirement(scopes)],
        (None, true) => vec![SecurityRequirement::new(), requirement(Vec::new())],
        (None, false) => Vec::new(),
    };
    security.extend(others);
    operation.security = Some(security).filter(|s| !s.is_empty());
}

fn requirement(scopes: Vec<String>) -> SecurityRequirement {
    let mut requirement = SecurityRequirement::new();
    requirement.insert(SECURITY_SCHEME.to_owned(), scopes);
    requirement
}

enum TokenBody {
    Password,
    PasswordAndRefresh,
}

/// Which grants the operation's request body (one of our token forms)
/// accepts, if it is one.
fn token_body(operation: &Operation) -> Option<TokenBody> {
    let Some(RefOr::Object(body)) = &operation.request_body else {
        return None;
    };
    let schema = body.content.get(FORM)?.schema.as_ref()?;
    let reference = schema.reference.as_deref()?;
    let name = reference.rsplit('/').next()?;
    if name == <TokenRequest as JsonSchema>::schema_name() {
        Some(TokenBody::PasswordAndRefresh)
    } else if name == <PasswordRequestForm as JsonSchema>::schema_name()
        || name == <PasswordRequestFormStrict as JsonSchema>::schema_name()
    {
        Some(TokenBody::Password)
    } else {
        None
    }
}

const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

/// Deserializes a static document fragment.
fn fragment<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("a valid static OpenAPI fragment")
}

/// Deserializes a static response fragment. Its headers are built by hand:
/// `okapi`'s `Header` does not read back what it writes (its flattened
/// fields would each take the `schema`).
fn response_fragment(mut value: Value) -> Response {
    let headers = value
        .as_object_mut()
        .and_then(|object| object.remove("headers"))
        .unwrap_or_default();
    let mut response: Response = fragment(value);
    if let Value::Object(headers) = headers {
        for (name, header) in headers {
            let header = Header {
                description: header["description"].as_str().map(str::to_owned),
                required: header["required"].as_bool().unwrap_or(false),
                deprecated: false,
                allow_empty_value: false,
                value: ParameterValue::Schema {
                    style: None,
                    explode: None,
                    allow_reserved: false,
                    schema: fragment(header["schema"].clone()),
                    example: header.get("example").cloned(),
                    examples: None,
                },
                extensions: rocket_okapi::okapi::Map::new(),
            };
            response.headers.insert(name, RefOr::Object(header));
        }
    }
    response
}

// ----- request guards -----

/// What one of our guards contributes. The scheme itself is a placeholder
/// that [`complete`] replaces.
fn security(scopes: &[&str], required: bool) -> RequestHeaderInput {
    let requirement = if required {
        requirement(scopes.iter().map(|s| (*s).to_owned()).collect())
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
fn guard_responses(generator: &mut OpenApiGenerator, forbidden: bool) -> Responses {
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
        Ok(security(S::SCOPES, required))
    }

    fn get_responses(generator: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        Ok(guard_responses(generator, !S::SCOPES.is_empty()))
    }
}

impl OpenApiFromRequest<'_> for AuthUser {
    fn from_request_input(
        _generator: &mut OpenApiGenerator,
        _name: String,
        required: bool,
    ) -> rocket_okapi::Result<RequestHeaderInput> {
        Ok(security(&[], required))
    }

    fn get_responses(generator: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        Ok(guard_responses(generator, false))
    }
}

impl OpenApiFromRequest<'_> for MaybeUser {
    fn from_request_input(
        _generator: &mut OpenApiGenerator,
        _name: String,
        _required: bool,
    ) -> rocket_okapi::Result<RequestHeaderInput> {
        Ok(security(&[], false))
    }

    fn get_responses(generator: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        Ok(guard_responses(generator, false))
    }
}

impl OpenApiFromRequest<'_> for BearerToken {
    fn from_request_input(
        _generator: &mut OpenApiGenerator,
        _name: String,
        required: bool,
    ) -> rocket_okapi::Result<RequestHeaderInput> {
        Ok(security(&[], required))
    }

    fn get_responses(generator: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        Ok(guard_responses(generator, false))
    }
}

impl<'r> OpenApiFromRequest<'r> for &'r Auth {
    fn from_request_input(
        _generator: &mut OpenApiGenerator,
        _name: String,
        _required: bool,
    ) -> rocket_okapi::Result<RequestHeaderInput> {
        Ok(RequestHeaderInput::None)
    }
}

// ----- schemas -----

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
            "required": ["access_token", "token_type", "expires_in", "refresh_token", "scope"],
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
                    "description": "Opaque, single-use refresh token",
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
        "client_id": { "type": "string", "description": "Optional client identifier" },
        "client_secret": {
            "type": "string",
            "format": "password",
            "description": "Optional client secret",
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
        form_schema(&["password", "refresh_token"], &[], true)
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
            "RFC 6749 §4.3.2 password grant (`username`, `password`) or §6 refresh grant \
             (`grant_type=refresh_token`, `refresh_token`). Client credentials may \
             instead come as HTTP Basic.",
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

// ----- responses -----

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

#[cfg(test)]
mod tests {
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
}
