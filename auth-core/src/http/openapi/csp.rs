//! The Content-Security-Policy of the Swagger UI page, its assets and the
//! document. (`X-Content-Type-Options: nosniff` comes from Rocket's
//! `Shield`, on by default, which refuses to overwrite a header a handler
//! set: setting it here would only add a warning per response.)
//!
//! Swagger UI's `index.html` loads its scripts from files
//! (`swagger-ui-bundle.js`, `swagger-initializer.js`), so scripts and
//! styles come from `'self'`. Two inline pieces remain, each allowed by its
//! SHA-256 hash: the `<style>` inside the Swagger logo (an inline SVG the
//! bundle renders), and the one inline script, in
//! `oauth2-redirect.html` (used by the authorization-code flow, not by the
//! password flow), is allowed by its SHA-256 hash; a test recomputes it
//! from the served page, so an update of `rocket_okapi` that changes the
//! script fails the tests instead of breaking the page.

use rocket::http::Header;
use rocket::route::{Handler, Outcome, Route};
use rocket::{Data, Request};

/// The `Content-Security-Policy` of every route [`super::docs`] serves:
/// nothing from other origins, no inline code but the redirect page's
/// script and the logo's style (by their hashes), no framing, no `<base>`,
/// forms only to this origin.
pub const DOCS_CSP: &str = concat!(
    "default-src 'none'; ",
    "script-src 'self' 'sha256-4IiDsMH+GkJlxivIDNfi6qk0O5HPtzyvNwVT3Wt8TIw='; ",
    "style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; ",
    "img-src 'self' data:; ",
    "connect-src 'self'; ",
    "frame-ancestors 'none'; ",
    "base-uri 'none'; ",
    "form-action 'self'"
);

/// `route` answering with [`DOCS_CSP`].
pub(crate) fn secured(mut route: Route) -> Route {
    route.handler = Box::new(Secured(route.handler));
    route
}

/// A handler whose successful responses carry [`DOCS_CSP`].
#[derive(Clone)]
struct Secured(Box<dyn Handler>);

#[rocket::async_trait]
impl Handler for Secured {
    async fn handle<'r>(&self, request: &'r Request<'_>, data: Data<'r>) -> Outcome<'r> {
        match self.0.handle(request, data).await {
            Outcome::Success(mut response) => {
                response.set_header(Header::new("Content-Security-Policy", DOCS_CSP));
                Outcome::Success(response)
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use base64::Engine as _;
    use rocket::local::blocking::Client;
    use sha2::Digest as _;

    /// The SHA-256 of the inline script of Swagger UI's
    /// `oauth2-redirect.html`, as [`DOCS_CSP`] names it.
    const OAUTH2_REDIRECT_SCRIPT: &str = "'sha256-4IiDsMH+GkJlxivIDNfi6qk0O5HPtzyvNwVT3Wt8TIw='";

    fn client() -> Client {
        let rocket = rocket::custom(rocket::Config::figment().merge(("log_level", "off"))).mount(
            "/",
            super::super::docs(rocket_okapi::okapi::openapi3::OpenApi::default()),
        );
        Client::untracked(rocket).expect("valid rocket")
    }

    #[test]
    fn every_docs_response_carries_the_policy_and_nosniff() {
        let client = client();
        for path in [
            "/docs/index.html",
            "/docs/swagger-ui-bundle.js",
            "/docs/swagger-initializer.js",
            "/docs/swagger-ui.css",
            "/docs/swagger-ui-config.json",
            "/docs/oauth2-redirect.html",
            "/openapi.json",
        ] {
            let response = client.get(path).dispatch();
            assert_eq!(response.status().code, 200, "{path}");
            let headers = response.headers();
            assert_eq!(
                headers.get_one("Content-Security-Policy"),
                Some(DOCS_CSP),
                "{path}"
            );
            assert_eq!(
                headers.get_one("X-Content-Type-Options"),
                Some("nosniff"),
                "{path}"
            );
        }
        for directive in [
            "default-src 'none'",
            "connect-src 'self'",
            "img-src 'self' data:",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        ] {
            assert!(DOCS_CSP.contains(directive), "{directive}");
        }
        assert!(!DOCS_CSP.contains("unsafe-inline") && !DOCS_CSP.contains("unsafe-eval"));
    }

    #[test]
    fn the_only_inline_script_is_allowed_by_its_hash() {
        assert!(DOCS_CSP.contains(OAUTH2_REDIRECT_SCRIPT), "{DOCS_CSP}");
        let client = client();
        let index = client
            .get("/docs/index.html")
            .dispatch()
            .into_string()
            .unwrap();
        assert!(
            !index.contains("<script>"),
            "index.html has an inline script"
        );
        let page = client
            .get("/docs/oauth2-redirect.html")
            .dispatch()
            .into_string()
            .unwrap();
        let start = page.find("<script>").expect("the inline script") + "<script>".len();
        let end = start + page[start..].find("</script>").expect("its end");
        let digest = sha2::Sha256::digest(&page.as_bytes()[start..end]);
        let hash = base64::engine::general_purpose::STANDARD.encode(digest);
        assert_eq!(OAUTH2_REDIRECT_SCRIPT, format!("'sha256-{hash}'"));
    }
}
