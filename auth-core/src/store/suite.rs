//! The store test suite, run against every backend: the in-memory stores
//! (here), `SQLite` (`sqlite/tests.rs`) and PostgreSQL
//! (`postgres/tests.rs`).
//!
//! Each test is an async fn taking a [`Pair`]: two handles on one store,
//! which for the SQL backends are two independent pools (the connections
//! two processes would have). [`store_suite!`] turns them into `#[test]`s
//! for one backend, each on a multi-threaded runtime.

use std::sync::Arc;

use rocket::tokio::sync::Barrier;

use super::{
    ClientRecord, ClientStore, GrantType, MAX_FAMILY_TOKENS, MemoryClientStore,
    MemoryRefreshTokenStore, MemoryUserStore, RefreshState, RefreshTokenRecord, RefreshTokenStore,
    RotateOutcome, StoreError, UserAdmin, UserRecord, UserStore,
};
use crate::scopes::Scopes;

/// What the suite runs on: a store of users, refresh tokens and clients,
/// and its administration.
pub(crate) trait SuiteStore: UserAdmin + RefreshTokenStore + ClientStore + Clone {}

impl<S: UserAdmin + RefreshTokenStore + ClientStore + Clone> SuiteStore for S {}

/// The in-memory stores, linked as an application links them.
#[derive(Debug, Clone)]
pub(crate) struct Memory {
    users: MemoryUserStore,
    tokens: MemoryRefreshTokenStore,
    clients: MemoryClientStore,
}

impl Memory {
    fn new() -> Self {
        let tokens = MemoryRefreshTokenStore::new();
        Self {
            users: MemoryUserStore::new().with_sessions(tokens.clone()),
            tokens,
            clients: MemoryClientStore::new(),
        }
    }
}

#[rocket::async_trait]
impl UserStore for Memory {
    async fn find_user(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        self.users.find_user(username).await
    }
    async fn set_password_hash(&self, username: &str, hash: &str) -> Result<(), StoreError> {
        self.users.set_password_hash(username, hash).await
    }
}

#[rocket::async_trait]
impl RefreshTokenStore for Memory {
    async fn insert(&self, record: RefreshTokenRecord) -> Result<(), StoreError> {
        self.tokens.insert(record).await
    }
    async fn rotate(
        &self,
        old: &super::TokenHash,
        successor: RefreshTokenRecord,
    ) -> Result<RotateOutcome, StoreError> {
        self.tokens.rotate(old, successor).await
    }
    async fn consume(
        &self,
        token_hash: &super::TokenHash,
    ) -> Result<Option<RefreshTokenRecord>, StoreError> {
        self.tokens.consume(token_hash).await
    }
    async fn revoke_family(&self, family_id: &str) -> Result<(), StoreError> {
        self.tokens.revoke_family(family_id).await
    }
    async fn revoke_user(&self, username: &str) -> Result<u64, StoreError> {
        self.tokens.revoke_user(username).await
    }
    async fn find(
        &self,
        token_hash: &super::TokenHash,
    ) -> Result<Option<RefreshTokenRecord>, StoreError> {
        self.tokens.find(token_hash).await
    }
    async fn family(
        &self,
        family_id: &str,
    ) -> Result<Option<crate::store::FamilyRecord>, StoreError> {
        self.tokens.family(family_id).await
    }
    async fn revoke_oldest_families(
        &self,
        username: &str,
        keep: usize,
        now: u64,
    ) -> Result<Vec<String>, StoreError> {
        self.tokens
            .revoke_oldest_families(username, keep, now)
            .await
    }
}

#[rocket::async_trait]
impl ClientStore for Memory {
    async fn find_client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        self.clients.find_client(client_id).await
    }
    async fn create_client(&self, record: ClientRecord) -> Result<(), StoreError> {
        self.clients.create_client(record).await
    }
    async fn list_clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        self.clients.list_clients().await
    }
    async fn set_client_enabled(&self, client_id: &str, enabled: bool) -> Result<bool, StoreError> {
        self.clients.set_client_enabled(client_id, enabled).await
    }
    async fn delete_client(&self, client_id: &str) -> Result<bool, StoreError> {
        self.clients.delete_client(client_id).await
    }
}

