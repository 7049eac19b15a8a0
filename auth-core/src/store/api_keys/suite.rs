//! The API-key part of the store suite (`store/suite.rs`), run on the
//! memory store (here), `SQLite` and PostgreSQL with [`api_key_suite!`].

use super::{ApiKeyRecord, ApiKeyStore, MemoryApiKeyStore, NewApiKey};
use crate::scopes::Scopes;
use crate::store::StoreError;
use crate::store::suite::Pair;

/// What the API-key suite needs besides the keys: owners to give them to.
#[rocket::async_trait]
pub(crate) trait KeyOwners: ApiKeyStore + Clone {
    /// Whether deleting a user deletes their keys.
    const KEYS_GO_WITH_OWNER: bool;
    /// Creates the user `name` (the SQL stores refuse keys of unknown
    /// users).
    async fn add_owner(&self, name: &str);
    /// Deletes the user `name`.
    async fn delete_owner(&self, name: &str);
}

#[rocket::async_trait]
impl KeyOwners for MemoryApiKeyStore {
    const KEYS_GO_WITH_OWNER: bool = false;
    async fn add_owner(&self, _: &str) {}
    async fn delete_owner(&self, _: &str) {}
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[rocket::async_trait]
impl<DB> KeyOwners for crate::store::sql::SqlStore<DB>
where
    Self: crate::store::UserAdmin + ApiKeyStore + Clone,
    DB: sqlx::Database,
{
    const KEYS_GO_WITH_OWNER: bool = true;
    async fn add_owner(&self, name: &str) {
        use crate::store::UserAdmin as _;
        self.create_user(
            name,
            "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
            &scopes("read write"),
            false,
        )
        .await
        .unwrap();
    }
    async fn delete_owner(&self, name: &str) {
        use crate::store::UserAdmin as _;
        assert!(self.delete_user(name).await.unwrap());
    }
}

/// One `#[test]` per API-key suite test, for the backend `$open` opens
/// (as `store_suite!`).
macro_rules! api_key_suite {
    ($open:path) => {
        $crate::store::api_keys::suite::api_key_suite!(
            @tests $open;
            api_keys_insert_find_list,
            api_keys_duplicates_are_conflicts,
            api_keys_revocation_is_seen_by_every_handle_and_sticks,
            api_keys_go_with_their_owner,
        );
    };
    (@tests $open:path; $($name:ident,)*) => {
        $(
            #[test]
            fn $name() {
                $crate::store::suite::runtime().block_on(async {
                    if let Some(pair) = $open().await {
                        $crate::store::api_keys::suite::$name(pair).await;
                    }
                });
            }
        )*
    };
}
pub(crate) use api_key_suite;

#[allow(clippy::unused_async, reason = "every backend's opener is async")]
async fn memory() -> Option<Pair<MemoryApiKeyStore>> {
    let store = MemoryApiKeyStore::new();
    Some(Pair {
        first: store.clone(),
        second: store,
        _guard: Box::new(()),
    })
}

mod memory_backend {
    use super::memory;
    api_key_suite!(memory);
}

fn scopes(list: &str) -> Scopes {
    Scopes::parse(list).unwrap()
}

fn key(owner: &str, created_at: u64, expires_at: Option<u64>) -> NewApiKey {
    NewApiKey::generate(owner, "ci job", scopes("read"), created_at, expires_at)
}

pub(crate) async fn api_keys_insert_find_list<S: KeyOwners>(pair: Pair<S>) {
    let (store, other) = (pair.first, pair.second);
    store.add_owner("alice").await;
    store.add_owner("bob").await;
    let a1 = key("alice", 100, None);
    let a2 = key("alice", 200, Some(5_000_000_000));
    let b1 = key("bob", 50, Some(300));
    for k in [&a2, &b1, &a1] {
        store.insert_api_key(k.record.clone()).await.unwrap();
    }
    let found = other.find_api_key(&a2.record.key_hash).await.unwrap();
    assert_eq!(found.as_ref(), Some(&a2.record));
    assert_eq!(found.unwrap().expires_at, Some(5_000_000_000));
    assert_eq!(other.find_api_key(&[7; 32]).await.unwrap(), None);

    let ids = |list: Vec<ApiKeyRecord>| list.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(other.list_api_keys(Some("alice")).await.unwrap()),
        [a1.record.id.clone(), a2.record.id.clone()]
    );
    assert_eq!(
        ids(other.list_api_keys(None).await.unwrap()),
        [a1.record.id.clone(), a2.record.id, b1.record.id]
    );
    assert!(other.list_api_keys(Some("carol")).await.unwrap().is_empty());
}

pub(crate) async fn api_keys_duplicates_are_conflicts<S: KeyOwners>(pair: Pair<S>) {
    let store = pair.first;
    store.add_owner("alice").await;
    let k = key("alice", 100, None);
    store.insert_api_key(k.record.clone()).await.unwrap();
    let mut same_id = key("alice", 100, None).record;
    same_id.id.clone_from(&k.record.id);
    let mut same_hash = key("alice", 100, None).record;
    same_hash.key_hash = k.record.key_hash;
    for record in [same_id, same_hash] {
        let err = pair.second.insert_api_key(record).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    }
    assert_eq!(store.list_api_keys(None).await.unwrap().len(), 1);
}

pub(crate) async fn api_keys_revocation_is_seen_by_every_handle_and_sticks<S: KeyOwners>(
    pair: Pair<S>,
) {
    let (store, other) = (pair.first, pair.second);
    store.add_owner("alice").await;
    let k = key("alice", 100, Some(1000));
    let keep = key("alice", 100, None);
    store.insert_api_key(k.record.clone()).await.unwrap();
    store.insert_api_key(keep.record.clone()).await.unwrap();
    assert!(k.record.is_live(500));

    let revoked = other
        .revoke_api_key(&k.record.id, 500)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(500));
    assert_eq!(revoked.key_hash, k.record.key_hash);
    let found = store
        .find_api_key(&k.record.key_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.revoked_at, Some(500));
    assert!(!found.is_live(501));
    // Revoking again keeps the first time.
    let again = store
        .revoke_api_key(&k.record.id, 900)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.revoked_at, Some(500));
    assert_eq!(store.revoke_api_key("no-such-id", 900).await.unwrap(), None);
    // The other key is untouched.
    let other_key = other.find_api_key(&keep.record.key_hash).await.unwrap();
    assert_eq!(other_key.unwrap().revoked_at, None);
}

pub(crate) async fn api_keys_go_with_their_owner<S: KeyOwners>(pair: Pair<S>) {
    if !S::KEYS_GO_WITH_OWNER {
        return;
    }
    let (store, other) = (pair.first, pair.second);
    store.add_owner("alice").await;
    store.add_owner("bob").await;
    let a = key("alice", 100, None);
    let b = key("bob", 100, None);
    store.insert_api_key(a.record.clone()).await.unwrap();
    store.insert_api_key(b.record.clone()).await.unwrap();
    other.delete_owner("alice").await;
    assert_eq!(store.find_api_key(&a.record.key_hash).await.unwrap(), None);
    assert!(
        store
            .find_api_key(&b.record.key_hash)
            .await
            .unwrap()
            .is_some()
    );
    // A key of an unknown user is refused.
    let err = store.insert_api_key(key("alice", 100, None).record).await;
    assert!(err.is_err());
}
