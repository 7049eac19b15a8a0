//! Browser-session settings (`auth_cookie_*`, `auth_csrf_secret`): the
//! cookie names and attributes, the origins allowed to send credentialed
//! requests, and their checks at launch.

use std::fmt;

use serde::Deserialize;

use super::ConfigError;

/// The default name of the access-token cookie: `__Host-` makes the browser
/// insist on `Secure`, `Path=/` and no `Domain`.
pub const DEFAULT_ACCESS_COOKIE: &str = "__Host-access";

/// The default name of the refresh-token cookie: `__Secure-`, because a
/// `__Host-` cookie must have `Path=/` and this one is sent to `/session`
/// only.
pub const DEFAULT_REFRESH_COOKIE: &str = "__Secure-refresh";

/// The shortest `auth_csrf_secret` accepted, in bytes.
pub const MIN_CSRF_SECRET_LEN: usize = 32;

/// The cookies' `SameSite` attribute (`auth_cookie_same_site`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SameSite {
    /// Sent on same-site requests only, navigations from elsewhere included
    /// (the default).
    #[default]
    Strict,
    /// Also sent on top-level navigations from other sites, e.g. a link in
    /// an e-mail opening a server-rendered page logged in.
    Lax,
    /// Sent on cross-site requests too; needs `Secure` and, for an app on
    /// another site, `auth_cookie_allowed_origins`.
    None,
}

/// The browser-session settings, part of [`AuthConfig`](super::AuthConfig).
///
/// `Debug` does not show the CSRF secret.
#[derive(Clone, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct CookieConfig {
    /// Serve `POST /session`, `POST /session/refresh`, `GET /session` and
    /// `DELETE /session`, and accept the access cookie in the guards.
    #[serde(rename = "auth_cookie_sessions")]
    pub enabled: bool,
    /// The access-token cookie's name.
    #[serde(rename = "auth_cookie_access_name")]
    pub access_name: String,
    /// The refresh-token cookie's name.
    #[serde(rename = "auth_cookie_refresh_name")]
    pub refresh_name: String,
    /// `strict` (default), `lax` or `none`.
    #[serde(rename = "auth_cookie_same_site")]
    pub same_site: SameSite,
    /// The `Secure` attribute; only a plain-http development setup without
    /// `__Host-`/`__Secure-` names may turn it off.
    #[serde(rename = "auth_cookie_secure")]
    pub secure: bool,
    /// The `Domain` attribute, to share the cookies with subdomains; not
    /// with a `__Host-` name.
    #[serde(rename = "auth_cookie_domain")]
    pub domain: Option<String>,
    /// Origins (`https://app.example.com`) besides the server's own whose
    /// pages may send credentialed requests: they pass the origin check and
    /// get CORS answers with credentials. No wildcard.
    #[serde(rename = "auth_cookie_allowed_origins")]
    pub allowed_origins: Vec<String>,
    /// The key CSRF tokens are derived with; at least 32 bytes. Unset, it is
    /// derived from `auth_secret`, or random per process (then several
    /// instances disagree: set it when signing with a key pair).
    #[serde(rename = "auth_csrf_secret")]
    pub csrf_secret: Option<String>,
}

impl Default for CookieConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            access_name: DEFAULT_ACCESS_COOKIE.to_owned(),
            refresh_name: DEFAULT_REFRESH_COOKIE.to_owned(),
            same_site: SameSite::Strict,
            secure: true,
            domain: None,
            allowed_origins: Vec::new(),
            csrf_secret: None,
        }
    }
}

impl fmt::Debug for CookieConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CookieConfig")
            .field("enabled", &self.enabled)
            .field("access_name", &self.access_name)
            .field("refresh_name", &self.refresh_name)
            .field("same_site", &self.same_site)
            .field("secure", &self.secure)
            .field("domain", &self.domain)
            .field("allowed_origins", &self.allowed_origins)
            .field(
                "csrf_secret",
                &self.csrf_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl CookieConfig {
    /// Checks the settings a browser would reject or an attacker could use.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Cookie`] naming the setting and what to change.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let refuse =
            |setting: &'static str, problem: String| Err(ConfigError::Cookie { setting, problem });
        for (setting, name) in [
            ("auth_cookie_access_name", &self.access_name),
            ("auth_cookie_refresh_name", &self.refresh_name),
        ] {
            if !is_cookie_name(name) {
                return refuse(
                    setting,
                    format!("{name:?} is not a cookie name (letters, digits and -_.!#$%&'*+^`|~)"),
                );
            }
            let prefixed = name.starts_with("__Host-") || name.starts_with("__Secure-");
            if prefixed && !self.secure {
                return refuse(
                    setting,
                    format!(
                        "{name:?} needs the Secure attribute, which auth_cookie_secure = false \
                         turns off; browsers drop such cookies"
                    ),
                );
            }
            if name.starts_with("__Host-") && self.domain.is_some() {
                return refuse(
                    setting,
                    format!("a __Host- cookie ({name:?}) cannot have auth_cookie_domain"),
                );
            }
        }
        if self.refresh_name.starts_with("__Host-") {
            return refuse(
                "auth_cookie_refresh_name",
                "the refresh cookie is sent to /session only, and a __Host- cookie must have \
                 Path=/; use a __Secure- name"
                    .to_owned(),
            );
        }
        if self.access_name == self.refresh_name {
            return refuse(
                "auth_cookie_refresh_name",
                "the refresh cookie needs a name of its own".to_owned(),
            );
        }
        if self.same_site == SameSite::None && !self.secure {
            return refuse(
                "auth_cookie_same_site",
                "SameSite=None needs Secure (auth_cookie_secure = true); browsers reject it \
                 otherwise"
                    .to_owned(),
            );
        }
        if let Some(domain) = &self.domain
            && (domain.is_empty() || domain.contains(['/', ':', ';', ',', ' ']))
        {
            return refuse(
                "auth_cookie_domain",
                format!("{domain:?} is not a host name"),
            );
        }
        for origin in &self.allowed_origins {
            if let Err(problem) = check_origin(origin) {
                return refuse("auth_cookie_allowed_origins", problem);
            }
        }
        if let Some(secret) = &self.csrf_secret
            && secret.len() < MIN_CSRF_SECRET_LEN
        {
            return refuse(
                "auth_csrf_secret",
                format!(
                    "at least {MIN_CSRF_SECRET_LEN} bytes are needed, not {}",
                    secret.len()
                ),
            );
        }
        Ok(())
    }
}

