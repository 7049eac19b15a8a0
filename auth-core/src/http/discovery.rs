//! Discovery metadata, mounted by the fairing at `/`:
//!
//! * `GET /.well-known/oauth-authorization-server` (RFC 8414), on an
//!   issuer: where its token, revocation and key endpoints are, which
//!   grants and scopes it supports;
//! * `GET /.well-known/oauth-protected-resource` (RFC 9728), on an issuer
//!   (its own API) and on a resource server: which authorization servers
//!   its tokens come from, which scopes it knows, how to send a token. The
//!   `WWW-Authenticate` challenges of protected routes name it in
//!   `resource_metadata` (RFC 9728 §5.1) when `auth_public_base_url` is
//!   set.
//!
//! Every URL in them is absolute, built from `auth_public_base_url` (e.g.
//! `https://example.com/auth` behind a proxy that strips `/auth`). Without
//! it, they are built from the request's `Host` header, with the scheme
//! `https`, or `http` for a loopback host; such documents are not cached
//! (`Cache-Control: no-store`), and the launch log says to set the base
//! URL. With it, they are written once and served with
//! `Cache-Control: public, max-age=3600`.
//!
//! For an issuer or a resource whose URL has a path (`https://example.com/auth`),
//! RFC 8414 §3.1 and RFC 9728 §3.1 put the metadata at the host's root with
//! the path after the well-known name:
//! `https://example.com/.well-known/oauth-authorization-server/auth`. Both
//! forms are served: `/.well-known/<name>` and `/.well-known/<name><path>`
//! (the latter only for the configured path), so a proxy that strips the
//! prefix needs to forward the root form too (see `deploy/nginx.conf`).
//!
//! The authorization-server metadata is served only when it can be right:
//! `auth_issuer` (the `iss` of every token, and the metadata's `issuer`) is
//! an `https` URL (or `http` to a loopback host), and a `POST` route is
//! mounted at the token endpoint's path ([`DEFAULT_TOKEN_PATH`] unless set
//! with [`AuthFairing::token_endpoint`](crate::AuthFairing::token_endpoint));
//! otherwise it answers 404 and the launch log says why.

use std::io::Cursor;

use rocket::http::uri::Origin;
use rocket::http::{ContentType, Method};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::{self, Responder, Response};
use rocket::{Route, State, get};
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::config::discovery::{BaseUrl, issuer_url};

/// Where the authorization-server metadata is served (RFC 8414).
pub const AUTHORIZATION_SERVER_PATH: &str = "/.well-known/oauth-authorization-server";

/// Where the protected-resource metadata is served (RFC 9728).
pub const PROTECTED_RESOURCE_PATH: &str = "/.well-known/oauth-protected-resource";

/// The token endpoint's path unless the app says otherwise.
pub const DEFAULT_TOKEN_PATH: &str = "/token";

/// The revocation endpoint's path unless the app says otherwise.
pub const DEFAULT_REVOCATION_PATH: &str = "/revoke";

/// `max-age` of metadata built from `auth_public_base_url`, in seconds.
pub const MAX_AGE: u64 = 3600;

/// The grants the token endpoint takes: the password and refresh grants,
/// and `client_credentials` where a client registry can authenticate
/// machine clients.
fn grant_types(auth: &Auth) -> Vec<&'static str> {
    let mut grants = vec!["password", "refresh_token"];
    if has_clients(auth) {
        grants.push("client_credentials");
    }
    grants
}

/// How clients authenticate at the token and revocation endpoints: public
/// clients send no secret (`none`); with a client registry, confidential
/// clients use HTTP Basic or the form body (RFC 6749 §2.3.1).
fn client_auth_methods(auth: &Auth) -> Vec<&'static str> {
    if has_clients(auth) {
        vec!["none", "client_secret_basic", "client_secret_post"]
    } else {
        vec!["none"]
    }
}

fn has_clients(auth: &Auth) -> bool {
    auth.issuer()
        .is_some_and(|issuer| issuer.clients().is_some())
}

/// The paths of the endpoints the app mounts itself, as told to the
/// fairing.
#[derive(Debug, Clone)]
pub(crate) struct Endpoints {
    pub(crate) token: String,
    pub(crate) revocation: String,
}

impl Default for Endpoints {
    fn default() -> Self {
        Self {
            token: DEFAULT_TOKEN_PATH.to_owned(),
            revocation: DEFAULT_REVOCATION_PATH.to_owned(),
        }
    }
}

/// What the metadata routes serve; managed as Rocket state by the fairing.
#[derive(Debug)]
pub(crate) struct Discovery {
    /// `auth_public_base_url`.
    base: Option<BaseUrl>,
    /// The issuer's identifier, verbatim, and parsed; `None` on a resource
    /// server and when `auth_issuer` is not an https URL.
    issuer: Option<(String, BaseUrl)>,
    /// The mounted token endpoint (`None`: no authorization-server
    /// metadata).
    token: Option<String>,
    revocation: Option<String>,
    jwks: Option<&'static str>,
    scopes: Vec<String>,
    client_auth_methods: Vec<&'static str>,
    grant_types: Vec<&'static str>,
    /// The issuers whose tokens this server accepts.
    authorization_servers: Vec<String>,
    /// Written at launch when `base` is set.
    prebuilt: Option<Prebuilt>,
}

