//! The token endpoint (RFC 6749 §4.3, §5, §6) and revocation (RFC 7009), as
//! methods of [`Auth`], so an app's `/token` route is one line.

use std::fmt;
use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use rocket::Request;
use rocket::http::Header;
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::auth::Auth;
use crate::error::{AuthError, GrantProblem, RequestProblem, ScopeProblem};
use crate::events::{AuthEvent, AuthEventKind};
use crate::form::{PasswordRequestForm, RefreshRequestForm, TokenRequest};
use crate::password::{MAX_PASSWORD_LEN, PasswordError, Verification};
use crate::scopes::Scopes;
use crate::store::{RefreshState, RefreshTokenRecord, RotateOutcome, TokenHash, UserRecord};
use crate::token::{IssuedToken, random_id, unix_now};

/// The longest `client_id` accepted, in bytes (it is stored with every
/// refresh token); longer is `invalid_request`.
pub const MAX_CLIENT_ID_LEN: usize = 128;
/// The longest `username` accepted, in bytes; longer is `invalid_request`.
pub const MAX_USERNAME_LEN: usize = 256;
/// The longest `scope` accepted, in bytes of its space-separated form;
/// longer is `invalid_request`.
pub const MAX_SCOPE_LEN: usize = 1024;

/// `invalid_request` when `value` is longer than `max` bytes.
fn check_len(parameter: &'static str, value: Option<&str>, max: usize) -> Result<(), AuthError> {
    if value.is_some_and(|v| v.len() > max) {
        return Err(AuthError::InvalidRequest(RequestProblem::TooLong {
            parameter,
            max,
        }));
    }
    Ok(())
}

/// The length of a scope list in its space-separated form.
fn scope_len(scopes: &Scopes) -> usize {
    scopes
        .iter()
        .map(|s| s.as_str().len() + 1)
        .sum::<usize>()
        .saturating_sub(1)
}

fn check_scope_len(scopes: Option<&Scopes>) -> Result<(), AuthError> {
    if scopes.is_some_and(|s| scope_len(s) > MAX_SCOPE_LEN) {
        return Err(AuthError::InvalidRequest(RequestProblem::TooLong {
            parameter: "scope",
            max: MAX_SCOPE_LEN,
        }));
    }
    Ok(())
}

/// A successful token response (RFC 6749 §5.1), sent with
/// `Cache-Control: no-store` and `Pragma: no-cache`.
///
/// `Debug` does not show the tokens.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TokenResponse {
    /// The JWT access token.
    pub access_token: String,
    /// Always `"bearer"`.
    pub token_type: &'static str,
    /// Lifetime of the access token, in seconds.
    pub expires_in: u64,
    /// The opaque, single-use refresh token.
    pub refresh_token: String,
    /// The granted scopes, space-separated.
    pub scope: Scopes,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl<'r> Responder<'r, 'static> for TokenResponse {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let mut response = Json(self).respond_to(request)?;
        response.set_header(Header::new("Cache-Control", "no-store"));
        response.set_header(Header::new("Pragma", "no-cache"));
        Ok(response)
    }
}