/// An RFC 6265 cookie-name: an RFC 9110 token.
fn is_cookie_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// An allowed origin must be exactly what browsers send in `Origin`:
/// `scheme://host[:port]`, no path, no wildcard, not `null`.
fn check_origin(origin: &str) -> Result<(), String> {
    if origin == "*" || origin.contains('*') {
        return Err(format!(
            "{origin:?}: a wildcard origin with credentials would let every site act as the \
             logged-in user; list the origins"
        ));
    }
    let Some((scheme, rest)) = origin.split_once("://") else {
        return Err(format!(
            "{origin:?} is not an origin like https://app.example.com"
        ));
    };
    if !matches!(scheme, "https" | "http") {
        return Err(format!("{origin:?}: only http and https origins"));
    }
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
        return Err(format!(
            "{origin:?} is not an origin like https://app.example.com (no path, no slash at the end)"
        ));
    }
    if origin.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(format!(
            "{origin:?}: write the origin in lower case, as browsers send it"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(change: impl FnOnce(&mut CookieConfig)) -> &'static str {
        let mut config = CookieConfig::default();
        change(&mut config);
        match config.validate() {
            Err(ConfigError::Cookie { setting, .. }) => setting,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_valid_and_strict() {
        let config = CookieConfig::default();
        assert!(config.validate().is_ok());
        assert_eq!(config.same_site, SameSite::Strict);
        assert!(config.secure);
        assert!(config.access_name.starts_with("__Host-"));
        assert!(config.refresh_name.starts_with("__Secure-"));
    }

    #[test]
    fn unsafe_combinations_are_refused() {
        assert_eq!(
            refused(|c| {
                c.same_site = SameSite::None;
                c.secure = false;
                c.access_name = "access".into();
                c.refresh_name = "refresh".into();
            }),
            "auth_cookie_same_site"
        );
        assert_eq!(refused(|c| c.secure = false), "auth_cookie_access_name");
        assert_eq!(
            refused(|c| c.domain = Some("example.com".into())),
            "auth_cookie_access_name"
        );
        assert_eq!(
            refused(|c| c.refresh_name = "__Host-refresh".into()),
            "auth_cookie_refresh_name"
        );
        assert_eq!(
            refused(|c| c.refresh_name = c.access_name.clone()),
            "auth_cookie_refresh_name"
        );
        assert_eq!(
            refused(|c| c.access_name = "bad name".into()),
            "auth_cookie_access_name"
        );
        for origin in [
            "*",
            "https://*.example.com",
            "null",
            "https://app.example.com/",
            "ftp://x",
            "https://App.example.com",
        ] {
            assert_eq!(
                refused(|c| c.allowed_origins = vec![origin.into()]),
                "auth_cookie_allowed_origins",
                "{origin}"
            );
        }
        assert_eq!(
            refused(|c| c.csrf_secret = Some("short".into())),
            "auth_csrf_secret"
        );
    }

    #[test]
    fn plain_names_may_drop_secure_for_development() {
        let config = CookieConfig {
            secure: false,
            access_name: "access".into(),
            refresh_name: "refresh".into(),
            same_site: SameSite::Lax,
            allowed_origins: vec!["http://localhost:5173".into()],
            ..CookieConfig::default()
        };
        assert!(config.validate().is_ok());
    }

    #[test]
    fn debug_hides_the_csrf_secret() {
        let config = CookieConfig {
            csrf_secret: Some("s".repeat(40)),
            ..CookieConfig::default()
        };
        assert!(!format!("{config:?}").contains("sss"));
    }
}