#[rocket::async_trait]
impl UserAdmin for Memory {
    async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.users.list_users().await
    }
    async fn count_users(&self) -> Result<u64, StoreError> {
        self.users.count_users().await
    }
    async fn create_user(
        &self,
        username: &str,
        hash: &str,
        scopes: &Scopes,
        disabled: bool,
    ) -> Result<(), StoreError> {
        self.users
            .create_user(username, hash, scopes, disabled)
            .await
    }
    async fn set_disabled(&self, username: &str, disabled: bool) -> Result<bool, StoreError> {
        UserAdmin::set_disabled(&self.users, username, disabled).await
    }
    async fn set_password(&self, username: &str, hash: &str) -> Result<bool, StoreError> {
        UserAdmin::set_password(&self.users, username, hash).await
    }
    async fn set_scopes(&self, username: &str, scopes: &Scopes) -> Result<bool, StoreError> {
        self.users.set_scopes(username, scopes).await
    }
    async fn revoke_sessions(&self, username: &str) -> Result<u64, StoreError> {
        self.users.revoke_sessions(username).await
    }
    async fn delete_user(&self, username: &str) -> Result<bool, StoreError> {
        self.users.delete_user(username).await
    }
}

/// Two handles on one store, and whatever keeps its database alive.
pub(crate) struct Pair<S> {
    pub first: S,
    pub second: S,
    pub _guard: Box<dyn std::any::Any + Send>,
}

/// A memory store, twice (clones share everything).
#[allow(clippy::unused_async, reason = "every backend's opener is async")]
pub(crate) async fn memory() -> Option<Pair<Memory>> {
    let store = Memory::new();
    Some(Pair {
        first: store.clone(),
        second: store,
        _guard: Box::new(()),
    })
}

