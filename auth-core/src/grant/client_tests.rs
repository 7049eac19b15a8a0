//! Client authentication, the client-credentials grant and client-bound
//! revocation, over the in-memory stores.

use std::fmt::Write as _;

use super::*;
use crate::AuthFairing;
use crate::grant::request::{
    ClientCredentialsRequest, PasswordRequestForm, RefreshRequestForm, RevocationRequest,
};
use crate::password::PasswordHasher;
use crate::scopes::ScopeRegistry;
use crate::store::{
    ClientRecord, ClientStore as _, GrantType, MemoryClientStore, MemoryRefreshTokenStore,
    MemoryUserStore, RefreshTokenStore as _,
};
use crate::token::TokenProblem;

struct Fixture {
    auth: Auth,
    clients: MemoryClientStore,
    refresh: MemoryRefreshTokenStore,
    /// The secrets of `svc`, `app`, `pw-only` and `off`.
    secrets: std::collections::HashMap<&'static str, String>,
}

fn scopes(list: &str) -> Scopes {
    Scopes::parse(list).unwrap()
}

/// User `john` (read write); clients `svc` (confidential,
/// `client_credentials`, read), `app` (confidential, password and refresh,
/// read), `pw-only` (confidential, password), `pub` (public, password and
/// refresh, read write), `off` (confidential, `client_credentials`,
/// disabled).
fn fixture() -> Fixture {
    let hasher = PasswordHasher::with_params(256, 1, 1).unwrap();
    let users = MemoryUserStore::new();
    users.insert_hashed(
        "john",
        &hasher.hash_blocking("secret").unwrap(),
        scopes("read write"),
        false,
    );
    let clients = MemoryClientStore::new();
    let mut secrets = std::collections::HashMap::new();
    for (id, grants, allowed, enabled) in [
        ("svc", vec![GrantType::ClientCredentials], "read", true),
        (
            "app",
            vec![GrantType::Password, GrantType::RefreshToken],
            "read",
            true,
        ),
        ("pw-only", vec![GrantType::Password], "read write", true),
        ("off", vec![GrantType::ClientCredentials], "read", false),
    ] {
        let (mut record, secret) = ClientRecord::confidential(id, grants, scopes(allowed), 0);
        record.enabled = enabled;
        clients.insert(record);
        secrets.insert(id, secret.expose().to_owned());
    }
    clients.insert(ClientRecord::public(
        "pub",
        vec![GrantType::Password, GrantType::RefreshToken],
        scopes("read write"),
        0,
    ));
    let refresh = MemoryRefreshTokenStore::new();
    let auth = AuthFairing::default()
        .users(users)
        .refresh_tokens(refresh.clone())
        .clients(clients.clone())
        .hasher(hasher)
        .scopes(
            ScopeRegistry::new()
                .with("read", "Read")
                .with("write", "Write"),
        )
        .config(super::tests::test_config())
        .build(&rocket::figment::Figment::new())
        .unwrap();
    Fixture {
        auth,
        clients,
        refresh,
        secrets,
    }
}

impl Fixture {
    fn secret(&self, id: &str) -> String {
        self.secrets[id].clone()
    }

    async fn client_credentials(
        &self,
        id: Option<&str>,
        secret: Option<&str>,
        scope: &str,
    ) -> Result<TokenResponse, AuthError> {
        let mut body = format!("grant_type=client_credentials&scope={scope}");
        if let Some(id) = id {
            let _ = write!(body, "&client_id={id}");
        }
        if let Some(secret) = secret {
            let _ = write!(body, "&client_secret={secret}");
        }
        let TokenRequest::ClientCredentials(form) = TokenRequest::parse(&body).unwrap() else {
            panic!("expected a client-credentials request");
        };
        self.auth.client_credentials_grant(form).await
    }

    async fn login(&self, id: &str, secret: Option<&str>) -> Result<TokenResponse, AuthError> {
        let mut body = format!("username=john&password=secret&client_id={id}");
        if let Some(secret) = secret {
            let _ = write!(body, "&client_secret={secret}");
        }
        self.auth
            .password_grant(PasswordRequestForm::parse(&body).unwrap())
            .await
    }

    async fn refresh_as(
        &self,
        token: &str,
        id: &str,
        secret: Option<&str>,
    ) -> Result<TokenResponse, AuthError> {
        let mut body = format!("grant_type=refresh_token&refresh_token={token}&client_id={id}");
        if let Some(secret) = secret {
            let _ = write!(body, "&client_secret={secret}");
        }
        let TokenRequest::Refresh(form) = TokenRequest::parse(&body).unwrap() else {
            panic!("expected a refresh request");
        };
        let form: RefreshRequestForm = form;
        self.auth.refresh_grant(form).await
    }
}

