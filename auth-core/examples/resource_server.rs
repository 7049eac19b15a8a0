//! A resource server: it verifies access tokens signed by another service
//! (the issuer) with the issuer's public key, and holds no users, no
//! passwords, no signing key and no token endpoint.
//!
//! ```sh
//! # The issuer: the `bearer` example, signing with an Ed25519 key.
//! openssl genpkey -algorithm ed25519 -out issuer.pem
//! openssl pkey -in issuer.pem -pubout -out issuer.pub.pem
//! ROCKET_AUTH_SIGNING_KEY='{algorithm="EdDSA",private_key_file="issuer.pem"}' \
//!   cargo run -p auth-core --example bearer                        # :8000
//! # This service, trusting only the public key, in another terminal.
//! ROCKET_PORT=8001 cargo run -p auth-core --example resource_server  # :8001
//!
//! TOKEN=$(curl -s -X POST localhost:8000/token -d username=johndoe -d password=secret \
//!   | sed -E 's/.*"access_token":"([^"]*)".*/\1/')
//! curl -s localhost:8001/reports -H "Authorization: Bearer $TOKEN"   # reports for johndoe
//! ```
//!
//! `ISSUER_KEY` names another public-key file (PEM). Instead of a key given
//! in code, configuration can name the keys: `auth_verification_keys`, or
//! `auth_jwks_url` (the issuer's `/.well-known/jwks.json`, followed through
//! rotations) with the feature `remote-jwks`.

use auth_core::{Auth, AuthUser, KeySet, VerificationKey, protected};
use rocket::{get, launch, routes};

/// The token's scopes were granted by the issuer; this service checks them.
#[protected(scopes = "read:items")]
#[get("/reports")]
fn reports(user: AuthUser) -> String {
    format!("reports for {}", user.subject())
}

#[launch]
fn rocket() -> _ {
    let path = std::env::var("ISSUER_KEY").unwrap_or_else(|_| "issuer.pub.pem".to_owned());
    let pem =
        std::fs::read(&path).unwrap_or_else(|e| panic!("the issuer's public key {path}: {e}"));
    // No kid given: the key's RFC 7638 thumbprint, which is also the kid the
    // issuer writes in its tokens when its `auth_signing_key` names none.
    let key = VerificationKey::ed25519_pem(None, &pem).expect("an Ed25519 public key");

    // A resource server needs an explicit audience; `api` is the issuer's
    // default. The issuer (`auth_issuer`) is the default, `auth-core`, on both.
    let figment = rocket::Config::figment().join(("auth_audience", "api"));
    rocket::custom(figment)
        .attach(
            Auth::resource_server()
                .verification_keys(KeySet::new().with(key).expect("one key"))
                .scope("read:items", "Read items"),
        )
        .mount("/", routes![reports])
}