#[derive(Debug)]
struct Prebuilt {
    authorization_server: Option<String>,
    protected_resource: String,
}

impl Discovery {
    /// The metadata of `auth`, with the endpoints found among `routes`.
    pub(crate) fn new(
        auth: &Auth,
        base: Option<BaseUrl>,
        endpoints: &Endpoints,
        routes: &[&Route],
    ) -> Self {
        let mounted = |method: Method, path: &str| {
            routes
                .iter()
                .any(|route| route.method == method && route.uri.path() == path)
        };
        let scopes = auth.scopes().iter().map(|(s, _)| s.to_string()).collect();
        let mut discovery = if let Some(resource_server) = auth.verifier.resource_server() {
            Self {
                base,
                issuer: None,
                token: None,
                revocation: None,
                jwks: None,
                scopes,
                client_auth_methods: Vec::new(),
                grant_types: Vec::new(),
                authorization_servers: resource_server
                    .issuers()
                    .filter(|issuer| issuer_url(issuer).is_ok())
                    .map(str::to_owned)
                    .collect(),
                prebuilt: None,
            }
        } else {
            let configured = auth.tokens().issuer();
            let issuer = match issuer_url(configured) {
                Ok(parsed) => Some((configured.to_owned(), parsed)),
                Err(problem) => {
                    log::info!(
                        "auth: {AUTHORIZATION_SERVER_PATH} is not served: auth_issuer \
                         {configured:?} is not usable as an issuer identifier ({problem}); set \
                         it to the URL clients know this server by, e.g. \
                         \"https://example.com/auth\""
                    );
                    None
                }
            };
            let token = mounted(Method::Post, &endpoints.token).then(|| endpoints.token.clone());
            if issuer.is_some() && token.is_none() {
                log::warn!(
                    "auth: {AUTHORIZATION_SERVER_PATH} is not served: no POST route is mounted \
                     at the token endpoint {:?}; mount it, or name its path with \
                     AuthFairing::token_endpoint",
                    endpoints.token
                );
            }
            Self {
                base,
                authorization_servers: issuer.iter().map(|(text, _)| text.clone()).collect(),
                issuer: issuer.filter(|_| token.is_some()),
                token,
                revocation: mounted(Method::Post, &endpoints.revocation)
                    .then(|| endpoints.revocation.clone()),
                jwks: mounted(Method::Get, crate::jwks::PATH).then_some(crate::jwks::PATH),
                scopes,
                client_auth_methods: client_auth_methods(auth),
                grant_types: grant_types(auth),
                prebuilt: None,
            }
        };
        match &discovery.base {
            Some(base) => {
                discovery.prebuilt = Some(Prebuilt {
                    authorization_server: discovery
                        .authorization_server(base)
                        .map(|d| d.to_string()),
                    protected_resource: discovery.protected_resource(base).to_string(),
                });
            }
            None => log::info!(
                "auth: auth_public_base_url is not set: discovery metadata takes its URLs from \
                 each request's Host header and is not cached; set it to the URL the app is \
                 reached at"
            ),
        }
        discovery
    }

    /// `auth_public_base_url`, if set.
    #[cfg_attr(
        not(feature = "openapi"),
        allow(dead_code, reason = "read by the OpenAPI document")
    )]
    pub(crate) fn public_base(&self) -> Option<&BaseUrl> {
        self.base.as_ref()
    }

    /// The RFC 8414 document, if this server serves one.
    fn authorization_server(&self, base: &BaseUrl) -> Option<Value> {
        let (issuer, _) = self.issuer.as_ref()?;
        let token = self.token.as_deref()?;
        let mut document = json!({
            "issuer": issuer,
            "token_endpoint": base.join(token),
            "grant_types_supported": self.grant_types,
            // REQUIRED by RFC 8414 §2; there is no authorization endpoint,
            // so no response type is supported.
            "response_types_supported": [],
            "scopes_supported": self.scopes,
            "token_endpoint_auth_methods_supported": self.client_auth_methods,
        });
        if let Some(jwks) = self.jwks {
            document["jwks_uri"] = base.join(jwks).into();
        }
        if let Some(revocation) = &self.revocation {
            document["revocation_endpoint"] = base.join(revocation).into();
            document["revocation_endpoint_auth_methods_supported"] =
                self.client_auth_methods.clone().into();
        }
        Some(document)
    }

    /// The RFC 9728 document.
    fn protected_resource(&self, base: &BaseUrl) -> Value {
        let mut document = json!({
            "resource": base.as_str(),
            "scopes_supported": self.scopes,
            "bearer_methods_supported": ["header"],
        });
        if !self.authorization_servers.is_empty() {
            document["authorization_servers"] = self.authorization_servers.clone().into();
        }
        document
    }

    /// Whether `rest` (what follows the well-known name in the request's
    /// path) is the path of `url`: empty, or that path (RFC 8414 §3.1).
    fn names(url: &BaseUrl, rest: &str) -> bool {
        let rest = rest.trim_end_matches('/');
        rest.is_empty() || rest == url.path()
    }
}