fn code(result: Result<impl std::fmt::Debug, AuthError>) -> &'static str {
    result.unwrap_err().code()
}

#[rocket::async_test]
async fn client_credentials_issue_a_client_token_without_refresh_token() {
    let f = fixture();
    let reply = f
        .client_credentials(Some("svc"), Some(&f.secret("svc")), "")
        .await
        .unwrap();
    assert!(reply.refresh_token.is_empty());
    assert_eq!(reply.scope.to_string(), "read");
    let json = serde_json::to_value(&reply).unwrap();
    assert!(json.get("refresh_token").is_none(), "{json}");
    let claims = f.auth.authenticate(&reply.access_token).await.unwrap();
    assert_eq!(claims.sub, "svc");
    assert_eq!(claims.client_id, "svc");
    assert_eq!(claims.sid, None);
    assert!(claims.is_client());
    assert_eq!(claims.gty.as_deref(), Some("client_credentials"));

    let narrowed = f
        .client_credentials(Some("svc"), Some(&f.secret("svc")), "read")
        .await
        .unwrap();
    assert_eq!(narrowed.scope.to_string(), "read");
}

#[rocket::async_test]
async fn client_credentials_refusals() {
    let f = fixture();
    let svc = f.secret("svc");
    assert_eq!(
        code(f.client_credentials(Some("svc"), Some("wrong"), "").await),
        "invalid_client"
    );
    assert_eq!(
        code(f.client_credentials(Some("svc"), None, "").await),
        "invalid_client"
    );
    assert_eq!(
        code(f.client_credentials(Some("nobody"), Some(&svc), "").await),
        "invalid_client"
    );
    assert_eq!(
        code(f.client_credentials(Some("nobody"), None, "").await),
        "invalid_client"
    );
    assert_eq!(
        code(f.client_credentials(None, None, "").await),
        "invalid_client"
    );
    assert_eq!(
        code(f.client_credentials(Some("pub"), None, "").await),
        "invalid_client"
    );
    assert_eq!(
        code(
            f.client_credentials(Some("off"), Some(&f.secret("off")), "")
                .await
        ),
        "invalid_client"
    );
    // Another client's secret is no good either.
    assert_eq!(
        code(f.client_credentials(Some("app"), Some(&svc), "").await),
        "invalid_client"
    );
    assert_eq!(
        code(
            f.client_credentials(Some("app"), Some(&f.secret("app")), "")
                .await
        ),
        "unauthorized_client"
    );
    assert_eq!(
        code(f.client_credentials(Some("svc"), Some(&svc), "write").await),
        "invalid_scope"
    );
}

#[rocket::async_test]
async fn a_client_token_ends_with_its_client() {
    let f = fixture();
    let token = f
        .client_credentials(Some("svc"), Some(&f.secret("svc")), "")
        .await
        .unwrap()
        .access_token;
    assert!(f.auth.authenticate(&token).await.is_ok());
    f.clients.set_client_enabled("svc", false).await.unwrap();
    f.auth.verifier().forget_client("svc");
    let err = f.auth.authenticate(&token).await.unwrap_err();
    assert!(matches!(
        err,
        AuthError::InvalidToken(TokenProblem::UnknownSubject)
    ));
    f.clients.set_client_enabled("svc", true).await.unwrap();
    assert!(f.auth.authenticate(&token).await.is_ok());
    // Scopes withdrawn from the client are refused.
    let mut svc = f.clients.find_client("svc").await.unwrap().unwrap();
    svc.scopes = Scopes::new();
    f.clients.insert(svc);
    f.auth.verifier().forget_client("svc");
    let err = f.auth.authenticate(&token).await.unwrap_err();
    assert!(matches!(
        err,
        AuthError::InvalidToken(TokenProblem::ScopeWithdrawn)
    ));
    f.clients.delete_client("svc").await.unwrap();
    f.auth.verifier().forget_client("svc");
    assert!(f.auth.authenticate(&token).await.is_err());
}

#[rocket::async_test]
async fn a_user_token_never_passes_for_a_client_or_back() {
    let f = fixture();
    // A user's token names no client subject, however its `sub` reads.
    let user = f.login("app", Some(&f.secret("app"))).await.unwrap();
    let claims = f.auth.authenticate(&user.access_token).await.unwrap();
    assert!(!claims.is_client());
    assert_eq!(claims.gty, None);
    // A client token whose `sub` is a user's name is checked against the
    // registry, not the user store.
    let forged = f
        .auth
        .tokens()
        .issue_for_client("john", &scopes("read"))
        .unwrap()
        .token;
    assert!(f.auth.authenticate(&forged).await.is_err());
}