/// The runtime every suite test runs on: several worker threads, so tasks
/// racing each other really run at once.
pub(crate) fn runtime() -> rocket::tokio::runtime::Runtime {
    rocket::tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// One `#[test]` per suite test, for the backend that `$open` (an async fn
/// returning `Option<Pair<_>>`; `None` skips) opens.
macro_rules! store_suite {
    ($open:path) => {
        $crate::store::suite::store_suite!(
            @tests $open;
            users_create_find_list_update,
            duplicate_user_is_a_conflict,
            refresh_token_roundtrip_and_duplicate,
            consume_marks_active_used_exactly_once,
            revoke_family_touches_only_that_family,
            rotate_outcomes_and_revoked_families,
            user_changes_revoke_the_users_families,
            writes_cap_families_and_prune_expired_tokens,
            concurrent_consumers_see_active_exactly_once,
            concurrent_rotations_have_one_winner_and_reuse_kills_the_family,
            rotation_racing_revocation_never_leaves_a_live_successor,
            families_outlive_their_pruned_tokens_until_their_end,
            oldest_sessions_beyond_the_cap_are_revoked,
            clients_register_find_list_disable_delete,
        );
    };
    (@tests $open:path; $($name:ident,)*) => {
        $(
            #[test]
            fn $name() {
                $crate::store::suite::runtime().block_on(async {
                    if let Some(pair) = $open().await {
                        $crate::store::suite::$name(pair).await;
                    }
                });
            }
        )*
    };
}
pub(crate) use store_suite;

mod memory_backend {
    use super::memory;
    store_suite!(memory);
}

fn scopes(list: &str) -> Scopes {
    Scopes::parse(list).unwrap()
}

/// A token of `family` for alice; the hash is `[hash; 32]`.
pub(crate) fn token(hash: u8, family: &str) -> RefreshTokenRecord {
    RefreshTokenRecord {
        token_hash: [hash; 32],
        family_id: family.into(),
        username: "alice".into(),
        client_id: "web".into(),
        scopes: scopes("read:items write:items"),
        issued_at: 1_700_000_000,
        expires_at: 1_700_003_600,
        family_expires_at: 1_700_003_600,
        state: RefreshState::Active,
    }
}

async fn state<S: RefreshTokenStore>(store: &S, hash: u8) -> Option<RefreshState> {
    store.find(&[hash; 32]).await.unwrap().map(|r| r.state)
}

pub(crate) async fn users_create_find_list_update<S: SuiteStore>(pair: Pair<S>) {
    let store = pair.first;
    assert!(store.list_users().await.unwrap().is_empty());
    store
        .create_user("johndoe", "h1", &scopes("write:items read:items"), false)
        .await
        .unwrap();
    store
        .create_user("alice", "h2", &scopes("read:items"), true)
        .await
        .unwrap();
    store
        .create_user("admin", "h3", &Scopes::new(), false)
        .await
        .unwrap();

    let john = pair.second.find_user("johndoe").await.unwrap().unwrap();
    assert_eq!(
        john,
        UserRecord {
            username: "johndoe".into(),
            password_hash: "h1".into(),
            scopes: scopes("read:items write:items"),
            disabled: false,
        }
    );
    assert!(store.find_user("alice").await.unwrap().unwrap().disabled);
    assert!(store.find_user("nobody").await.unwrap().is_none());
    assert!(store.find_user("JOHNDOE").await.unwrap().is_none());

    let names: Vec<String> = store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["admin", "alice", "johndoe"]);
    assert_eq!(pair.second.count_users().await.unwrap(), 3);
    let admin = store.find_user("admin").await.unwrap().unwrap();
    assert!(admin.scopes.is_empty());

    store.set_password_hash("johndoe", "h1-new").await.unwrap();
    store.set_password_hash("nobody", "x").await.unwrap();
    let john = store.find_user("johndoe").await.unwrap().unwrap();
    assert_eq!(john.password_hash, "h1-new");

    assert!(store.set_disabled("alice", false).await.unwrap());
    assert!(!store.set_disabled("nobody", true).await.unwrap());
    assert!(!store.find_user("alice").await.unwrap().unwrap().disabled);

    assert!(
        store
            .set_scopes("alice", &scopes("write:items"))
            .await
            .unwrap()
    );
    let alice = pair.second.find_user("alice").await.unwrap().unwrap();
    assert_eq!(alice.scopes, scopes("write:items"));
    assert!(!store.set_scopes("nobody", &Scopes::new()).await.unwrap());
}

pub(crate) async fn duplicate_user_is_a_conflict<S: SuiteStore>(pair: Pair<S>) {
    let store = pair.first;
    store
        .create_user("alice", "h", &Scopes::new(), false)
        .await
        .unwrap();
    let err = pair
        .second
        .create_user("alice", "other", &scopes("admin"), false)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict { what } if what.contains("alice")),
        "{err:?}"
    );
    let alice = store.find_user("alice").await.unwrap().unwrap();
    assert_eq!(alice.password_hash, "h");
}

pub(crate) async fn refresh_token_roundtrip_and_duplicate<S: SuiteStore>(pair: Pair<S>) {
    let store = pair.first;
    let record = token(7, "family");
    store.insert(record.clone()).await.unwrap();
    assert_eq!(
        pair.second.find(&[7; 32]).await.unwrap(),
        Some(record.clone())
    );
    assert!(store.find(&[8; 32]).await.unwrap().is_none());
    let err = store.insert(record).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
}

pub(crate) async fn consume_marks_active_used_exactly_once<S: SuiteStore>(pair: Pair<S>) {
    let store = pair.first;
    store.insert(token(1, "f")).await.unwrap();

    let first = store.consume(&[1; 32]).await.unwrap().unwrap();
    assert_eq!(first, token(1, "f"));
    assert_eq!(first.state, RefreshState::Active);

    let second = pair.second.consume(&[1; 32]).await.unwrap().unwrap();
    assert_eq!(second.state, RefreshState::Used);
    let third = store.consume(&[1; 32]).await.unwrap().unwrap();
    assert_eq!(third.state, RefreshState::Used);
    assert_eq!(state(&store, 1).await, Some(RefreshState::Used));

    assert!(store.consume(&[2; 32]).await.unwrap().is_none());
}