/// SHA-256 of a refresh token: what stores keep instead of the token.
#[must_use]
pub fn hash_refresh_token(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

/// 256 random bits, base64url, without padding.
fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Why a password grant was refused: bad credentials (with the reason for
/// the event log; the client sees one answer for all) or another error.
enum Refused {
    Credentials(&'static str),
    Error(AuthError),
}

impl<E: Into<AuthError>> From<E> for Refused {
    fn from(e: E) -> Self {
        Self::Error(e.into())
    }
}

fn invalid_credentials() -> AuthError {
    AuthError::InvalidGrant(GrantProblem::InvalidCredentials)
}

fn invalid_refresh() -> AuthError {
    AuthError::InvalidGrant(GrantProblem::InvalidRefreshToken)
}

impl Auth {
    /// Answers a [`TokenRequest`]: the password or the refresh grant.
    ///
    /// # Errors
    ///
    /// See [`Auth::password_grant`] and [`Auth::refresh_grant`].
    pub async fn grant(&self, request: TokenRequest) -> Result<TokenResponse, AuthError> {
        match request {
            TokenRequest::Password(form) => self.password_grant(form).await,
            TokenRequest::Refresh(form) => self.refresh_grant(form).await,
        }
    }

    /// The password grant (RFC 6749 §4.3) with scope negotiation.
    ///
    /// * Unknown user, wrong password, disabled user: `invalid_grant`, with
    ///   the same message and the same hashing work (a dummy verification
    ///   for unknown users).
    /// * No `scope` requested: every scope the user is allowed. Otherwise
    ///   each requested scope must be declared and allowed for the user,
    ///   else `invalid_scope`. Scopes are checked only after the password,
    ///   so they reveal nothing to strangers.
    /// * A hash in an old format is replaced after a successful login.
    ///
    /// # Errors
    ///
    /// As above; `invalid_request` for a password over
    /// [`MAX_PASSWORD_LEN`] bytes; `server_error` when a store fails.
    pub async fn password_grant(
        &self,
        form: impl Into<PasswordRequestForm>,
    ) -> Result<TokenResponse, AuthError> {
        let form = form.into();
        let password = form.password.expose();
        if password.len() > MAX_PASSWORD_LEN {
            return Err(AuthError::InvalidRequest(RequestProblem::PasswordTooLong));
        }
        check_len("username", Some(&form.username), MAX_USERNAME_LEN)?;
        check_len("client_id", form.client_id.as_deref(), MAX_CLIENT_ID_LEN)?;
        check_scope_len(Some(&form.scopes))?;
        let client_id = form.client_id.as_deref().unwrap_or(&self.default_client_id);
        let event = |kind| {
            AuthEvent::new(kind)
                .subject(&form.username)
                .client_id(client_id)
                .address(form.client_address)
        };
        // Throttled attempts are refused before any hashing.
        if let Err(retry_after) = self.throttle.check(&form.username, form.client_address) {
            self.emit(&event(AuthEventKind::Throttled).reason("slow_down"));
            return Err(AuthError::SlowDown { retry_after });
        }
        let user = match self.check_credentials(&form.username, password).await {
            Ok(user) => user,
            Err(Refused::Credentials(reason)) => {
                self.throttle.failed(&form.username, form.client_address);
                self.emit(&event(AuthEventKind::LoginFailed).reason(reason));
                return Err(invalid_credentials());
            }
            Err(Refused::Error(e)) => return Err(e),
        };
        self.throttle.succeeded(&form.username);
        let scopes = self.negotiate(&user.scopes, &form.scopes)?;
        let issued = self.tokens.issue(&user.username, client_id, &scopes)?;
        let now = issued.claims.iat;
        let family_expires_at = now.saturating_add(self.refresh_max_age);
        let (refresh_token, record) = self.new_refresh_token(
            &user.username,
            client_id,
            &scopes,
            &random_id(),
            now,
            family_expires_at,
        );
        self.refresh_tokens.insert(record).await?;
        self.emit(&event(AuthEventKind::LoginSucceeded));
        Ok(self.token_response(issued, refresh_token, scopes))
    }

    /// The user if `password` is theirs and they are enabled. Unknown users
    /// cost a dummy verification; a hash in an old format is replaced.
    async fn check_credentials(
        &self,
        username: &str,
        password: &str,
    ) -> Result<UserRecord, Refused> {
        let Some(user) = self.users.find_user(username).await? else {
            self.hasher.verify_dummy(password).await?;
            return Err(Refused::Credentials("unknown_user"));
        };
        let needs_rehash = match self.hasher.verify(password, &user.password_hash).await {
            Ok(Verification::Match { needs_rehash }) => needs_rehash,
            Ok(Verification::Mismatch) => return Err(Refused::Credentials("wrong_password")),
            Err(PasswordError::UnrecognizedHash) => {
                log::warn!(
                    "auth: user {:?} has a password hash of unknown format",
                    user.username
                );
                return Err(Refused::Credentials("unrecognized_hash"));
            }
            Err(e) => return Err(e.into()),
        };
        if user.disabled {
            self.forget_subject(&user.username);
            return Err(Refused::Credentials("disabled"));
        }
        if needs_rehash {
            self.upgrade_hash(&user.username, password).await;
        }
        Ok(user)
    }

    /// The refresh grant (RFC 6749 §6) with rotation and reuse detection
    /// (RFC 9700 §4.14.2).
    ///
    /// * The refresh token is single-use: a new one is returned each time,
    ///   in the same family, with a fresh sliding lifetime
    ///   (`auth_refresh_ttl`) that never passes the family's absolute end
    ///   (`auth_refresh_max_age` after the login).
    /// * Rotation is atomic ([`RefreshTokenStore::rotate`](crate::RefreshTokenStore::rotate)):
    ///   a family revoked while a refresh is in flight keeps no live
    ///   successor, and the refresh fails.
    /// * Presenting a used token again revokes every token of its family
    ///   (one of the two parties holding it is an attacker).
    /// * `scope` may narrow the original grant, never widen it; scopes the
    ///   user has lost since are dropped.
    /// * The token is bound to its client: the request's `client_id` (or,
    ///   when it names none, `auth_default_client_id`) must be the one the
    ///   token was issued to. A token issued to `web` is refused without a
    ///   `client_id`; a token issued without one is refused with one.
    /// * An expired or revoked token, or a token of a now disabled or
    ///   deleted user, is `invalid_grant`.
    ///
    /// # Errors
    ///
    /// As above; `invalid_request` for an over-long `client_id` or `scope`;
    /// `server_error` when a store fails.
    pub async fn refresh_grant(
        &self,
        form: RefreshRequestForm,
    ) -> Result<TokenResponse, AuthError> {
        check_len("client_id", form.client_id.as_deref(), MAX_CLIENT_ID_LEN)?;
        check_scope_len(form.scopes.as_ref())?;
        let hash = hash_refresh_token(form.refresh_token.expose());
        // Read first: a client error (wrong scope) must not burn the token.
        let Some(record) = self.refresh_tokens.find(&hash).await? else {
            return Err(invalid_refresh());
        };
        match record.state {
            RefreshState::Active => {}
            RefreshState::Used => {
                return Err(self.reuse_detected(&record, form.client_address).await);
            }
            RefreshState::Revoked => return Err(invalid_refresh()),
        }
        let now = unix_now();
        if record.expires_at <= now || record.family_expires_at <= now {
            return Err(invalid_refresh());
        }
        let client_id = form.client_id.as_deref().unwrap_or(&self.default_client_id);
        if client_id != record.client_id {
            return Err(invalid_refresh());
        }
        let scopes = match &form.scopes {
            Some(requested) if !record.scopes.contains_all(requested) => {
                return Err(AuthError::InvalidScope(ScopeProblem::BeyondOriginalGrant));
            }
            Some(requested) => requested.clone(),
            None => record.scopes.clone(),
        };
        let user = match self.users.find_user(&record.username).await? {
            Some(user) if !user.disabled => user,
            _ => {
                self.forget_subject(&record.username);
                self.refresh_tokens.revoke_family(&record.family_id).await?;
                return Err(invalid_refresh());
            }
        };
        // Scopes the user lost, or the app stopped declaring, since the
        // original grant are dropped.
        let scopes = self.scopes.declared_of(&scopes.intersection(&user.scopes));
        let issued = self
            .tokens
            .issue(&user.username, &record.client_id, &scopes)?;
        let (refresh_token, successor) = self.new_refresh_token(
            &user.username,
            &record.client_id,
            &scopes,
            &record.family_id,
            issued.claims.iat,
            record.family_expires_at,
        );
        // Claim the old token and store its successor in one step: of two
        // concurrent refreshes one wins, the other is a replay; a family
        // revoked meanwhile gets no successor. The access token signed above
        // is dropped unless this succeeds.
        match self.refresh_tokens.rotate(&hash, successor).await? {
            RotateOutcome::Rotated => {
                self.emit(
                    &AuthEvent::new(AuthEventKind::Refreshed)
                        .subject(&user.username)
                        .client_id(&record.client_id)
                        .address(form.client_address),
                );
                Ok(self.token_response(issued, refresh_token, scopes))
            }
            RotateOutcome::Reused(claimed) => {
                Err(self.reuse_detected(&claimed, form.client_address).await)
            }
            _ => Err(invalid_refresh()),
        }
    }

    /// Ends every session of `username`: revokes all their refresh-token
    /// families and forgets the cached subject. Returns how many families
    /// were live. Call it when a user is disabled, deleted or changes
    /// password, if the store does not already do so (the `SQLite` store's
    /// `set_disabled`, `set_password` and `delete_user` do).
    ///
    /// # Errors
    ///
    /// `server_error` when the store fails.
    pub async fn revoke_user(&self, username: &str) -> Result<u64, AuthError> {
        self.forget_subject(username);
        Ok(self.refresh_tokens.revoke_user(username).await?)
    }

    /// Revokes a refresh token and its whole family (RFC 7009). Unknown
    /// tokens are not an error: RFC 7009 §2.2 answers 200 either way.
    ///
    /// Access tokens are self-contained JWTs and cannot be revoked; keep
    /// their lifetime short.
    ///
    /// # Errors
    ///
    /// `server_error` when the store fails.
    pub async fn revoke(&self, refresh_token: &str) -> Result<(), AuthError> {
        let hash = hash_refresh_token(refresh_token);
        if let Some(record) = self.refresh_tokens.find(&hash).await? {
            self.refresh_tokens.revoke_family(&record.family_id).await?;
            self.emit(
                &AuthEvent::new(AuthEventKind::Revoked)
                    .subject(&record.username)
                    .client_id(&record.client_id),
            );
        }
        Ok(())
    }

    async fn reuse_detected(
        &self,
        record: &RefreshTokenRecord,
        address: Option<IpAddr>,
    ) -> AuthError {
        self.emit(
            &AuthEvent::new(AuthEventKind::RefreshReused)
                .subject(&record.username)
                .client_id(&record.client_id)
                .address(address)
                .reason("family_revoked"),
        );
        match self.refresh_tokens.revoke_family(&record.family_id).await {
            Ok(()) => AuthError::InvalidGrant(GrantProblem::RefreshTokenReused),
            Err(e) => e.into(),
        }
    }

    /// The scope rule, in one sentence: a token carries the requested
    /// scopes (by default, every scope the user holds) that the app declared
    /// and the user holds; asking for any other scope is `invalid_scope`.
    fn negotiate(&self, held: &Scopes, requested: &Scopes) -> Result<Scopes, AuthError> {
        let grantable = self.scopes.declared_of(held);
        if requested.is_empty() {
            Ok(grantable)
        } else if grantable.contains_all(requested) {
            Ok(requested.clone())
        } else {
            Err(AuthError::InvalidScope(ScopeProblem::NotAllowed))
        }
    }

    async fn upgrade_hash(&self, username: &str, password: &str) {
        match self.hasher.hash(password).await {
            Ok(hash) => {
                if let Err(e) = self.users.set_password_hash(username, &hash).await {
                    log::warn!("auth: could not upgrade the password hash of {username:?}: {e}");
                }
            }
            Err(e) => log::warn!("auth: could not rehash the password of {username:?}: {e}"),
        }
    }

    /// A new refresh token and the record to store for it.
    fn new_refresh_token(
        &self,
        username: &str,
        client_id: &str,
        scopes: &Scopes,
        family_id: &str,
        now: u64,
        family_expires_at: u64,
    ) -> (String, RefreshTokenRecord) {
        let refresh_token = new_refresh_token();
        let record = RefreshTokenRecord {
            token_hash: hash_refresh_token(&refresh_token),
            family_id: family_id.to_owned(),
            username: username.to_owned(),
            client_id: client_id.to_owned(),
            scopes: scopes.clone(),
            issued_at: now,
            expires_at: now.saturating_add(self.refresh_ttl).min(family_expires_at),
            family_expires_at,
            state: RefreshState::Active,
        };
        (refresh_token, record)
    }

    fn token_response(
        &self,
        issued: IssuedToken,
        refresh_token: String,
        scope: Scopes,
    ) -> TokenResponse {
        TokenResponse {
            access_token: issued.token,
            token_type: "bearer",
            expires_in: self.tokens.ttl(),
            refresh_token,
            scope,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AuthFairing;
    use crate::config::AuthConfig;
    use crate::form::PasswordRequestFormStrict;
    use crate::password::{Password, PasswordHasher};
    use crate::scopes::ScopeRegistry;
    use crate::store::{
        MemoryRefreshTokenStore, MemoryUserStore, RefreshTokenStore as _, UserStore as _,
    };

    struct Fixture {
        auth: Auth,
        users: MemoryUserStore,
        refresh: MemoryRefreshTokenStore,
    }

    fn fixture() -> Fixture {
        fixture_declaring(&["read", "write", "admin"])
    }

    fn test_config() -> AuthConfig {
        AuthConfig {
            secret: Some("0123456789abcdef0123456789abcdef".into()),
            ..AuthConfig::default()
        }
    }

    fn fixture_with(config: AuthConfig) -> Fixture {
        let f = fixture();
        let auth = AuthFairing::default()
            .users(f.users.clone())
            .refresh_tokens(f.refresh.clone())
            .hasher(PasswordHasher::with_params(256, 1, 1).unwrap())
            .scope("read", "Read")
            .scope("write", "Write")
            .config(config)
            .build(&rocket::figment::Figment::new())
            .unwrap();
        Fixture { auth, ..f }
    }

    /// Users `john` (read write), `off` (disabled), `old` (bcrypt) and
    /// `mixed` (read legacy), with `declared` declared.
    fn fixture_declaring(declared: &[&str]) -> Fixture {
        let hasher = PasswordHasher::with_params(256, 1, 1).unwrap();
        let users = MemoryUserStore::new();
        let scopes = |s| Scopes::parse(s).unwrap();
        users.insert_hashed(
            "john",
            &hasher.hash_blocking("secret").unwrap(),
            scopes("read write"),
            false,
        );
        users.insert_hashed(
            "off",
            &hasher.hash_blocking("secret").unwrap(),
            scopes("read"),
            true,
        );
        users.insert_hashed(
            "old",
            &bcrypt::hash("legacy", 4).unwrap(),
            scopes("read"),
            false,
        );
        users.insert_hashed(
            "mixed",
            &hasher.hash_blocking("secret").unwrap(),
            scopes("read legacy"),
            false,
        );
        let refresh = MemoryRefreshTokenStore::new();
        let registry = declared
            .iter()
            .fold(ScopeRegistry::new(), |registry, scope| {
                registry.with(scope, scope)
            });
        let auth = AuthFairing::default()
            .users(users.clone())
            .refresh_tokens(refresh.clone())
            .hasher(hasher)
            .scopes(registry)
            .config(AuthConfig {
                secret: Some("0123456789abcdef0123456789abcdef".into()),
                ..AuthConfig::default()
            })
            .build(&rocket::figment::Figment::new())
            .unwrap();
        Fixture {
            auth,
            users,
            refresh,
        }
    }

    impl Fixture {
        async fn login(&self, body: &str) -> Result<TokenResponse, AuthError> {
            self.auth.password_grant(form(body)).await
        }

        async fn refresh(
            &self,
            token: &str,
            scope: Option<&str>,
        ) -> Result<TokenResponse, AuthError> {
            self.auth.refresh_grant(refresh_form(token, scope)).await
        }
    }

    fn form(body: &str) -> PasswordRequestForm {
        PasswordRequestForm::parse(body).unwrap()
    }

    fn refresh_form(token: &str, scope: Option<&str>) -> RefreshRequestForm {
        RefreshRequestForm {
            refresh_token: Password::new(token),
            scopes: scope.map(|s| Scopes::parse(s).unwrap()),
            client_id: None,
            client_secret: None,
            client_address: None,
        }
    }

    #[rocket::async_test]
    async fn password_grant_issues_all_allowed_scopes_by_default() {
        let f = fixture();
        let response = f.login("username=john&password=secret").await.unwrap();
        assert_eq!(response.scope.to_string(), "read write");
        assert_eq!(response.token_type, "bearer");
        assert_eq!(response.expires_in, 1800);
        let claims = f.auth.tokens().verify(&response.access_token).unwrap();
        assert_eq!(claims.sub, "john");
        assert_eq!(claims.client_id, "default");
        // Stored by hash only.
        let stored = f
            .refresh
            .find(&hash_refresh_token(&response.refresh_token))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.state, RefreshState::Active);
        assert_eq!(stored.scopes, response.scope);
    }

    #[rocket::async_test]
    async fn scope_negotiation() {
        let f = fixture();
        let narrowed = f
            .login("username=john&password=secret&scope=read&client_id=cli")
            .await
            .unwrap();
        assert_eq!(narrowed.scope.to_string(), "read");
        assert_eq!(
            f.auth
                .tokens()
                .verify(&narrowed.access_token)
                .unwrap()
                .client_id,
            "cli"
        );
        for scope in ["admin", "unknown", "read%20admin"] {
            let err = f
                .login(&format!("username=john&password=secret&scope={scope}"))
                .await
                .unwrap_err();
            assert_eq!(err.code(), "invalid_scope", "{scope}");
        }
        // A wrong password is reported before any scope problem.
        let err = f
            .login("username=john&password=bad&scope=admin")
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_grant");
    }

    #[rocket::async_test]
    async fn only_declared_scopes_are_granted() {
        let f = fixture();
        // `legacy` is held but not declared: never in a token.
        let default = f.login("username=mixed&password=secret").await.unwrap();
        assert_eq!(default.scope.to_string(), "read");
        let err = f
            .login("username=mixed&password=secret&scope=legacy")
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_scope");
        // Declaring nothing grants nothing.
        let bare = fixture_declaring(&[]);
        let none = bare.login("username=john&password=secret").await.unwrap();
        assert!(none.scope.is_empty());
    }

    #[rocket::async_test]
    async fn refresh_drops_scopes_the_app_no_longer_declares() {
        let before = fixture();
        let pair = before.login("username=john&password=secret").await.unwrap();
        assert_eq!(pair.scope.to_string(), "read write");
        // The same stores, after a deploy that no longer declares `write`.
        let after = AuthFairing::default()
            .users(before.users.clone())
            .refresh_tokens(before.refresh.clone())
            .hasher(PasswordHasher::with_params(256, 1, 1).unwrap())
            .scope("read", "Read")
            .config(AuthConfig {
                secret: Some("0123456789abcdef0123456789abcdef".into()),
                ..AuthConfig::default()
            })
            .build(&rocket::figment::Figment::new())
            .unwrap();
        let refreshed = after
            .refresh_grant(refresh_form(&pair.refresh_token, None))
            .await
            .unwrap();
        assert_eq!(refreshed.scope.to_string(), "read");
    }

    #[rocket::async_test]
    async fn bad_credentials_give_one_answer() {
        let f = fixture();
        let mut descriptions = Vec::new();
        for body in [
            "username=john&password=wrong",
            "username=nobody&password=secret",
            "username=off&password=secret",
        ] {
            let err = f.login(body).await.unwrap_err();
            assert_eq!(err.code(), "invalid_grant", "{body}");
            descriptions.push(err.description());
        }
        descriptions.dedup();
        assert_eq!(descriptions.len(), 1);
        let long = format!(
            "username=john&password={}",
            "x".repeat(MAX_PASSWORD_LEN + 1)
        );
        assert_eq!(f.login(&long).await.unwrap_err().code(), "invalid_request");
    }

    #[rocket::async_test]
    async fn strict_form_works_with_password_grant() {
        let f = fixture();
        let strict =
            PasswordRequestFormStrict::parse("grant_type=password&username=john&password=secret")
                .unwrap();
        assert!(f.auth.password_grant(strict).await.is_ok());
    }

    #[rocket::async_test]
    async fn bcrypt_hash_is_upgraded_on_login() {
        let f = fixture();
        f.login("username=old&password=legacy").await.unwrap();
        let user = f.users.find_user("old").await.unwrap().unwrap();
        assert!(
            user.password_hash.starts_with("$argon2id$"),
            "{}",
            user.password_hash
        );
        // And the new hash still works.
        f.login("username=old&password=legacy").await.unwrap();
    }

    #[rocket::async_test]
    async fn refresh_rotates_and_reuse_revokes_the_family() {
        let f = fixture();
        let first = f.login("username=john&password=secret").await.unwrap();
        let second = f.refresh(&first.refresh_token, None).await.unwrap();
        assert_ne!(second.refresh_token, first.refresh_token);
        assert_eq!(second.scope.to_string(), "read write");
        // Replaying the first token: refused, and the family dies.
        let err = f.refresh(&first.refresh_token, None).await.unwrap_err();
        assert!(matches!(
            err,
            AuthError::InvalidGrant(GrantProblem::RefreshTokenReused)
        ));
        let err = f.refresh(&second.refresh_token, None).await.unwrap_err();
        assert_eq!(err.code(), "invalid_grant");
    }

    #[rocket::async_test]
    async fn refresh_can_narrow_but_not_widen() {
        let f = fixture();
        let first = f
            .login("username=john&password=secret&scope=read")
            .await
            .unwrap();
        let err = f
            .refresh(&first.refresh_token, Some("read write"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_scope");
        // The failed attempt did not burn the token.
        let narrowed = f.refresh(&first.refresh_token, Some("read")).await.unwrap();
        assert_eq!(narrowed.scope.to_string(), "read");
    }

    #[rocket::async_test]
    async fn refresh_rejects_access_tokens_unknown_tokens_and_disabled_users() {
        let f = fixture();
        let pair = f.login("username=john&password=secret").await.unwrap();
        for token in [pair.access_token.as_str(), "unknown"] {
            let err = f.refresh(token, None).await.unwrap_err();
            assert_eq!(err.code(), "invalid_grant");
        }
        f.users.set_disabled("john", true);
        let err = f.refresh(&pair.refresh_token, None).await.unwrap_err();
        assert_eq!(err.code(), "invalid_grant");
        // And the refresh token is not an access token.
        assert!(f.auth.authenticate(&pair.refresh_token).await.is_err());
    }

    #[rocket::async_test]
    async fn refresh_is_bound_to_its_client() {
        let f = fixture();
        let pair = f
            .login("username=john&password=secret&client_id=a")
            .await
            .unwrap();
        let mut other = refresh_form(&pair.refresh_token, None);
        other.client_id = Some("b".into());
        assert_eq!(
            f.auth.refresh_grant(other).await.unwrap_err().code(),
            "invalid_grant"
        );
    }

    #[rocket::async_test]
    async fn refresh_without_client_matches_only_the_default_client() {
        let f = fixture();
        // Issued to `web`: a request naming no client is refused...
        let web = f
            .login("username=john&password=secret&client_id=web")
            .await
            .unwrap();
        let err = f.refresh(&web.refresh_token, None).await.unwrap_err();
        assert!(matches!(
            err,
            AuthError::InvalidGrant(GrantProblem::InvalidRefreshToken)
        ));
        // ...without burning the token: `web` itself still refreshes.
        let mut same = refresh_form(&web.refresh_token, None);
        same.client_id = Some("web".into());
        f.auth.refresh_grant(same).await.unwrap();
        // Issued without a client (so to the default one): a request naming
        // none matches, one naming another client does not.
        let plain = f.login("username=john&password=secret").await.unwrap();
        let mut other = refresh_form(&plain.refresh_token, None);
        other.client_id = Some("web".into());
        assert_eq!(
            f.auth.refresh_grant(other).await.unwrap_err().code(),
            "invalid_grant"
        );
        f.refresh(&plain.refresh_token, None).await.unwrap();
    }

    #[rocket::async_test]
    async fn a_family_ends_at_its_absolute_lifetime() {
        let f = fixture();
        let pair = f.login("username=john&password=secret").await.unwrap();
        let first = f
            .refresh
            .find(&hash_refresh_token(&pair.refresh_token))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            first.family_expires_at,
            first.issued_at + AuthConfig::default().refresh_max_age
        );
        // Rotation keeps the family's end.
        let next = f.refresh(&pair.refresh_token, None).await.unwrap();
        let second = f
            .refresh
            .find(&hash_refresh_token(&next.refresh_token))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(second.family_expires_at, first.family_expires_at);
        // A token whose own lifetime is fine but whose family has ended.
        let now = unix_now();
        f.refresh
            .insert(RefreshTokenRecord {
                token_hash: hash_refresh_token("old-session"),
                family_id: "old".into(),
                username: "john".into(),
                client_id: "default".into(),
                scopes: Scopes::parse("read").unwrap(),
                issued_at: now - 10,
                expires_at: now + 3600,
                family_expires_at: now - 1,
                state: RefreshState::Active,
            })
            .await
            .unwrap();
        let err = f.refresh("old-session", None).await.unwrap_err();
        assert_eq!(err.code(), "invalid_grant");
        // A sliding lifetime never passes the family's end.
        let short = fixture_with(AuthConfig {
            refresh_max_age: 60,
            ..test_config()
        });
        let pair = short.login("username=john&password=secret").await.unwrap();
        let record = short
            .refresh
            .find(&hash_refresh_token(&pair.refresh_token))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.expires_at, record.issued_at + 60);
    }

    #[rocket::async_test]
    async fn over_long_fields_are_invalid_requests() {
        let f = fixture();
        let long_client = "c".repeat(MAX_CLIENT_ID_LEN + 1);
        let long_user = "u".repeat(MAX_USERNAME_LEN + 1);
        let long_scope = (0..MAX_SCOPE_LEN / 4)
            .map(|i| format!("s{i}"))
            .collect::<Vec<_>>()
            .join("%20");
        for body in [
            format!("username=john&password=secret&client_id={long_client}"),
            format!("username={long_user}&password=secret"),
            format!("username=john&password=secret&scope={long_scope}"),
        ] {
            let err = f.login(&body).await.unwrap_err();
            assert!(
                matches!(
                    err,
                    AuthError::InvalidRequest(RequestProblem::TooLong { .. })
                ),
                "{err:?}"
            );
        }
        // At the limit: accepted.
        let at_limit = "c".repeat(MAX_CLIENT_ID_LEN);
        let pair = f
            .login(&format!(
                "username=john&password=secret&client_id={at_limit}"
            ))
            .await
            .unwrap();
        let mut refresh = refresh_form(&pair.refresh_token, None);
        refresh.client_id = Some(long_client);
        assert_eq!(
            f.auth.refresh_grant(refresh).await.unwrap_err().code(),
            "invalid_request"
        );
    }

    #[rocket::async_test]
    async fn revoke_user_ends_every_session() {
        let f = fixture();
        let a = f.login("username=john&password=secret").await.unwrap();
        let b = f.login("username=john&password=secret").await.unwrap();
        let other = f.login("username=mixed&password=secret").await.unwrap();
        assert_eq!(f.auth.revoke_user("john").await.unwrap(), 2);
        for token in [&a.refresh_token, &b.refresh_token] {
            assert_eq!(
                f.refresh(token, None).await.unwrap_err().code(),
                "invalid_grant"
            );
        }
        f.refresh(&other.refresh_token, None).await.unwrap();
    }

    #[rocket::async_test]
    async fn revocation_kills_the_family() {
        let f = fixture();
        let first = f.login("username=john&password=secret").await.unwrap();
        let second = f.refresh(&first.refresh_token, None).await.unwrap();
        f.auth.revoke(&first.refresh_token).await.unwrap();
        f.auth.revoke("never-issued").await.unwrap();
        let err = f.refresh(&second.refresh_token, None).await.unwrap_err();
        assert_eq!(err.code(), "invalid_grant");
    }

    #[rocket::async_test]
    async fn debug_of_a_token_response_hides_tokens() {
        let f = fixture();
        let pair = f.login("username=john&password=secret").await.unwrap();
        let debug = format!("{pair:?}");
        assert!(!debug.contains(&pair.access_token) && !debug.contains(&pair.refresh_token));
    }
}
