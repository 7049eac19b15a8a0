//! Tests of both grants and revocation, over the in-memory stores.

use super::*;
use crate::AuthFairing;
use crate::config::AuthConfig;
use crate::grant::request::{PasswordRequestForm, PasswordRequestFormStrict, RefreshRequestForm};
use crate::password::MAX_PASSWORD_LEN;
use crate::password::{Password, PasswordHasher};
use crate::scopes::ScopeRegistry;
use crate::store::{
    MemoryRefreshTokenStore, MemoryUserStore, RefreshTokenStore as _, UserStore as _,
};
use crate::token::unix_now;

pub(super) struct Fixture {
    pub(super) auth: Auth,
    pub(super) users: MemoryUserStore,
    pub(super) refresh: MemoryRefreshTokenStore,
}

pub(super) fn fixture() -> Fixture {
    fixture_declaring(&["read", "write", "admin"])
}

pub(super) fn test_config() -> AuthConfig {
    AuthConfig {
        secret: Some("0123456789abcdef0123456789abcdef".into()),
        ..AuthConfig::default()
    }
}

pub(super) fn fixture_with(config: AuthConfig) -> Fixture {
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
    pub(super) async fn login(&self, body: &str) -> Result<TokenResponse, AuthError> {
        self.auth.password_grant(form(body)).await
    }

    pub(super) async fn refresh(
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
