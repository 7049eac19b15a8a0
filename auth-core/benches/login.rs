//! What a failed login costs, by cause: the three must cost the same, or
//! the token endpoint tells strangers which usernames exist.
//!
//! ```sh
//! cargo bench -p auth-core --bench login
//! ```

use auth_core::{
    AuthConfig, AuthFairing, MemoryUserStore, PasswordHasher, PasswordRequestForm, Scopes,
};
use criterion::{Criterion, criterion_group, criterion_main};
use rocket::tokio::runtime::Runtime;

fn login(c: &mut Criterion) {
    let runtime = Runtime::new().expect("a Tokio runtime");
    let hasher = PasswordHasher::new();
    let users = MemoryUserStore::new();
    let hash = hasher.hash_blocking("right password").expect("hashable");
    let scopes = Scopes::parse("read:items").expect("valid scopes");
    users.insert_hashed("johndoe", &hash, scopes.clone(), false);
    users.insert_hashed("alice", &hash, scopes, true);
    let mut config = AuthConfig::default();
    config.secret = Some("bench-secret-0123456789-abcdefghijklmnop".to_owned());
    let auth = AuthFairing::default()
        .users(users)
        .config(config)
        .build(&rocket::figment::Figment::new())
        .expect("valid configuration");
    runtime
        .block_on(auth.issuer().expect("an issuer").hasher().prepare())
        .expect("dummy hash");

    let mut group = c.benchmark_group("failed_login");
    group.sample_size(20);
    for (name, body) in [
        ("wrong_password", "username=johndoe&password=wrong"),
        ("unknown_user", "username=nobody&password=wrong"),
        ("disabled_user", "username=alice&password=right%20password"),
    ] {
        let form = PasswordRequestForm::parse(body).expect("valid form");
        group.bench_function(name, |b| {
            b.iter(|| {
                let outcome = runtime.block_on(auth.password_grant(form.clone()));
                assert!(outcome.is_err());
            });
        });
    }
    group.finish();
}

criterion_group!(benches, login);
criterion_main!(benches);
