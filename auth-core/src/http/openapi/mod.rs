//! OpenAPI 3 documents and Swagger UI with a working **Authorize** button
//! (cargo feature `openapi`), built on [`rocket_okapi`].
//!
//! Each operation's `security` is derived from the guards its handler
//! takes, so no scope is ever written twice:
//!
//! | handler | `security` of the operation |
//! |---|---|
//! | `#[protected(scopes = "a b")]` | `[{"OAuth2PasswordBearer": ["a", "b"]}]` |
//! | `#[protected(any(scopes = "a", scopes = "b c"))]` | `[{"OAuth2PasswordBearer": ["a"]}, {"OAuth2PasswordBearer": ["b", "c"]}]` |
//! | `#[protected]`, or takes [`AuthUser`](crate::AuthUser) or [`BearerToken`](crate::BearerToken) | `[{"OAuth2PasswordBearer": []}]` |
//! | takes [`MaybeUser`](crate::MaybeUser) (or an `Option` of the above) | `[{}, {"OAuth2PasswordBearer": []}]` |
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
//! sees the guard `#[protected]` adds (above `#[protected]` it is a compile
//! error that names this order; inside a protected module either order
//! works):
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

use rocket::http::Method;
use rocket::route::{Handler, Outcome};
use rocket::{Data, Request, Route};
use rocket_okapi::okapi::openapi3::{
    Header, OAuthFlows, OpenApi, Operation, ParameterValue, RefOr, Response, SecurityRequirement,
    SecurityScheme, SecuritySchemeData, Server,
};
use rocket_okapi::okapi::schemars::JsonSchema;
use rocket_okapi::swagger_ui::{SwaggerUIConfig, make_swagger_ui};
use serde_json::Value;

use crate::auth::Auth;
use crate::grant::request::{PasswordRequestForm, PasswordRequestFormStrict, TokenRequest};
use crate::scopes::ScopeRegistry;

mod api_keys;
mod clients;
mod csp;
mod guards;
mod responses;
mod schemas;
mod sessions;
#[cfg(test)]
mod tests;

pub use api_keys::API_KEY_SCHEME;
pub use clients::CLIENT_CREDENTIALS_SCHEME;
pub use csp::DOCS_CSP;
pub use schemas::ErrorBody;
pub use sessions::COOKIE_SCHEME;

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
/// from the network. Every response carries a strict
/// `Content-Security-Policy` ([`DOCS_CSP`]: scripts, styles, images and
/// requests from this origin only, no framing); `X-Content-Type-Options:
/// nosniff` comes from Rocket's `Shield`, on unless the app turns it off. The document is completed by [`complete`] on every
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
    routes.into_iter().map(csp::secured).collect()
}

/// Serves the document, completed for the request's mount point.
#[derive(Clone)]
struct DocumentHandler(OpenApi);

#[rocket::async_trait]
impl Handler for DocumentHandler {
    async fn handle<'r>(&self, request: &'r Request<'_>, _: Data<'r>) -> Outcome<'r> {
        let mut spec = self.0.clone();
        let base = request.route().map_or("/", |route| route.uri.base());
        let auth = request.rocket().state::<Auth>();
        let scopes = auth.map(|auth| auth.scopes().clone()).unwrap_or_default();
        // Behind a proxy that strips a prefix, the mount point alone is
        // not where clients reach the routes: `auth_public_base_url` is.
        let public = request
            .rocket()
            .state::<crate::http::discovery::Discovery>()
            .and_then(crate::http::discovery::Discovery::public_base);
        let documented =
            public.map(|public| format!("{}{}", public.as_str(), base.trim_end_matches('/')));
        let clients = auth
            .and_then(Auth::issuer)
            .is_some_and(|issuer| issuer.clients().is_some());
        complete_with(
            &mut spec,
            &scopes,
            documented.as_deref().unwrap_or(base),
            clients,
        );
        if let Some(browser) = auth.and_then(|auth| auth.browser.as_ref()) {
            let root = public.map_or("/", |public| public.as_str());
            sessions::document(&mut spec, &browser.access_name, base, root);
        }
        if let Some(header) = auth.and_then(Auth::api_key_header) {
            api_keys::document(&mut spec, header);
        }
        Outcome::from(request, rocket::serde::json::Json(spec))
    }
}