#[rocket::async_test]
async fn confidential_clients_authenticate_for_the_password_grant() {
    let f = fixture();
    let app = f.secret("app");
    assert_eq!(code(f.login("app", None).await), "invalid_client");
    assert_eq!(code(f.login("app", Some("wrong")).await), "invalid_client");
    // The client's scopes narrow the user's.
    let reply = f.login("app", Some(&app)).await.unwrap();
    assert_eq!(reply.scope.to_string(), "read");
    assert!(!reply.refresh_token.is_empty());
    let body =
        format!("username=john&password=secret&client_id=app&client_secret={app}&scope=write");
    let err = f
        .auth
        .password_grant(PasswordRequestForm::parse(&body).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_scope");
    // A client without the grant.
    assert_eq!(
        code(f.login("svc", Some(&f.secret("svc"))).await),
        "unauthorized_client"
    );
    // A public client sends no secret; a secret for it is refused.
    assert_eq!(
        f.login("pub", None).await.unwrap().scope.to_string(),
        "read write"
    );
    assert_eq!(code(f.login("pub", Some("x")).await), "invalid_client");
    // A client not allowed the refresh grant gets no refresh token.
    let pw_only = f
        .login("pw-only", Some(&f.secret("pw-only")))
        .await
        .unwrap();
    assert!(pw_only.refresh_token.is_empty());
    // An unregistered client id is a public client, as before clients
    // were registered; a secret sent with it is not looked at.
    assert!(f.login("cli", None).await.is_ok());
    assert!(f.login("cli", Some("unused")).await.is_ok());
}

#[rocket::async_test]
async fn a_refresh_token_is_redeemed_only_by_its_client() {
    let f = fixture();
    let app = f.secret("app");
    let pair = f.login("app", Some(&app)).await.unwrap();
    assert_eq!(
        code(f.refresh_as(&pair.refresh_token, "app", None).await),
        "invalid_client"
    );
    assert_eq!(
        code(f.refresh_as(&pair.refresh_token, "pub", None).await),
        "invalid_grant"
    );
    assert_eq!(
        code(f.refresh_as(&pair.refresh_token, "cli", None).await),
        "invalid_grant"
    );
    let next = f
        .refresh_as(&pair.refresh_token, "app", Some(&app))
        .await
        .unwrap();
    assert_eq!(next.scope.to_string(), "read");
}

#[rocket::async_test]
async fn revocation_is_bound_to_the_client() {
    let f = fixture();
    let app = f.secret("app");
    let pair = f.login("app", Some(&app)).await.unwrap();
    let hash = hash_refresh_token(&pair.refresh_token);
    let state = || async { f.refresh.find(&hash).await.unwrap().unwrap().state };
    let auth = &f.auth;
    let revoke = |body: String| async move {
        auth.revoke_request(RevocationRequest::parse(&body).unwrap())
            .await
    };
    let token = &pair.refresh_token;
    // The owner without its secret: refused.
    assert_eq!(
        code(revoke(format!("token={token}&client_id=app")).await),
        "invalid_client"
    );
    // Another client, or nobody: 200, and nothing happens.
    revoke(format!("token={token}&client_id=pub"))
        .await
        .unwrap();
    revoke(format!("token={token}")).await.unwrap();
    revoke(format!(
        "token={token}&client_id=svc&client_secret={}",
        f.secret("svc")
    ))
    .await
    .unwrap();
    assert_eq!(state().await, RefreshState::Active);
    // The owner.
    revoke(format!("token={token}&client_id=app&client_secret={app}"))
        .await
        .unwrap();
    assert_eq!(state().await, RefreshState::Revoked);
    // Tokens of unregistered clients are revoked for whoever holds them.
    let plain = f.login("cli", None).await.unwrap();
    revoke(format!("token={}", plain.refresh_token))
        .await
        .unwrap();
    let plain_hash = hash_refresh_token(&plain.refresh_token);
    assert_eq!(
        f.refresh.find(&plain_hash).await.unwrap().unwrap().state,
        RefreshState::Revoked
    );
}

#[test]
fn client_credentials_request_debug_hides_the_secret() {
    let TokenRequest::ClientCredentials(form) =
        TokenRequest::parse("grant_type=client_credentials&client_id=a&client_secret=hunter2")
            .unwrap()
    else {
        panic!("expected a client-credentials request");
    };
    let form: ClientCredentialsRequest = form;
    assert!(!format!("{form:?}").contains("hunter2"));
}
