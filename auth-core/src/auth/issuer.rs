//! [`Issuer`]: what only a server that issues tokens has: the user and
//! refresh-token stores, the password hasher, login throttling and the
//! session settings the grants (in `grant`) follow. A resource server has
//! none of it.

use std::fmt;
use std::sync::Arc;

use crate::password::PasswordHasher;
use crate::store::{ClientStore, RefreshTokenStore, UserStore};
use crate::throttle::Throttle;

/// The issuing half of [`Auth`](crate::Auth); reach it with
/// [`Auth::issuer`](crate::Auth::issuer), `None` on a resource server.
///
/// # Example
///
/// ```
/// use auth_core::{Auth, PasswordHasher};
///
/// /// The hasher to create users with: a resource server has none, as it
/// /// never sees a password.
/// fn hasher(auth: &Auth) -> Option<&PasswordHasher> {
///     auth.issuer().map(|issuer| issuer.hasher())
/// }
/// # let _ = hasher;
/// ```
pub struct Issuer {
    pub(crate) users: Arc<dyn UserStore>,
    pub(crate) refresh_tokens: Arc<dyn RefreshTokenStore>,
    /// The client registry, if any: without one, every `client_id` is a
    /// free label (a public client) and the client-credentials grant is
    /// refused.
    pub(crate) clients: Option<Arc<dyn ClientStore>>,
    pub(crate) hasher: PasswordHasher,
    pub(crate) throttle: Throttle,
    /// The `client_id` of requests that send none.
    pub(crate) default_client_id: String,
    pub(crate) refresh_ttl: u64,
    pub(crate) refresh_max_age: u64,
    /// Live sessions a user may have; a login beyond ends the oldest.
    pub(crate) max_sessions_per_user: usize,
}

impl fmt::Debug for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issuer")
            .field("hasher", &self.hasher)
            .field("default_client_id", &self.default_client_id)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("refresh_max_age", &self.refresh_max_age)
            .finish_non_exhaustive()
    }
}

impl Issuer {
    /// The user store.
    #[must_use]
    pub fn users(&self) -> &dyn UserStore {
        self.users.as_ref()
    }

    /// The refresh-token store.
    #[must_use]
    pub fn refresh_tokens(&self) -> &dyn RefreshTokenStore {
        self.refresh_tokens.as_ref()
    }

    /// The client registry, if one is configured.
    #[must_use]
    pub fn clients(&self) -> Option<&dyn ClientStore> {
        self.clients.as_deref()
    }

    /// The password hasher (use it to create users).
    #[must_use]
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }
}
