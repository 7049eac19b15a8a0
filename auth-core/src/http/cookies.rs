//! Cookie sessions on the wire: the cookies themselves (attributes from
//! [`BrowserSessions`]), the same-origin check, and the CSRF check every
//! cookie-authenticated unsafe request passes before its handler runs.

use rocket::Request;
use rocket::http::{Cookie, CookieJar, Method};

use crate::auth::browser::{BrowserSessions, CSRF_HEADER};
use crate::config::SameSite;
use crate::error::{AuthError, CsrfProblem};

/// The refresh cookie's path: `POST /session/refresh` and `DELETE /session`
/// (which revokes the family it names) get it; the API never does.
pub(crate) const SESSION_PATH: &str = "/session";

/// Whether a request with this method changes state (RFC 9110 §9.2.1).
pub(crate) fn is_unsafe(method: Method) -> bool {
    !matches!(method, Method::Get | Method::Head | Method::Options)
}

/// A session cookie with every attribute set.
fn cookie(
    browser: &BrowserSessions,
    name: &str,
    value: String,
    path: &'static str,
    max_age: i64,
) -> Cookie<'static> {
    let mut builder = Cookie::build((name.to_owned(), value))
        .path(path)
        .http_only(true)
        .secure(browser.secure)
        .same_site(match browser.same_site {
            SameSite::Strict => rocket::http::SameSite::Strict,
            SameSite::Lax => rocket::http::SameSite::Lax,
            SameSite::None => rocket::http::SameSite::None,
        })
        .max_age(rocket::time::Duration::seconds(max_age));
    if let Some(domain) = &browser.domain {
        builder = builder.domain(domain.clone());
    }
    builder.build()
}

/// Sets the access and refresh cookies, each living as long as its token.
pub(crate) fn set_session(
    jar: &CookieJar<'_>,
    browser: &BrowserSessions,
    access_token: String,
    access_ttl: u64,
    refresh_token: String,
    refresh_ttl: u64,
) {
    let seconds = |ttl: u64| i64::try_from(ttl).unwrap_or(i64::MAX);
    jar.add(cookie(
        browser,
        &browser.access_name,
        access_token,
        "/",
        seconds(access_ttl),
    ));
    jar.add(cookie(
        browser,
        &browser.refresh_name,
        refresh_token,
        SESSION_PATH,
        seconds(refresh_ttl),
    ));
}

/// Tells the browser to drop both cookies: the same names, paths and
/// attributes, empty and already expired.
pub(crate) fn clear_session(jar: &CookieJar<'_>, browser: &BrowserSessions) {
    jar.add(cookie(browser, &browser.access_name, String::new(), "/", 0));
    jar.add(cookie(
        browser,
        &browser.refresh_name,
        String::new(),
        SESSION_PATH,
        0,
    ));
}

/// The value of the cookie `name`, if the request has one that is not empty.
pub(crate) fn value<'r>(request: &'r Request<'_>, name: &str) -> Option<&'r str> {
    request
        .cookies()
        .get(name)
        .map(Cookie::value)
        .filter(|v| !v.is_empty())
}

/// Whether the request comes from a page of this server or of an allowed
/// origin: `Origin` (or, without it, `Sec-Fetch-Site`) must say so. A
/// request with neither header passes only if `absent_ok` (a login from a
/// script: browsers always send `Origin` on a POST).
pub(crate) fn check_origin(
    request: &Request<'_>,
    browser: &BrowserSessions,
    absent_ok: bool,
) -> Result<(), CsrfProblem> {
    let headers = request.headers();
    let origin = headers.get_one("Origin");
    let allowed = origin.is_some_and(|o| browser.allows_origin(o));
    match headers.get_one("Sec-Fetch-Site") {
        None | Some("same-origin") => {}
        // A page of an allowed origin may be another site or subdomain.
        Some("same-site" | "cross-site") if allowed => {}
        Some(_) => return Err(CsrfProblem::ForeignOrigin),
    }
    match origin {
        Some(origin) if allowed || is_own_origin(origin, headers.get_one("Host")) => Ok(()),
        Some(_) => Err(CsrfProblem::ForeignOrigin),
        None if headers.get_one("Sec-Fetch-Site").is_some() || absent_ok => Ok(()),
        None => Err(CsrfProblem::NoOrigin),
    }
}

/// Whether `origin` (`scheme://host[:port]`) names the host the request
/// was sent to. The scheme is not compared: behind a proxy that ends TLS the
/// server cannot see it, and `Secure` cookies are not sent to plain http.
fn is_own_origin(origin: &str, host: Option<&str>) -> bool {
    let Some(host) = host else {
        return false;
    };
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    let default_port = match scheme {
        "https" => ":443",
        "http" => ":80",
        _ => return false,
    };
    let strip = |a: &str| {
        a.strip_suffix(default_port)
            .map_or_else(|| a.to_owned(), str::to_owned)
    };
    strip(authority).eq_ignore_ascii_case(&strip(host))
}

/// The check of a cookie-authenticated request whose token names the
/// session `sid`: safe methods pass; unsafe ones need the same origin and
/// the session's CSRF token in [`CSRF_HEADER`].
pub(crate) fn check_csrf(
    request: &Request<'_>,
    browser: &BrowserSessions,
    sid: Option<&str>,
) -> Result<(), AuthError> {
    if !is_unsafe(request.method()) {
        return Ok(());
    }
    check_origin(request, browser, false).map_err(AuthError::CrossSite)?;
    let mut presented = request.headers().get(CSRF_HEADER);
    let (Some(token), None) = (presented.next(), presented.next()) else {
        return Err(AuthError::CrossSite(CsrfProblem::MissingToken));
    };
    match sid {
        Some(sid) if browser.csrf_matches(sid, token) => Ok(()),
        _ => Err(AuthError::CrossSite(CsrfProblem::WrongToken)),
    }
}

#[cfg(test)]
mod tests {
    use super::is_own_origin;

    #[test]
    fn own_origin_compares_host_and_port() {
        let own = |origin, host| is_own_origin(origin, Some(host));
        assert!(own("https://api.example.com", "api.example.com"));
        assert!(own("https://api.example.com", "API.example.com:443"));
        assert!(own("http://localhost:8000", "localhost:8000"));
        assert!(!own("http://localhost:8001", "localhost:8000"));
        assert!(!own("https://api.example.com.evil.test", "api.example.com"));
        assert!(!own("https://evil.test", "api.example.com"));
        assert!(!own("null", "api.example.com"));
        assert!(!own("ftp://api.example.com", "api.example.com"));
        assert!(!is_own_origin("https://api.example.com", None));
    }
}
