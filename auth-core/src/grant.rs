//! The token endpoint (RFC 6749 §4.3, §5, §6) and revocation (RFC 7009), as
//! methods of [`Auth`], so an app's `/token` route is one line.

use std::fmt;

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
use crate::store::{RefreshState, RefreshTokenRecord, TokenHash, UserRecord};
use crate::token::{random_id, unix_now};

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
        let response = self
            .issue_pair(&user.username, client_id, &scopes, &random_id())
            .await?;
        self.emit(&event(AuthEventKind::LoginSucceeded));
        Ok(response)
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
    ///   with a fresh lifetime, in the same family.
    /// * Presenting a used token again revokes every token of its family
    ///   (one of the two parties holding it is an attacker).
    /// * `scope` may narrow the original grant, never widen it; scopes the
    ///   user has lost since are dropped.
    /// * A token issued to another `client_id`, an expired or revoked token,
    ///   or a token of a now disabled user is `invalid_grant`.
    ///
    /// # Errors
    ///
    /// As above; `server_error` when a store fails.
    pub async fn refresh_grant(
        &self,
        form: RefreshRequestForm,
    ) -> Result<TokenResponse, AuthError> {
        let hash = hash_refresh_token(form.refresh_token.expose());
        // Read first: a client error (wrong scope) must not burn the token.
        let Some(record) = self.refresh_tokens.find(&hash).await? else {
            return Err(invalid_refresh());
        };
        match record.state {
            RefreshState::Active => {}
            RefreshState::Used => return Err(self.reuse_detected(&record).await),
            RefreshState::Revoked => return Err(invalid_refresh()),
        }
        if record.expires_at <= unix_now() {
            return Err(invalid_refresh());
        }
        if form
            .client_id
            .as_ref()
            .is_some_and(|c| *c != record.client_id)
        {
            return Err(invalid_refresh());
        }
        let scopes = match &form.scopes {
            Some(requested) if !record.scopes.contains_all(requested) => {
                return Err(AuthError::InvalidScope(ScopeProblem::BeyondOriginalGrant));
            }
            Some(requested) => requested.clone(),
            None => record.scopes.clone(),
        };
        // Claim the token atomically: of two concurrent refreshes one wins,
        // the other is a replay.
        match self.refresh_tokens.consume(&hash).await? {
            Some(claimed) if claimed.state == RefreshState::Active => {}
            Some(claimed) if claimed.state == RefreshState::Used => {
                return Err(self.reuse_detected(&claimed).await);
            }
            _ => return Err(invalid_refresh()),
        }
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
        let response = self
            .issue_pair(
                &user.username,
                &record.client_id,
                &scopes,
                &record.family_id,
            )
            .await?;
        self.emit(
            &AuthEvent::new(AuthEventKind::Refreshed)
                .subject(&user.username)
                .client_id(&record.client_id),
        );
        Ok(response)
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

    async fn reuse_detected(&self, record: &RefreshTokenRecord) -> AuthError {
        self.emit(
            &AuthEvent::new(AuthEventKind::RefreshReused)
                .subject(&record.username)
                .client_id(&record.client_id)
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

    async fn issue_pair(
        &self,
        username: &str,
        client_id: &str,
        scopes: &Scopes,
        family_id: &str,
    ) -> Result<TokenResponse, AuthError> {
        let issued = self.tokens.issue(username, client_id, scopes)?;
        let refresh_token = new_refresh_token();
        let now = issued.claims.iat;
        self.refresh_tokens
            .insert(RefreshTokenRecord {
                token_hash: hash_refresh_token(&refresh_token),
                family_id: family_id.to_owned(),
                username: username.to_owned(),
                client_id: client_id.to_owned(),
                scopes: scopes.clone(),
                issued_at: now,
                expires_at: now.saturating_add(self.refresh_ttl),
                state: RefreshState::Active,
            })
            .await?;
        Ok(TokenResponse {
            access_token: issued.token,
            token_type: "bearer",
            expires_in: self.tokens.ttl(),
            refresh_token,
            scope: scopes.clone(),
        })
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
