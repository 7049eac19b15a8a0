//! What a successful grant costs, by kind: a password login pays for one
//! password hash; a client-credentials grant must not (its secret is
//! checked with one SHA-256).
//!
//! ```sh
//! cargo bench -p auth-core --bench grants
//! ```

use auth_core::{
    AuthConfig, AuthFairing, ClientRecord, GrantType, MemoryClientStore, MemoryUserStore,
    PasswordHasher, PasswordRequestForm, Scopes, TokenRequest,
};
use criterion::{Criterion, criterion_group, criterion_main};
use rocket::tokio::runtime::Runtime;

fn grants(c: &mut Criterion) {
    let runtime = Runtime::new().expect("a Tokio runtime");
    let scopes = Scopes::parse("read:items").expect("valid scopes");
    let users = MemoryUserStore::new();
    let hash = PasswordHasher::new()
        .hash_blocking("right password")
        .expect("hashable");
    users.insert_hashed("johndoe", &hash, scopes.clone(), false);
    let clients = MemoryClientStore::new();
    let (record, secret) =
        ClientRecord::confidential("svc", vec![GrantType::ClientCredentials], scopes, 0);
    clients.insert(record);
    let mut config = AuthConfig::default();
    config.secret = Some("bench-secret-0123456789-abcdefghijklmnop".to_owned());
    let auth = AuthFairing::default()
        .users(users)
        .clients(clients)
        .scope("read:items", "Read items")
        .config(config)
        .build(&rocket::figment::Figment::new())
        .expect("valid configuration");

    let mut group = c.benchmark_group("grant");
    group.sample_size(20);
    let login = PasswordRequestForm::parse("username=johndoe&password=right%20password")
        .expect("valid form");
    group.bench_function("password", |b| {
        b.iter(|| {
            let outcome = runtime.block_on(auth.password_grant(login.clone()));
            assert!(outcome.is_ok());
        });
    });
    let request = TokenRequest::parse(&format!(
        "grant_type=client_credentials&client_id=svc&client_secret={}",
        secret.expose()
    ))
    .expect("valid form");
    group.bench_function("client_credentials", |b| {
        b.iter(|| {
            let outcome = runtime.block_on(auth.grant(request.clone()));
            assert!(outcome.is_ok());
        });
    });
    group.finish();
}

criterion_group!(benches, grants);
criterion_main!(benches);
