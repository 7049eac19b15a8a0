//! Rotation racing revocation, made deterministic: a store wrapper stops a
//! refresh right before it writes its successor, the test revokes (or
//! replays) meanwhile, then lets the refresh go on. Whatever the store, the
//! family must end with no live token.

use std::sync::{Arc, Mutex};

use rocket::tokio::sync::Notify;

use crate::config::AuthConfig;
use crate::password::{Password, PasswordHasher};
use crate::store::{
    MemoryRefreshTokenStore, MemoryUserStore, RefreshState, RefreshTokenRecord, RefreshTokenStore,
    RotateOutcome, StoreError, TokenHash,
};
use crate::{Auth, AuthFairing, PasswordRequestForm, RefreshRequestForm, Scopes};

/// Forwards to `inner`, but the first write of a successor (by `rotate` or
/// `insert` into an existing family) waits until the test says go.
struct Gate<S> {
    inner: S,
    shared: Arc<GateState>,
}

#[derive(Default)]
struct GateState {
    armed: Mutex<bool>,
    arrived: Notify,
    proceed: Notify,
    /// Every token hash written, so the test can look at successors that
    /// were never handed out.
    written: Mutex<Vec<TokenHash>>,
}

impl GateState {
    async fn pass(&self, hash: TokenHash) {
        self.written.lock().unwrap().push(hash);
        let armed = std::mem::take(&mut *self.armed.lock().unwrap());
        if armed {
            self.arrived.notify_one();
            self.proceed.notified().await;
        }
    }
}

#[rocket::async_trait]
impl<S: RefreshTokenStore> RefreshTokenStore for Gate<S> {
    async fn insert(&self, record: RefreshTokenRecord) -> Result<(), StoreError> {
        self.shared.pass(record.token_hash).await;
        self.inner.insert(record).await
    }

    async fn rotate(
        &self,
        old: &TokenHash,
        successor: RefreshTokenRecord,
    ) -> Result<RotateOutcome, StoreError> {
        self.shared.pass(successor.token_hash).await;
        self.inner.rotate(old, successor).await
    }

    async fn consume(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<RefreshTokenRecord>, StoreError> {
        self.inner.consume(token_hash).await
    }

    async fn revoke_family(&self, family_id: &str) -> Result<(), StoreError> {
        self.inner.revoke_family(family_id).await
    }

    async fn revoke_user(&self, username: &str) -> Result<u64, StoreError> {
        self.inner.revoke_user(username).await
    }

    async fn find(&self, token_hash: &TokenHash) -> Result<Option<RefreshTokenRecord>, StoreError> {
        self.inner.find(token_hash).await
    }
    async fn family(
        &self,
        family_id: &str,
    ) -> Result<Option<crate::store::FamilyRecord>, StoreError> {
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

/// What lands while the refresh is stopped.
#[derive(Debug, Clone, Copy)]
enum Interloper {
    /// RFC 7009 revocation of the token being refreshed.
    Revoke,
    /// A second refresh with the same token (a replay).
    Replay,
    /// "Log out everywhere" for the user.
    RevokeUser,
}

async fn race<S: RefreshTokenStore + Clone>(store: S, interloper: Interloper) {
    let hasher = PasswordHasher::with_params(256, 1, 1).unwrap();
    let users = MemoryUserStore::new();
    users.insert_hashed(
        "john",
        &hasher.hash_blocking("secret").unwrap(),
        Scopes::parse("read").unwrap(),
        false,
    );
    let shared = Arc::new(GateState::default());
    let auth = Arc::new(
        AuthFairing::default()
            .users(users)
            .refresh_tokens(Gate {
                inner: store.clone(),
                shared: Arc::clone(&shared),
            })
            .hasher(hasher)
            .scope("read", "Read")
            .config(AuthConfig {
                secret: Some("0123456789abcdef0123456789abcdef".into()),
                ..AuthConfig::default()
            })
            .build(&rocket::figment::Figment::new())
            .unwrap(),
    );
    let pair = auth
        .password_grant(PasswordRequestForm::parse("username=john&password=secret").unwrap())
        .await
        .unwrap();
    let refresh = |auth: Arc<Auth>, token: String| async move {
        auth.refresh_grant(RefreshRequestForm {
            refresh_token: Password::new(token),
            scopes: None,
            client_id: None,
            client_secret: None,
            client_address: None,
        })
        .await
    };

    *shared.armed.lock().unwrap() = true;
    let stopped = rocket::tokio::spawn(refresh(Arc::clone(&auth), pair.refresh_token.clone()));
    shared.arrived.notified().await;
    // The refresh has checked the token and is about to write its successor.
    match interloper {
        Interloper::Revoke => auth.revoke(&pair.refresh_token).await.unwrap(),
        Interloper::RevokeUser => {
            auth.revoke_user("john").await.unwrap();
        }
        Interloper::Replay => {
            // Not stopped (the gate is disarmed): this one rotates.
            let winner = refresh(Arc::clone(&auth), pair.refresh_token.clone()).await;
            assert!(winner.is_ok(), "{interloper:?}: {winner:?}");
        }
    }
    shared.proceed.notify_one();
    let late = stopped.await.unwrap();
    assert_eq!(
        late.map(|r| r.scope).unwrap_err().code(),
        "invalid_grant",
        "{interloper:?}"
    );
    // No token of the family is active any more, handed out or not.
    let written = shared.written.lock().unwrap().clone();
    assert!(written.len() >= 2, "{interloper:?}: {written:?}");
    for hash in written {
        if let Some(record) = store.find(&hash).await.unwrap() {
            assert_ne!(record.state, RefreshState::Active, "{interloper:?}");
        }
    }
}

#[rocket::async_test]
async fn memory_rotation_racing_revocation_keeps_no_live_successor() {
    for interloper in [
        Interloper::Revoke,
        Interloper::Replay,
        Interloper::RevokeUser,
    ] {
        race(MemoryRefreshTokenStore::new(), interloper).await;
    }
}

#[cfg(feature = "sqlite")]
#[rocket::async_test]
async fn sqlite_rotation_racing_revocation_keeps_no_live_successor() {
    for interloper in [
        Interloper::Revoke,
        Interloper::Replay,
        Interloper::RevokeUser,
    ] {
        let store = crate::store::sqlite::SqliteStore::connect("sqlite::memory:")
            .await
            .unwrap();
        race(store, interloper).await;
    }
}

#[cfg(feature = "postgres")]
#[rocket::async_test]
async fn postgres_rotation_racing_revocation_keeps_no_live_successor() {
    for interloper in [
        Interloper::Revoke,
        Interloper::Replay,
        Interloper::RevokeUser,
    ] {
        let Some(url) = crate::store::postgres::tests::fresh_database("races").await else {
            return;
        };
        let store = crate::store::postgres::PgStore::connect(
            &url,
            &crate::store::database::PoolSettings::default(),
        )
        .await
        .unwrap();
        race(store, interloper).await;
    }
}
