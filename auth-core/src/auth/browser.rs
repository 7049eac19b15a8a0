//! [`BrowserSessions`]: what an issuer with cookie sessions keeps: the
//! cookies' names and attributes, the origins allowed besides its own, and
//! the key of the CSRF tokens. Rocket's cookie types are built from it in
//! `http::cookies`.
//!
//! The CSRF defence is a token derived from the session: HMAC-SHA256 of the
//! session id (the refresh-token family, the access token's `sid`) under a
//! server key. The page gets it in the JSON of `POST /session` and
//! `GET /session`, keeps it in memory, and sends it as `X-CSRF-Token`. A
//! page on another origin cannot read those answers (no CORS grant) nor the
//! `HttpOnly` cookie it is derived from, so it cannot send the header; no
//! state is stored, and every instance sharing the key agrees.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac as _};
use rand::RngCore as _;
use sha2::Sha256;

use crate::config::{CookieConfig, SameSite};

/// The header a cookie-authenticated unsafe request carries its CSRF token
/// in.
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// Cookie sessions as configured; see the module documentation.
pub(crate) struct BrowserSessions {
    pub(crate) access_name: String,
    pub(crate) refresh_name: String,
    pub(crate) same_site: SameSite,
    pub(crate) secure: bool,
    pub(crate) domain: Option<String>,
    /// Lower case, as browsers send them.
    pub(crate) allowed_origins: Vec<String>,
    csrf_key: Hmac<Sha256>,
}

impl std::fmt::Debug for BrowserSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrowserSessions")
            .field("access_name", &self.access_name)
            .field("refresh_name", &self.refresh_name)
            .field("same_site", &self.same_site)
            .field("allowed_origins", &self.allowed_origins)
            .finish_non_exhaustive()
    }
}

impl BrowserSessions {
    /// The sessions of `config`. The CSRF key is `auth_csrf_secret`, else
    /// derived from `auth_secret` (`signing_secret`), else random: then
    /// each process has its own and a warning says so.
    pub(crate) fn new(config: &CookieConfig, signing_secret: Option<&str>) -> Self {
        let key: Vec<u8> = if let Some(secret) = &config.csrf_secret {
            secret.as_bytes().to_vec()
        } else if let Some(secret) = signing_secret {
            // A key of its own, not the signing secret itself.
            let mut mac = keyed(secret.as_bytes());
            mac.update(b"auth-core csrf key v1");
            mac.finalize().into_bytes().to_vec()
        } else {
            log::warn!(
                "auth: cookie sessions without auth_csrf_secret or auth_secret: CSRF tokens use a \
                 random key of this process, so several instances behind one address refuse each \
                 other's; set auth_csrf_secret"
            );
            let mut key = vec![0; 32];
            rand::rngs::OsRng.fill_bytes(&mut key);
            key
        };
        Self {
            access_name: config.access_name.clone(),
            refresh_name: config.refresh_name.clone(),
            same_site: config.same_site,
            secure: config.secure,
            domain: config.domain.clone(),
            allowed_origins: config.allowed_origins.clone(),
            csrf_key: keyed(&key),
        }
    }

    /// The CSRF token of the session `sid`: 43 base64url characters.
    pub(crate) fn csrf_token(&self, sid: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.csrf_mac(sid).finalize().into_bytes())
    }

    /// Whether `presented` is the CSRF token of `sid`, compared in constant
    /// time.
    pub(crate) fn csrf_matches(&self, sid: &str, presented: &str) -> bool {
        // A longer header is not a token; do not decode it.
        if presented.len() != 43 {
            return false;
        }
        let Ok(tag) = URL_SAFE_NO_PAD.decode(presented) else {
            return false;
        };
        self.csrf_mac(sid).verify_slice(&tag).is_ok()
    }

    /// Whether `origin` (an `Origin` header's value) is one of the allowed
    /// origins.
    pub(crate) fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(origin))
    }

    fn csrf_mac(&self, sid: &str) -> Hmac<Sha256> {
        let mut mac = self.csrf_key.clone();
        mac.update(b"csrf\0");
        mac.update(sid.as_bytes());
        mac
    }
}

fn keyed(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length.
    Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions(csrf_secret: Option<&str>, signing: Option<&str>) -> BrowserSessions {
        let config = CookieConfig {
            csrf_secret: csrf_secret.map(str::to_owned),
            ..CookieConfig::default()
        };
        BrowserSessions::new(&config, signing)
    }

    #[test]
    fn the_token_is_bound_to_the_session_and_the_key() {
        let a = sessions(Some(&"k".repeat(32)), None);
        let token = a.csrf_token("family-1");
        assert_eq!(token.len(), 43);
        assert!(a.csrf_matches("family-1", &token));
        assert!(!a.csrf_matches("family-2", &token));
        assert!(!a.csrf_matches("family-1", &a.csrf_token("family-2")));
        assert!(!a.csrf_matches("family-1", ""));
        assert!(!a.csrf_matches("family-1", &format!("{token}x")));
        assert!(!a.csrf_matches("family-1", &"!".repeat(43)));
        let other_key = sessions(Some(&"j".repeat(32)), None);
        assert!(!other_key.csrf_matches("family-1", &token));
    }

    #[test]
    fn instances_sharing_a_secret_agree() {
        let signing = "0123456789abcdef0123456789abcdef";
        let one = sessions(None, Some(signing));
        let two = sessions(None, Some(signing));
        assert!(two.csrf_matches("s", &one.csrf_token("s")));
        // Derived, not the signing secret itself.
        let raw = sessions(Some(signing), None);
        assert!(!raw.csrf_matches("s", &one.csrf_token("s")));
        // Without any secret each process has its own key.
        let three = sessions(None, None);
        let four = sessions(None, None);
        assert!(!four.csrf_matches("s", &three.csrf_token("s")));
    }

    #[test]
    fn allowed_origins_match_exactly() {
        let config = CookieConfig {
            allowed_origins: vec!["https://app.example.com".into()],
            ..CookieConfig::default()
        };
        let sessions = BrowserSessions::new(&config, None);
        assert!(sessions.allows_origin("https://app.example.com"));
        assert!(!sessions.allows_origin("https://app.example.com.evil.test"));
        assert!(!sessions.allows_origin("http://app.example.com"));
        assert!(!sessions.allows_origin("null"));
    }
}
