//! Sessions (refresh-token families) as an attacker meets them: replays
//! however many rotations later, access tokens after a logout, and logins
//! beyond the per-user cap. Over the in-memory stores.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::tests::{fixture, fixture_with, test_config};
use super::*;
use crate::AuthFairing;
use crate::config::AuthConfig;
use crate::grant::request::PasswordRequestForm;
use crate::password::PasswordHasher;
use crate::store::{
    FamilyRecord, MemoryRefreshTokenStore, RefreshTokenStore, RotateOutcome, StoreError,
};
use crate::token::TokenProblem;

const JOHN: &str = "username=john&password=secret";

fn assert_session_ended(result: Result<crate::AccessTokenClaims, AuthError>) {
    let err = result.expect_err("the session ended");
    assert!(
        matches!(err, AuthError::InvalidToken(TokenProblem::SessionEnded)),
        "{err:?}"
    );
}

fn assert_grant_problem(err: &AuthError, problem: GrantProblem) {
    assert!(
        matches!(err, AuthError::InvalidGrant(p) if *p == problem),
        "{err:?}"
    );
}

#[rocket::async_test]
async fn a_token_rotated_past_any_number_of_times_ago_revokes_its_family() {
    // The store keeps 16 tokens per family; replays from beyond them must
    // be recognised as well as recent ones.
    for rotations in [1, 15, 16, 17, 40] {
        let f = fixture();
        let first = f.login(JOHN).await.unwrap();
        let mut newest = first.clone();
        for _ in 0..rotations {
            newest = f.refresh(&newest.refresh_token, None).await.unwrap();
        }
        let replay = f.refresh(&first.refresh_token, None).await.unwrap_err();
        assert_grant_problem(&replay, GrantProblem::RefreshTokenReused);
        let after = f.refresh(&newest.refresh_token, None).await.unwrap_err();
        assert_eq!(after.code(), "invalid_grant", "after {rotations} rotations");
        assert_session_ended(f.auth.authenticate(&newest.access_token).await);
    }
}

#[rocket::async_test]
async fn a_forged_token_naming_no_live_family_is_only_invalid() {
    let f = fixture();
    let pair = f.login(JOHN).await.unwrap();
    // The right shape, a family nobody has: no revocation of anything.
    let forged = format!("{}.{}", "A".repeat(22), "x".repeat(43));
    let err = f.refresh(&forged, None).await.unwrap_err();
    assert_grant_problem(&err, GrantProblem::InvalidRefreshToken);
    // Only the key of the family revokes it; the access token's sid does
    // not help an attacker build one.
    let claims = f.auth.tokens().verify(&pair.access_token).unwrap();
    let sid = claims.sid.expect("issued in a session");
    let from_sid = format!("{}.{}", &sid[..sid.len().min(22)], "x".repeat(43));
    let err = f.refresh(&from_sid, None).await.unwrap_err();
    assert_grant_problem(&err, GrantProblem::InvalidRefreshToken);
    assert!(f.refresh(&pair.refresh_token, None).await.is_ok());
}

#[rocket::async_test]
async fn access_tokens_end_with_their_session() {
    let f = fixture();
    let phone = f.login(JOHN).await.unwrap();
    let laptop = f.login(JOHN).await.unwrap();
    let phone_sid = f.auth.tokens().verify(&phone.access_token).unwrap().sid;
    let laptop_sid = f.auth.tokens().verify(&laptop.access_token).unwrap().sid;
    assert!(phone_sid.is_some());
    assert_ne!(phone_sid, laptop_sid, "each login is a session");
    // Remembered as live ...
    assert!(f.auth.authenticate(&phone.access_token).await.is_ok());
    // ... until the phone logs out (RFC 7009): its access token ends at
    // once, the laptop's does not.
    f.auth.revoke(&phone.refresh_token).await.unwrap();
    assert_session_ended(f.auth.authenticate(&phone.access_token).await);
    assert!(f.auth.authenticate(&laptop.access_token).await.is_ok());
    // A refreshed access token belongs to the same session.
    let rotated = f.refresh(&laptop.refresh_token, None).await.unwrap();
    assert!(f.auth.authenticate(&rotated.access_token).await.is_ok());
    // "Log out everywhere" ends every session.
    f.auth.revoke_user("john").await.unwrap();
    for pair in [&laptop, &rotated] {
        assert_session_ended(f.auth.authenticate(&pair.access_token).await);
    }
}