/// The metadata routes: the authorization server's on an issuer, the
/// protected resource's on both.
pub(crate) fn routes(issuer: bool) -> Vec<Route> {
    if issuer {
        rocket::routes![
            authorization_server,
            authorization_server_at,
            protected_resource,
            protected_resource_at
        ]
    } else {
        rocket::routes![protected_resource, protected_resource_at]
    }
}

#[get("/.well-known/oauth-authorization-server")]
fn authorization_server(discovery: &State<Discovery>, base: RequestBase) -> Option<Metadata> {
    serve_authorization_server(discovery, base, "")
}

#[get("/.well-known/oauth-authorization-server/<_..>", rank = 2)]
fn authorization_server_at(
    discovery: &State<Discovery>,
    base: RequestBase,
    uri: &Origin<'_>,
) -> Option<Metadata> {
    let rest = uri
        .path()
        .as_str()
        .strip_prefix(AUTHORIZATION_SERVER_PATH)
        .unwrap_or("/");
    serve_authorization_server(discovery, base, rest)
}

fn serve_authorization_server(
    discovery: &Discovery,
    base: RequestBase,
    rest: &str,
) -> Option<Metadata> {
    let (_, issuer) = discovery.issuer.as_ref()?;
    if !Discovery::names(issuer, rest) {
        return None;
    }
    match &discovery.prebuilt {
        Some(prebuilt) => Some(Metadata::cached(prebuilt.authorization_server.clone()?)),
        None => Some(Metadata::uncached(
            discovery.authorization_server(&base.0?)?.to_string(),
        )),
    }
}

#[get("/.well-known/oauth-protected-resource")]
fn protected_resource(discovery: &State<Discovery>, base: RequestBase) -> Option<Metadata> {
    serve_protected_resource(discovery, base, "")
}

#[get("/.well-known/oauth-protected-resource/<_..>", rank = 2)]
fn protected_resource_at(
    discovery: &State<Discovery>,
    base: RequestBase,
    uri: &Origin<'_>,
) -> Option<Metadata> {
    let rest = uri
        .path()
        .as_str()
        .strip_prefix(PROTECTED_RESOURCE_PATH)
        .unwrap_or("/");
    serve_protected_resource(discovery, base, rest)
}

fn serve_protected_resource(
    discovery: &Discovery,
    base: RequestBase,
    rest: &str,
) -> Option<Metadata> {
    if let (Some(configured), Some(prebuilt)) = (&discovery.base, &discovery.prebuilt) {
        return Discovery::names(configured, rest)
            .then(|| Metadata::cached(prebuilt.protected_resource.clone()));
    }
    let base = base.0?;
    Discovery::names(&base, rest)
        .then(|| Metadata::uncached(discovery.protected_resource(&base).to_string()))
}

/// The base URL of a request when none is configured: `https://<Host>`,
/// or `http://<Host>` for a loopback host; `None` without a usable `Host`.
struct RequestBase(Option<BaseUrl>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for RequestBase {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        // Rocket fills in `host()` from the `Host` header of real
        // connections; local (test) requests only carry the header.
        let host = request
            .host()
            .map(ToString::to_string)
            .or_else(|| request.headers().get_one("Host").map(str::to_owned))
            .filter(|host| {
                !host.is_empty()
                    && host.bytes().all(|b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
                    })
            });
        let derived = host.and_then(|host| {
            let http = format!("http://{host}");
            let url = if crate::resource_server::is_https_or_loopback(&http) {
                http
            } else {
                format!("https://{host}")
            };
            BaseUrl::parse(&url).ok()
        });
        Outcome::Success(Self(derived))
    }
}

/// A metadata document with its caching headers.
struct Metadata {
    body: String,
    cache_control: &'static str,
}

impl Metadata {
    fn cached(body: String) -> Self {
        Self {
            body,
            cache_control: CACHED,
        }
    }

    fn uncached(body: String) -> Self {
        Self {
            body,
            cache_control: "no-store",
        }
    }
}

/// `Cache-Control` of metadata built from `auth_public_base_url`.
const CACHED: &str = "public, max-age=3600";

impl<'r> Responder<'r, 'static> for Metadata {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        Response::build()
            .header(ContentType::JSON)
            .raw_header("Cache-Control", self.cache_control)
            .sized_body(self.body.len(), Cursor::new(self.body))
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_header_says_max_age() {
        assert_eq!(CACHED, format!("public, max-age={MAX_AGE}"));
    }

    #[test]
    fn the_well_known_suffix_must_be_the_configured_path() {
        let url = BaseUrl::parse("https://example.com/auth").unwrap();
        for rest in ["", "/", "/auth", "/auth/"] {
            assert!(Discovery::names(&url, rest), "{rest:?}");
        }
        for rest in ["/other", "/auth/more", "/au"] {
            assert!(!Discovery::names(&url, rest), "{rest:?}");
        }
        let root = BaseUrl::parse("https://example.com").unwrap();
        assert!(Discovery::names(&root, ""));
        assert!(!Discovery::names(&root, "/auth"));
    }
}
