//! Support for an app's own tests: calling a `#[protected]` handler
//! directly, and minting access tokens for test users to send through
//! Rocket's local client.

use std::fmt;
use std::marker::PhantomData;

use rocket::http::Header;
use rocket::{Orbit, Rocket};

use crate::auth::Auth;
use crate::http::guard::{Protected, RequiredScopes};
use crate::scopes::Scopes;
use crate::store::{MemoryUserStore, UserRecord};

impl<S: RequiredScopes> Protected<S> {
    /// A guard value for calling a `#[protected]` handler as a plain
    /// function, the way Rocket's own examples test handlers (`index()`).
    ///
    /// # Example
    ///
    /// ```
    /// use auth_core::{Protected, protected};
    /// use rocket::get;
    ///
    /// #[protected(scopes = "read:items")]
    /// #[get("/items")]
    /// fn items() -> &'static str {
    ///     "[]"
    /// }
    ///
    /// assert_eq!(items(Protected::for_tests()), "[]");
    /// ```
    ///
    /// # Security
    ///
    /// This does not open a way around authentication. Over HTTP, Rocket
    /// makes every guard through its `FromRequest` implementation, which
    /// checks the token and the scopes; a value made here only exists in
    /// the code that calls the handler itself. To test a route over HTTP,
    /// send a real token instead (see [`TestUser`]).
    #[must_use]
    pub fn for_tests() -> Self {
        Self(PhantomData)
    }
}

impl<S: RequiredScopes> fmt::Debug for Protected<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Protected").field(&S::SCOPES).finish()
    }
}

/// A user for integration tests: put it in a [`MemoryUserStore`] and send
/// requests with its access token through Rocket's local client, without
/// a password or a call to the token endpoint (Spring's `jwt()`, FastAPI's
/// `dependency_overrides`).
///
/// The token is a real access token signed with the app's keys, so every
/// check of the guards runs: the subject must be in the app's user store
/// and enabled, and `#[protected(scopes = "..")]` compares the scopes given
/// here. A test user has no password; logging in as one fails with
/// `invalid_grant`.
///
/// # Example
///
/// ```
/// use auth_core::{Auth, AuthUser, MemoryUserStore, TestUser, protected};
/// use rocket::http::Status;
/// use rocket::local::blocking::Client;
/// use rocket::{get, routes};
///
/// #[protected(scopes = "read:items")]
/// #[get("/items")]
/// fn items(user: AuthUser) -> String {
///     format!("items of {}", user.subject())
/// }
///
/// let users = MemoryUserStore::new();
/// let alice = TestUser::new("alice").scopes("read:items").insert_into(&users);
/// let bob = TestUser::new("bob").insert_into(&users);
///
/// let rocket = rocket::build()
///     .attach(Auth::fairing().users(users).scope("read:items", "Read items"))
///     .mount("/", routes![items]);
/// let client = Client::tracked(rocket).unwrap();
///
/// let response = client.get("/items").header(alice.bearer(client.rocket())).dispatch();
/// assert_eq!(response.status(), Status::Ok);
/// assert_eq!(response.into_string().unwrap(), "items of alice");
///
/// let response = client.get("/items").header(bob.bearer(client.rocket())).dispatch();
/// assert_eq!(response.status(), Status::Forbidden);
/// ```
///
/// With another store (SQLite, your own), create the user with that
/// store's API, e.g. from [`TestUser::record`], then use
/// [`TestUser::token`] or [`TestUser::bearer`] as above.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestUser {
    username: String,
    scopes: Scopes,
}

impl TestUser {
    /// The `client_id` claim of the tokens a test user gets.
    pub const CLIENT_ID: &'static str = "test-client";

    /// A user named `username`, with no scopes.
    #[must_use]
    pub fn new(username: &str) -> Self {
        Self {
            username: username.to_owned(),
            scopes: Scopes::new(),
        }
    }

    /// Gives the user these space-separated scopes, e.g.
    /// `"read:items write:items"`.
    ///
    /// # Panics
    ///
    /// If `scopes` is not an RFC 6749 §3.3 scope list; a test should fail
    /// loudly on a typo.
    #[must_use]
    pub fn scopes(mut self, scopes: &str) -> Self {
        self.scopes =
            Scopes::parse(scopes).unwrap_or_else(|e| panic!("TestUser::scopes({scopes:?}): {e}"));
        self
    }

    /// The username, also the `sub` claim of its tokens.
    #[must_use]
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The user as a store record: enabled, with the scopes, and a
    /// password hash no password matches.
    #[must_use]
    pub fn record(&self) -> UserRecord {
        UserRecord {
            username: self.username.clone(),
            password_hash: NO_PASSWORD.to_owned(),
            scopes: self.scopes.clone(),
            disabled: false,
        }
    }

    /// Adds the user to `store` (replacing one of the same name) and
    /// returns it, so a test can write
    /// `let alice = TestUser::new("alice").insert_into(&users);`.
    #[must_use = "the returned user mints the tokens"]
    pub fn insert_into(self, store: &MemoryUserStore) -> Self {
        let record = self.record();
        store.insert_hashed(
            &record.username,
            &record.password_hash,
            record.scopes,
            record.disabled,
        );
        self
    }

    /// An access token for this user, issued by the app's [`Auth`] with the
    /// configured issuer, audience and lifetime.
    ///
    /// # Panics
    ///
    /// If signing fails, which only a broken asymmetric key can cause.
    #[must_use]
    pub fn token(&self, auth: &Auth) -> String {
        auth.tokens()
            .issue(&self.username, Self::CLIENT_ID, &self.scopes)
            .unwrap_or_else(|e| panic!("signing a test token failed: {e}"))
            .token
    }

    /// The `Authorization: Bearer ..` header for this user, from a launched
    /// app (`client.rocket()` of a local client).
    ///
    /// # Panics
    ///
    /// If the app has no [`Auth`] (attach `Auth::fairing()`), or as
    /// [`TestUser::token`].
    #[must_use]
    pub fn bearer(&self, rocket: &Rocket<Orbit>) -> Header<'static> {
        let auth = rocket
            .state::<Auth>()
            .unwrap_or_else(|| panic!("the app has no Auth; attach `Auth::fairing()`"));
        Header::new("Authorization", format!("Bearer {}", self.token(auth)))
    }
}

/// Not a PHC string or a bcrypt hash, so no password verifies against it.
const NO_PASSWORD: &str = "!test-user-has-no-password";

#[cfg(test)]
mod tests {
    use super::TestUser;
    use crate::MemoryUserStore;
    use crate::store::UserStore;

    #[test]
    fn insert_into_stores_an_enabled_user_with_the_scopes() {
        let users = MemoryUserStore::new();
        let alice = TestUser::new("alice")
            .scopes("read:items write:items")
            .insert_into(&users);
        let stored = rocket::async_test(users.find_user("alice"))
            .unwrap()
            .unwrap();
        assert_eq!(stored, alice.record());
        assert!(!stored.disabled);
        assert_eq!(stored.scopes.to_string(), "read:items write:items");
    }

    #[test]
    #[should_panic(expected = "TestUser::scopes")]
    fn invalid_scopes_panic() {
        let _ = TestUser::new("alice").scopes("read\"items");
    }
}