/// Completes a document generated by `rocket_okapi` from routes that use
/// this crate's guards, as [`docs`] does before serving it.
///
/// * Each operation's `security` becomes one requirement listing every
///   scope the handler requires (one per alternative of
///   `#[protected(any(..))]`), or `[{}, {scheme: []}]` when it takes only
///   optional authentication ([`MaybeUser`](crate::MaybeUser)).
/// * The [`SECURITY_SCHEME`] gets its password flow: `tokenUrl` and
///   `refreshUrl` (the token route, prefixed with `base`) and `scopes`.
///
/// [`docs`] also adds the [`CLIENT_CREDENTIALS_SCHEME`] when the [`Auth`]
/// has a client registry and a route takes a [`TokenRequest`]: its
/// client-credentials flow names that route, and every requirement of
/// [`SECURITY_SCHEME`] gets the same scopes under it as an alternative.
/// * `base`, the mount point of the documented routes, becomes the server
///   URL when it is not `/`. [`docs`] passes an absolute URL here when
///   `auth_public_base_url` is set (the base URL, then the mount point), so
///   that `tokenUrl`, `refreshUrl` and the server URL carry a prefix a
///   proxy strips.
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
    complete_with(spec, scopes, base, false);
}

/// [`complete`], and with `clients` the client-credentials scheme.
fn complete_with(spec: &mut OpenApi, scopes: &ScopeRegistry, base: &str, clients: bool) {
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
    let scopes: rocket_okapi::okapi::Map<String, String> = scopes
        .iter()
        .map(|(scope, description)| (scope.to_string(), description.to_owned()))
        .collect();
    // Only a route that takes a `TokenRequest` answers the
    // client-credentials grant.
    if let Some(path) = refresh_path.as_ref().filter(|_| clients) {
        clients::document(spec, url(path), &scopes);
    }
    let flow = OAuthFlows::Password {
        token_url: url(token_path.as_deref().unwrap_or("/token")),
        refresh_url: refresh_path.as_deref().map(url),
        scopes,
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
/// guards all have to pass, so our requirements combine with AND: each
/// alternative of one guard with each of another, their scopes united. The
/// result is one requirement object per alternative (OpenAPI's OR). An
/// empty requirement (optional authentication) only counts when no guard
/// requires a token. Requirements of other schemes are kept as they are.
fn normalize_security(operation: &mut Operation) {
    let Some(requirements) = operation.security.take() else {
        return;
    };
    let mut required: Option<Vec<Vec<String>>> = None;
    let mut optional = false;
    let mut others = Vec::new();
    for requirement in requirements {
        if requirement.is_empty() {
            optional = true;
        } else if requirement.keys().all(|key| is_alternative_key(key)) {
            let alternatives: Vec<Vec<String>> = requirement.into_values().collect();
            required = Some(match required {
                None => alternatives,
                Some(before) => both(&before, &alternatives),
            });
        } else {
            others.push(requirement);
        }
    }
    let mut security = match (required, optional) {
        (Some(alternatives), _) => alternatives.into_iter().map(requirement).collect(),
        (None, true) => vec![SecurityRequirement::new(), requirement(Vec::new())],
        (None, false) => Vec::new(),
    };
    security.extend(others);
    operation.security = Some(security).filter(|s| !s.is_empty());
}

/// `left` AND `right`, each a list of alternatives: every pair, its scopes
/// united in order, each distinct pair once.
fn both(left: &[Vec<String>], right: &[Vec<String>]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    for l in left {
        for r in right {
            let mut scopes = l.clone();
            for scope in r {
                if !scopes.contains(scope) {
                    scopes.push(scope.clone());
                }
            }
            if !out.contains(&scopes) {
                out.push(scopes);
            }
        }
    }
    out
}

/// The name under which a guard passes its alternative number `index` to
/// [`normalize_security`]: [`SECURITY_SCHEME`] for the first, then
/// `OAuth2PasswordBearer#001`, ... (zero-padded, so the names sort in order).
fn alternative_key(index: usize) -> String {
    if index == 0 {
        SECURITY_SCHEME.to_owned()
    } else {
        format!("{SECURITY_SCHEME}#{index:03}")
    }
}

fn is_alternative_key(key: &str) -> bool {
    key.strip_prefix(SECURITY_SCHEME)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('#'))
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
