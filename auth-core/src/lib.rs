#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![deny(unsafe_code)]
#![warn(clippy::pedantic)]
#![allow(
    clippy::module_name_repetitions,
    reason = "AuthError, AuthUser and AuthFairing read better than Error, User and Fairing at the call site"
)]

// The layers, from the bottom up: `scopes`, `bearer`, `password` and `token`
// know nothing of Rocket or storage; `store` keeps users and sessions;
// `grant` issues tokens; `auth` holds it all; `http` is everything Rocket
// sees. Imports only ever point down this list.
mod auth;
mod bearer;
pub mod config;
mod error;
pub mod grant;
mod http;
mod log;
pub mod password;
mod resource_server;
pub mod scopes;
pub mod store;
pub mod throttle;
pub mod token;

pub use http::discovery;
pub use http::jwks;
#[cfg(feature = "openapi")]
pub use http::openapi;
pub use http::testing;
#[cfg(feature = "remote-jwks")]
pub use resource_server::remote as remote_jwks;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use store::database;
#[cfg(feature = "postgres")]
pub use store::postgres;
#[cfg(feature = "sqlite")]
pub use store::sqlite;

pub use auth::browser::CSRF_HEADER;
pub use auth::{Auth, Issuer, Verifier};
pub use auth_macros::protected;
pub use bearer::extract_bearer;
pub use config::ResourceServerError;
pub use config::{AuthConfig, ConfigError, CookieConfig, SameSite, TrustedIssuerConfig};
pub use error::{
    AuthError, CsrfProblem, GrantProblem, RequestProblem, ScopeProblem, ServerProblem,
};
pub use grant::{
    ClientCredentialsRequest, PasswordRequestForm, PasswordRequestFormStrict, RefreshRequestForm,
    RevocationRequest, TokenRequest,
};
pub use grant::{TokenResponse, hash_refresh_token};
pub use http::client_address::ClientAddress;
pub use http::fairing::AuthFairing;
pub use http::guard::{AuthUser, BearerToken, MaybeUser, Protected};
#[doc(hidden)]
pub use http::testing::TestUser;
pub use log::events::{AuthEvent, AuthEventKind};
pub use log::logger::{SUMMARY_INTERVAL, install_logger};
pub use password::{
    Password, PasswordError, PasswordHasher, PasswordPolicy, PolicyViolation, Verification,
};
pub use scopes::{Scope, ScopeError, ScopeRegistry, Scopes};
pub use store::{
    ApiKeyError, ApiKeyRecord, ApiKeyStore, MemoryApiKeyStore, NewApiKey, create_api_key,
    hash_api_key,
};
pub use store::{
    ClientRecord, ClientSecret, ClientSecretHash, ClientStore, GrantType, MemoryClientStore,
};
pub use store::{
    FamilyRecord, MemoryRefreshTokenStore, MemoryUserStore, RefreshState, RefreshTokenRecord,
    RefreshTokenStore, RotateOutcome, StoreError, TokenHash, UserAdmin, UserRecord, UserStore,
};
pub use token::{
    AccessTokenClaims, AccessTokens, IssuedToken, KeyError, KeySet, SharedKeys, SigningError,
    TokenKeys, TokenProblem, VerificationKey,
};

// Limits and fixed values live in their modules (`token::MIN_SECRET_LEN`,
// `grant::MAX_USERNAME_LEN`, ...). These root paths stay for code written
// before, out of the documentation.
#[doc(hidden)]
pub use config::DEFAULT_AUDIENCE;
#[doc(hidden)]
pub use grant::{MAX_CLIENT_ID_LEN, MAX_SCOPE_LEN, MAX_USERNAME_LEN};
#[doc(hidden)]
pub use password::MAX_PASSWORD_LEN;
#[doc(hidden)]
pub use store::{
    API_KEY_LEN, API_KEY_PREFIX, MAX_API_KEY_NAME_LEN, MAX_FAMILY_TOKENS, PRUNE_BATCH,
};
#[doc(hidden)]
pub use token::{
    ACCESS_TOKEN_TYPE, CLIENT_CREDENTIALS_GTY, MAX_KID_LEN, MIN_RSA_BITS, MIN_SECRET_LEN,
};

/// Re-exported so apps can build a [`KeySet`] from a published JWK set.
pub use jsonwebtoken::jwk;

/// Re-exported so apps can name algorithms for [`TokenKeys`].
pub use jsonwebtoken::Algorithm;

/// What `#[protected]` expands to. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::http::guard::{NoScopes, Protected, RequiredScopes};
    pub use crate::http::openapi_order::{
        BelowProtected, OPENAPI_ORDER, OpenApiOrder, openapi_below_protected,
    };
}
