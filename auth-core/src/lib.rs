#![doc = include_str!("../README.md")]
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
#[cfg(feature = "openapi")]
pub mod openapi;
mod password;
mod scopes;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod store;
mod subject_cache;
mod token;

pub use auth_macros::protected;
pub use bearer::{MAX_TOKEN_LEN, extract_bearer, is_b64token};
pub use config::{AuthConfig, ConfigError};
pub use endpoint::{TokenResponse, hash_refresh_token};
pub use error::{
    AuthError, GrantProblem, RequestProblem, ScopeProblem, ServerProblem, TokenProblem,
};
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