pub(crate) async fn revoke_family_touches_only_that_family<S: SuiteStore>(pair: Pair<S>) {
    let store = pair.first;
    store.insert(token(1, "f")).await.unwrap();
    store.insert(token(2, "f")).await.unwrap();
    store.insert(token(3, "g")).await.unwrap();
    store.consume(&[1; 32]).await.unwrap();

    pair.second.revoke_family("f").await.unwrap();
    pair.second.revoke_family("unknown").await.unwrap();

    for (hash, expected) in [
        (1, RefreshState::Revoked),
        (2, RefreshState::Revoked),
        (3, RefreshState::Active),
    ] {
        assert_eq!(state(&store, hash).await, Some(expected), "token {hash}");
    }
    let revoked = store.consume(&[2; 32]).await.unwrap().unwrap();
    assert_eq!(revoked.state, RefreshState::Revoked);
    assert_eq!(state(&store, 2).await, Some(RefreshState::Revoked));
}

pub(crate) async fn rotate_outcomes_and_revoked_families<S: SuiteStore>(pair: Pair<S>) {
    let store = pair.first;
    store.insert(token(1, "f")).await.unwrap();
    assert_eq!(
        store.rotate(&[1; 32], token(2, "f")).await.unwrap(),
        RotateOutcome::Rotated
    );
    assert_eq!(state(&store, 1).await, Some(RefreshState::Used));
    assert_eq!(state(&store, 2).await, Some(RefreshState::Active));
    let RotateOutcome::Reused(old) = pair.second.rotate(&[1; 32], token(3, "f")).await.unwrap()
    else {
        panic!("expected a replay");
    };
    assert_eq!(old.token_hash, [1; 32]);
    assert_eq!(old.family_expires_at, 1_700_003_600);
    assert_eq!(state(&store, 3).await, None);
    assert_eq!(
        store.rotate(&[9; 32], token(4, "f")).await.unwrap(),
        RotateOutcome::Refused
    );
    store.revoke_family("f").await.unwrap();
    assert_eq!(
        pair.second.rotate(&[2; 32], token(5, "f")).await.unwrap(),
        RotateOutcome::Refused
    );
    assert!(matches!(
        store.insert(token(6, "f")).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(state(&store, 5).await, None);
    assert_eq!(state(&store, 6).await, None);
}

pub(crate) async fn user_changes_revoke_the_users_families<S: SuiteStore>(pair: Pair<S>) {
    let store = pair.first;
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
    store
        .create_user("alice", hash, &scopes("read:items"), false)
        .await
        .unwrap();
    let mut bob = token(9, "b");
    bob.username = "bob".into();
    store.insert(bob).await.unwrap();

    // The silent rehash at login keeps sessions.
    store.insert(token(1, "f1")).await.unwrap();
    store.set_password_hash("alice", "other").await.unwrap();
    assert_eq!(state(&store, 1).await, Some(RefreshState::Active));
    // Disabling revokes; enabling again revives nothing.
    assert!(pair.second.set_disabled("alice", true).await.unwrap());
    assert_eq!(state(&store, 1).await, Some(RefreshState::Revoked));
    assert!(store.set_disabled("alice", false).await.unwrap());
    assert_eq!(state(&store, 1).await, Some(RefreshState::Revoked));
    // A password change revokes.
    store.insert(token(2, "f2")).await.unwrap();
    assert!(store.set_password("alice", "new").await.unwrap());
    assert_eq!(state(&store, 2).await, Some(RefreshState::Revoked));
    // Revoking counts the live families it ended.
    store.insert(token(3, "f3")).await.unwrap();
    store.insert(token(4, "f4")).await.unwrap();
    assert_eq!(pair.second.revoke_sessions("alice").await.unwrap(), 2);
    assert_eq!(store.revoke_user("alice").await.unwrap(), 0);
    store.insert(token(6, "f6")).await.unwrap();
    assert_eq!(store.revoke_user("alice").await.unwrap(), 1);
    assert_eq!(store.revoke_sessions("alice").await.unwrap(), 0);
    // Deleting ends the user's tokens: a new "alice" inherits nothing.
    store.insert(token(5, "f5")).await.unwrap();
    assert!(store.delete_user("alice").await.unwrap());
    assert!(!store.delete_user("alice").await.unwrap());
    assert_ne!(state(&store, 5).await, Some(RefreshState::Active));
    assert!(store.find_user("alice").await.unwrap().is_none());
    // Bob was never touched.
    assert_eq!(state(&store, 9).await, Some(RefreshState::Active));
    assert!(!store.set_password("nobody", "x").await.unwrap());
}

pub(crate) async fn writes_cap_families_and_prune_expired_tokens<S: SuiteStore>(pair: Pair<S>) {
    let store = pair.first;
    store.insert(token(0, "f")).await.unwrap();
    for hash in 1..40u8 {
        let mut next = token(hash, "f");
        next.issued_at += u64::from(hash);
        assert_eq!(
            store.rotate(&[hash - 1; 32], next).await.unwrap(),
            RotateOutcome::Rotated
        );
    }
    let mut kept = Vec::new();
    for hash in 0..40u8 {
        if store.find(&[hash; 32]).await.unwrap().is_some() {
            kept.push(hash);
        }
    }
    let newest: Vec<u8> = (40 - u8::try_from(MAX_FAMILY_TOKENS).unwrap()..40).collect();
    assert_eq!(kept, newest);
    assert_eq!(state(&store, 39).await, Some(RefreshState::Active));
    // A write after they all expired deletes them (one batch per write).
    let mut late = token(100, "late");
    late.issued_at = 1_800_000_000;
    late.expires_at = 1_800_003_600;
    late.family_expires_at = 1_800_003_600;
    store.insert(late).await.unwrap();
    for hash in newest {
        assert!(
            store.find(&[hash; 32]).await.unwrap().is_none(),
            "token {hash}"
        );
    }
    assert!(store.find(&[100; 32]).await.unwrap().is_some());
}

/// Rounds of each race; every round is a fresh token.
const ROUNDS: u8 = 100;
/// Tasks per handle racing in each round.
const RACERS: usize = 4;

pub(crate) async fn concurrent_consumers_see_active_exactly_once<S: SuiteStore>(pair: Pair<S>) {
    for round in 0..ROUNDS {
        pair.first.insert(token(round, "f")).await.unwrap();
        let barrier = Arc::new(Barrier::new(2 * RACERS));
        let mut tasks = Vec::new();
        for store in [&pair.first, &pair.second] {
            for _ in 0..RACERS {
                let store = store.clone();
                let barrier = Arc::clone(&barrier);
                tasks.push(rocket::tokio::spawn(async move {
                    barrier.wait().await;
                    store.consume(&[round; 32]).await
                }));
            }
        }
        let mut active = 0;
        for task in tasks {
            match task.await.unwrap().unwrap().unwrap().state {
                RefreshState::Active => active += 1,
                RefreshState::Used => {}
                RefreshState::Revoked => panic!("nobody revoked token {round}"),
            }
        }
        assert_eq!(active, 1, "round {round}");
        assert_eq!(state(&pair.second, round).await, Some(RefreshState::Used));
    }
}

/// Two instances redeeming one refresh token at the same moment: exactly
/// one rotation wins; every loser sees a replay and, as the token endpoint
/// does, revokes the family; then no token of the family is live.
pub(crate) async fn concurrent_rotations_have_one_winner_and_reuse_kills_the_family<
    S: SuiteStore,
>(
    pair: Pair<S>,
) {
    for round in 0..ROUNDS {
        let family = format!("race{round}");
        pair.first.insert(token(round, &family)).await.unwrap();
        let barrier = Arc::new(Barrier::new(2 * RACERS));
        let mut tasks = Vec::new();
        for (side, store) in [&pair.first, &pair.second].into_iter().enumerate() {
            for racer in 0..RACERS {
                let store = store.clone();
                let barrier = Arc::clone(&barrier);
                let family = family.clone();
                let mut successor = token(0, &family);
                // A distinct successor hash per racer and round.
                successor.token_hash[0] = round;
                successor.token_hash[1] = u8::try_from(1 + side * RACERS + racer).unwrap();
                tasks.push(rocket::tokio::spawn(async move {
                    barrier.wait().await;
                    let hash = successor.token_hash;
                    let outcome = store.rotate(&[round; 32], successor).await.unwrap();
                    if let RotateOutcome::Reused(old) = &outcome {
                        store.revoke_family(&old.family_id).await.unwrap();
                    }
                    (outcome, hash)
                }));
            }
        }
        let mut winners = 0;
        let mut written = Vec::new();
        for task in tasks {
            let (outcome, hash) = task.await.unwrap();
            written.push(hash);
            match outcome {
                RotateOutcome::Rotated => winners += 1,
                RotateOutcome::Reused(_) | RotateOutcome::Refused => {}
            }
        }
        assert_eq!(winners, 1, "round {round}");
        // Reuse was detected, so nothing of the family may be live.
        assert_ne!(state(&pair.first, round).await, Some(RefreshState::Active));
        for hash in written {
            let found = pair.second.find(&hash).await.unwrap().map(|r| r.state);
            assert_ne!(found, Some(RefreshState::Active), "round {round}");
        }
    }
}

/// Rotation on one instance racing `revoke_family` or `revoke_user` on the
/// other: whoever wins, the family ends with no live token.
pub(crate) async fn rotation_racing_revocation_never_leaves_a_live_successor<S: SuiteStore>(
    pair: Pair<S>,
) {
    for round in 0..ROUNDS {
        let family = format!("f{round}");
        pair.first.insert(token(round, &family)).await.unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let rotation = {
            let store = pair.first.clone();
            let barrier = Arc::clone(&barrier);
            let mut successor = token(round, &family);
            successor.token_hash[0] = round.wrapping_add(128);
            rocket::tokio::spawn(async move {
                barrier.wait().await;
                store.rotate(&[round; 32], successor).await
            })
        };
        let revocation = {
            let store = pair.second.clone();
            let barrier = Arc::clone(&barrier);
            rocket::tokio::spawn(async move {
                barrier.wait().await;
                if round % 2 == 0 {
                    store.revoke_family(&family).await
                } else {
                    store.revoke_user("alice").await.map(drop)
                }
            })
        };
        let outcome = rotation.await.unwrap().unwrap();
        revocation.await.unwrap().unwrap();
        assert!(
            matches!(outcome, RotateOutcome::Rotated | RotateOutcome::Refused),
            "{outcome:?}"
        );
        assert_eq!(state(&pair.first, round).await, Some(RefreshState::Revoked));
        let mut successor = [round; 32];
        successor[0] = round.wrapping_add(128);
        let found = pair.second.find(&successor).await.unwrap().map(|r| r.state);
        assert!(
            found.is_none() || found == Some(RefreshState::Revoked),
            "round {round}: successor {found:?}"
        );
    }
}

pub(crate) async fn families_outlive_their_pruned_tokens_until_their_end<S: SuiteStore>(
    pair: Pair<S>,
) {
    let (store, other) = (pair.first, pair.second);
    let mut first = token(0, "f");
    first.family_expires_at = 1_700_090_000;
    store.insert(first.clone()).await.unwrap();
    for hash in 1..60u8 {
        let mut next = first.clone();
        next.token_hash = [hash; 32];
        next.issued_at += u64::from(hash);
        let outcome = store.rotate(&[hash - 1; 32], next).await.unwrap();
        assert_eq!(outcome, RotateOutcome::Rotated);
    }
    // The first token's row is gone, but the family is still known, live.
    assert_eq!(state(&store, 0).await, None);
    let family = other.family("f").await.unwrap().expect("the family");
    assert_eq!(family.username, "alice");
    assert_eq!(family.created_at, first.issued_at);
    assert_eq!(family.expires_at, 1_700_090_000);
    assert!(family.is_live(first.issued_at + 100));
    assert!(!family.is_live(1_700_090_000), "not at its end");
    assert!(other.family("unknown").await.unwrap().is_none());
    // Revoked, it stays known as revoked.
    store.revoke_family("f").await.unwrap();
    let family = other.family("f").await.unwrap().expect("still known");
    assert!(family.revoked);
    assert!(!family.is_live(first.issued_at + 100));
    // After its end, a write forgets it.
    let mut late = token(200, "late");
    late.issued_at = 1_800_000_000;
    late.expires_at = 1_800_003_600;
    late.family_expires_at = 1_800_003_600;
    store.insert(late).await.unwrap();
    assert!(other.family("f").await.unwrap().is_none());
    assert!(other.family("late").await.unwrap().is_some());
}

pub(crate) async fn oldest_sessions_beyond_the_cap_are_revoked<S: SuiteStore>(pair: Pair<S>) {
    let (store, other) = (pair.first, pair.second);
    let now = 1_700_000_100;
    // Five logins within one second: creation order decides.
    for i in 0..5u8 {
        store.insert(token(i, &format!("f{i}"))).await.unwrap();
    }
    // Already revoked, or another user's: not counted, not touched.
    store.insert(token(10, "gone")).await.unwrap();
    store.revoke_family("gone").await.unwrap();
    let mut bob = token(11, "bob");
    bob.username = "bob".into();
    store.insert(bob).await.unwrap();

    let mut ended = other.revoke_oldest_families("alice", 2, now).await.unwrap();
    ended.sort();
    assert_eq!(ended, ["f0", "f1", "f2"]);
    for i in 0..3u8 {
        assert_eq!(state(&store, i).await, Some(RefreshState::Revoked));
        let family = store.family(&format!("f{i}")).await.unwrap().unwrap();
        assert!(family.revoked);
    }
    for i in 3..5u8 {
        assert_eq!(state(&store, i).await, Some(RefreshState::Active));
    }
    assert_eq!(state(&store, 11).await, Some(RefreshState::Active));
    // Within the cap: nothing more to end.
    assert!(
        store
            .revoke_oldest_families("alice", 2, now)
            .await
            .unwrap()
            .is_empty()
    );
    // A family past its end is not live, so it does not count.
    assert_eq!(
        store
            .revoke_oldest_families("alice", 1, 1_800_000_000)
            .await
            .unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        store.revoke_oldest_families("alice", 1, now).await.unwrap(),
        ["f3"]
    );
}

pub(crate) async fn clients_register_find_list_disable_delete<S: SuiteStore>(pair: Pair<S>) {
    let (store, other) = (pair.first, pair.second);
    assert_eq!(store.find_client("svc").await.unwrap(), None);
    let (svc, secret) = ClientRecord::confidential(
        "svc",
        vec![GrantType::ClientCredentials],
        scopes("read:items"),
        1_700_000_000,
    );
    store.create_client(svc.clone()).await.unwrap();
    let web = ClientRecord::public(
        "web",
        vec![GrantType::Password, GrantType::RefreshToken],
        scopes("read:items write:items"),
        1_700_000_001,
    );
    store.create_client(web.clone()).await.unwrap();
    // The other handle sees them, the secret only as its hash.
    let found = other.find_client("svc").await.unwrap().unwrap();
    assert_eq!(found, svc);
    assert!(found.secret_matches(secret.expose()));
    assert!(!found.secret_matches("not the secret"));
    assert_eq!(other.find_client("web").await.unwrap().unwrap(), web);
    assert_eq!(other.find_client("SVC").await.unwrap(), None);

    let err = other.create_client(web.clone()).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");

    let ids: Vec<String> = other
        .list_clients()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.client_id)
        .collect();
    assert_eq!(ids, ["svc", "web"]);

    assert!(other.set_client_enabled("svc", false).await.unwrap());
    assert!(!store.find_client("svc").await.unwrap().unwrap().enabled);
    assert!(!other.set_client_enabled("nobody", false).await.unwrap());

    assert!(other.delete_client("svc").await.unwrap());
    assert!(!other.delete_client("svc").await.unwrap());
    assert_eq!(store.find_client("svc").await.unwrap(), None);
    assert_eq!(store.list_clients().await.unwrap(), vec![web]);
}
