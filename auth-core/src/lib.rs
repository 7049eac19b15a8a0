#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![deny(unsafe_code)]
#![warn(clippy::pedantic)]
#![allow(
    clippy::module_name_repetitions,
    reason = "AuthError, AuthUser and AuthFairing read better than Error, User and Fairing at the call site"
)]

mod answers;
mod auth;
mod authorization;
mod client_address;
pub mod config;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod database;
mod error;
mod events;
mod fairing;
mod form;
mod grant;
mod guard;
pub mod jwks;
#[cfg(feature = "openapi")]
pub mod openapi;
mod openapi_order;
mod password;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod pool_settings;
#[cfg(feature = "postgres")]
pub mod postgres;
mod quiet_log;
mod redact;
#[cfg(feature = "remote-jwks")]
pub mod remote_jwks;
mod resource_server;
mod respond;
#[cfg(test)]
mod rotation_races;
mod scopes;
mod sentinel;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod store;
mod subject_cache;
mod testing;
pub mod throttle;
mod token;

pub use auth::Auth;
pub use auth_macros::protected;
pub use authorization::extract_bearer;
pub use client_address::ClientAddress;
pub use config::ResourceServerError;
pub use config::{AuthConfig, ConfigError, DEFAULT_AUDIENCE};
pub use error::{AuthError, GrantProblem, RequestProblem, ScopeProblem, ServerProblem};
pub use events::{AuthEvent, AuthEventKind};
pub use fairing::AuthFairing;
pub use form::{PasswordRequestForm, PasswordRequestFormStrict, RefreshRequestForm, TokenRequest};
pub use grant::{
    MAX_CLIENT_ID_LEN, MAX_SCOPE_LEN, MAX_USERNAME_LEN, TokenResponse, hash_refresh_token,
};
pub use guard::{AuthUser, BearerToken, MaybeUser, Protected};
pub use password::{
    MAX_PASSWORD_LEN, Password, PasswordError, PasswordHasher, PasswordPolicy, PolicyViolation,
    Verification,
};
pub use quiet_log::{SUMMARY_INTERVAL, install_logger};
pub use scopes::{Scope, ScopeError, ScopeRegistry, Scopes};
pub use store::{
    FamilyRecord, MAX_FAMILY_TOKENS, MemoryRefreshTokenStore, MemoryUserStore, PRUNE_BATCH,
    RefreshState, RefreshTokenRecord, RefreshTokenStore, RotateOutcome, StoreError, TokenHash,
    UserRecord, UserStore,
};
pub use testing::TestUser;
pub use token::{
    ACCESS_TOKEN_TYPE, AccessTokenClaims, AccessTokens, IssuedToken, KeyError, KeySet, MAX_KID_LEN,
    MIN_RSA_BITS, MIN_SECRET_LEN, SharedKeys, SigningError, TokenKeys, TokenProblem,
    VerificationKey,
};

/// Re-exported so apps can build a [`KeySet`] from a published JWK set.
pub use jsonwebtoken::jwk;

/// Re-exported so apps can name algorithms for [`TokenKeys`].
pub use jsonwebtoken::Algorithm;

/// What `#[protected]` expands to. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::guard::{NoScopes, Protected, RequiredScopes};
    pub use crate::openapi_order::{
        BelowProtected, OPENAPI_ORDER, OpenApiOrder, openapi_below_protected,
    };
}
