//! OAuth2 password flow with bearer tokens for Rocket: what FastAPI's
//! `OAuth2PasswordBearer` gives Python APIs, standards-exact (RFC 6749,
//! 6750, 7009, 9068, 9700).
//!
//! ```no_run
//! use auth_core::{protected, Auth, AuthError, AuthUser, TokenRequest, TokenResponse};
//! use rocket::{get, launch, post, routes};
//!
//! #[post("/token", data = "<request>")]
//! async fn token(request: TokenRequest, auth: &Auth) -> Result<TokenResponse, AuthError> {
//!     auth.grant(request).await
//! }
//!
//! #[protected(scopes = "read:items")]
//! #[get("/items")]
//! fn items(user: AuthUser) -> String {
//!     format!("items of {}", user.subject())
//! }
//!
//! #[launch]
//! fn rocket() -> _ {
//!     rocket::build()
//!         .attach(Auth::fairing().scope("read:items", "Read items"))
//!         .mount("/", routes![token, items])
//! }
//! ```
#![deny(missing_docs)]
#![warn(clippy::pedantic)]
#![allow(
    clippy::module_name_repetitions,
    reason = "AuthError, AuthUser and AuthFairing read better than Error, User and Fairing at the call site"
)]

mod bearer;
pub mod config;
mod endpoint;
mod error;
mod fairing;
mod form;
mod guard;
mod password;
mod scopes;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod store;
mod token;

pub use auth_macros::protected;
pub use bearer::{MAX_TOKEN_LEN, extract_bearer, is_b64token};
pub use config::{AuthConfig, ConfigError};
pub use endpoint::{TokenResponse, hash_refresh_token};
pub use error::{AuthError, GrantProblem, RequestProblem, ScopeProblem, ServerProblem, TokenProblem};
pub use fairing::{Auth, AuthFairing};
pub use form::{
    MAX_FORM_LEN, PasswordRequestForm, PasswordRequestFormStrict, RefreshRequestForm, TokenRequest,
};
pub use guard::{AuthUser, BearerToken, MaybeUser};
pub use password::{MAX_PASSWORD_LEN, Password, PasswordError, PasswordHasher, Verification};
pub use scopes::{Scope, ScopeError, ScopeRegistry, Scopes, is_scope_char};
pub use store::{
    MemoryRefreshTokenStore, MemoryUserStore, RefreshState, RefreshTokenRecord, RefreshTokenStore,
    StoreError, TokenHash, UserRecord, UserStore,
};
pub use token::{
    ACCESS_TOKEN_TYPE, AccessTokenClaims, AccessTokens, IssuedToken, MIN_SECRET_LEN, TokenKeys,
    unix_now,
};

/// Re-exported so apps can name algorithms for [`TokenKeys`].
pub use jsonwebtoken::Algorithm;

/// What `#[protected]` expands to. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::guard::{NoScopes, Protected, RequiredScopes};
}
