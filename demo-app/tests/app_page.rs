//! The browser page `/app` and its assets: served with the right media
//! types and a strict Content-Security-Policy, and written so that the
//! policy holds (no inline script, no inline style, no `eval`).

use rocket::figment::Figment;
use rocket::http::Status;
use rocket::local::blocking::{Client, LocalResponse};

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                   connect-src 'self'; img-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

/// The demo on a temporary database, and the directory holding it.
fn client() -> (Client, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let figment = Figment::from(rocket::Config::debug_default())
        .merge((
            "database_url",
            format!("sqlite://{}", dir.path().join("demo.db").display()),
        ))
        .merge(("auth_secret", "app-page-tests-secret-0123456789-abcdefghij"))
        .merge(("log_level", "critical"));
    let client = Client::tracked(demo_app::rocket_from(figment)).expect("the demo ignites");
    (client, dir)
}

fn header<'a>(response: &'a LocalResponse<'_>, name: &str) -> Option<&'a str> {
    response.headers().get_one(name)
}

#[test]
fn page_and_assets_are_served_under_the_policy() {
    let (client, _dir) = client();
    for (path, media_type, cache) in [
        ("/app", "text/html; charset=utf-8", "no-store"),
        ("/app/app.js", "text/javascript", "no-cache"),
        ("/app/app.css", "text/css; charset=utf-8", "no-cache"),
        ("/app/icon.svg", "image/svg+xml", "no-cache"),
    ] {
        let response = client.get(path).dispatch();
        assert_eq!(response.status(), Status::Ok, "{path}");
        assert_eq!(
            header(&response, "Content-Type"),
            Some(media_type),
            "{path}"
        );
        assert_eq!(
            header(&response, "Content-Security-Policy"),
            Some(CSP),
            "{path}"
        );
        assert_eq!(
            header(&response, "X-Content-Type-Options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            header(&response, "Referrer-Policy"),
            Some("no-referrer"),
            "{path}"
        );
        assert_eq!(header(&response, "Cache-Control"), Some(cache), "{path}");
        assert_eq!(
            response.headers().get("Content-Security-Policy").count(),
            1,
            "{path}: one policy"
        );
        assert!(!response.into_string().unwrap_or_default().is_empty());
    }
}

/// The page's HTML, lower-cased.
fn page(client: &Client) -> String {
    client
        .get("/app")
        .dispatch()
        .into_string()
        .expect("a body")
        .to_ascii_lowercase()
}

#[test]
fn the_page_has_no_inline_script_or_style() {
    let (client, _dir) = client();
    let html = page(&client);
    let mut scripts = 0;
    let mut rest = html.as_str();
    while let Some(start) = rest.find("<script") {
        let tag = &rest[start..];
        let open_end = tag.find('>').expect("the script tag ends");
        assert!(
            tag[..open_end].contains(" src=\"/app/"),
            "a script from the page's own files: {}",
            &tag[..open_end]
        );
        assert!(
            tag[open_end + 1..].starts_with("</script>"),
            "an external script has an empty body"
        );
        scripts += 1;
        rest = &tag[open_end..];
    }
    assert_eq!(scripts, 1, "the page loads its script");
    assert!(!html.contains("style="), "no style attribute");
    assert!(!html.contains("<style"), "no style element");
    assert!(!html.contains("javascript:"), "no javascript: URL");
    // No event-handler attributes (onclick=, onload=, ...).
    for (at, _) in html.match_indices(" on") {
        let name: String = html[at + 1..]
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect();
        assert!(
            !html[at + 1 + name.len()..].starts_with('='),
            "event handler attribute {name}"
        );
    }
}

#[test]
fn every_file_the_page_names_is_served() {
    let (client, _dir) = client();
    let html = page(&client);
    let mut named = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for (at, _) in html.match_indices(attribute) {
            let value = &html[at + attribute.len()..];
            let url = &value[..value.find('"').expect("a closed attribute")];
            named.push(url.to_owned());
        }
    }
    assert!(named.iter().any(|url| url == "/app/app.css"), "{named:?}");
    for url in &named {
        assert!(url.starts_with("/app/"), "only the page's own files: {url}");
        assert_eq!(
            client.get(url.as_str()).dispatch().status(),
            Status::Ok,
            "{url}"
        );
    }
}

#[test]
fn the_script_neither_evaluates_code_nor_writes_html() {
    let (client, _dir) = client();
    let script = client
        .get("/app/app.js")
        .dispatch()
        .into_string()
        .expect("a body");
    for banned in [
        "eval(",
        "new Function",
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "localStorage",
        "sessionStorage",
        "document.cookie",
        ".style",
    ] {
        assert!(!script.contains(banned), "app.js uses {banned}");
    }
}