#[rocket::async_test]
async fn a_password_change_ends_the_sessions_it_leaves_behind() {
    let f = fixture();
    let users = f.users.clone().with_sessions(f.refresh.clone());
    let pair = f.login(JOHN).await.unwrap();
    assert!(f.auth.authenticate(&pair.access_token).await.is_ok());
    assert!(users.set_password("john", "$argon2id$new"));
    // The store changed behind the toolkit's back: the cached answer holds
    // until forgotten (or the cache lifetime ends), then the session is
    // found ended.
    f.auth.forget_subject("john");
    assert_session_ended(f.auth.authenticate(&pair.access_token).await);
}

/// A refresh-token store that counts how often sessions are looked up.
#[derive(Clone, Default)]
struct Counting {
    inner: MemoryRefreshTokenStore,
    family_lookups: Arc<AtomicUsize>,
}

#[rocket::async_trait]
impl RefreshTokenStore for Counting {
    async fn insert(&self, record: RefreshTokenRecord) -> Result<(), StoreError> {
        self.inner.insert(record).await
    }
    async fn rotate(
        &self,
        old: &TokenHash,
        successor: RefreshTokenRecord,
    ) -> Result<RotateOutcome, StoreError> {
        self.inner.rotate(old, successor).await
    }
    async fn consume(&self, hash: &TokenHash) -> Result<Option<RefreshTokenRecord>, StoreError> {
        self.inner.consume(hash).await
    }
    async fn revoke_family(&self, family_id: &str) -> Result<(), StoreError> {
        self.inner.revoke_family(family_id).await
    }
    async fn revoke_user(&self, username: &str) -> Result<u64, StoreError> {
        self.inner.revoke_user(username).await
    }
    async fn find(&self, hash: &TokenHash) -> Result<Option<RefreshTokenRecord>, StoreError> {
        self.inner.find(hash).await
    }
    async fn family(&self, family_id: &str) -> Result<Option<FamilyRecord>, StoreError> {
        self.family_lookups.fetch_add(1, Ordering::Relaxed);
        self.inner.family(family_id).await
    }
    async fn revoke_oldest_families(
        &self,
        username: &str,
        keep: usize,
        now: u64,
    ) -> Result<Vec<String>, StoreError> {
        self.inner.revoke_oldest_families(username, keep, now).await
    }
}

#[rocket::async_test]
async fn the_session_check_asks_the_store_once_per_cache_lifetime() {
    let users = fixture().users;
    let counting = Counting::default();
    let auth = AuthFairing::default()
        .users(users)
        .refresh_tokens(counting.clone())
        .hasher(PasswordHasher::with_params(256, 1, 1).unwrap())
        .scope("read", "Read")
        .scope("write", "Write")
        .config(test_config())
        .build(&rocket::figment::Figment::new())
        .unwrap();
    let pair = auth
        .password_grant(PasswordRequestForm::parse(JOHN).unwrap())
        .await
        .unwrap();
    for _ in 0..100 {
        auth.authenticate(&pair.access_token).await.unwrap();
    }
    assert_eq!(counting.family_lookups.load(Ordering::Relaxed), 1);
}

#[rocket::async_test]
async fn logins_beyond_the_session_cap_end_the_oldest() {
    let f = fixture_with(AuthConfig {
        max_sessions_per_user: 2,
        ..test_config()
    });
    let mut logins = Vec::new();
    for _ in 0..4 {
        logins.push(f.login(JOHN).await.unwrap());
    }
    for ended in &logins[..2] {
        let err = f.refresh(&ended.refresh_token, None).await.unwrap_err();
        assert_eq!(err.code(), "invalid_grant");
        assert_session_ended(f.auth.authenticate(&ended.access_token).await);
    }
    for live in &logins[2..] {
        assert!(f.auth.authenticate(&live.access_token).await.is_ok());
        assert!(f.refresh(&live.refresh_token, None).await.is_ok());
    }
    // Another user's sessions are their own.
    let other = f.login("username=mixed&password=secret").await.unwrap();
    assert!(f.refresh(&other.refresh_token, None).await.is_ok());
}
