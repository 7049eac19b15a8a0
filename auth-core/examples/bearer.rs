//! The smallest complete issuer: a token endpoint (password and refresh
//! grants) and one route that requires a scope, with users kept in memory.
//!
//! ```sh
//! cargo run -p auth-core --example bearer        # http://127.0.0.1:8000
//!
//! TOKEN=$(curl -s -X POST localhost:8000/token -d username=johndoe -d password=secret \
//!   | sed -E 's/.*"access_token":"([^"]*)".*/\1/')
//! curl -s localhost:8000/items -H "Authorization: Bearer $TOKEN"   # {"items":["hammer","saw"],"user":"johndoe"}
//! curl -si localhost:8000/items                                    # 401, WWW-Authenticate: Bearer
//! ```
//!
//! In a debug build the signing secret is random for each start (with a
//! warning); set `ROCKET_AUTH_SECRET` to keep tokens valid across restarts.

use auth_core::{
    Auth, AuthError, AuthUser, MemoryUserStore, PasswordHasher, Scopes, TokenRequest,
    TokenResponse, protected,
};
use rocket::serde::json::{Value, json};
use rocket::{get, launch, post, routes};

/// `POST /token`: `username` and `password` as a form (RFC 6749 §4.3), or
/// `grant_type=refresh_token` with the refresh token of an earlier answer.
#[post("/token", data = "<request>")]
async fn token(request: TokenRequest, auth: &Auth) -> Result<TokenResponse, AuthError> {
    auth.grant(request).await
}

/// Only tokens holding `read:items`: no token is 401, a token without the
/// scope is 403 `insufficient_scope`, and the handler never runs for either.
#[protected(scopes = "read:items")]
#[get("/items")]
fn items(user: AuthUser) -> Value {
    json!({ "user": user.subject(), "items": ["hammer", "saw"] })
}

#[launch]
fn rocket() -> _ {
    let users = MemoryUserStore::new();
    let hash = PasswordHasher::new()
        .hash_blocking("secret")
        .expect("hashable");
    let scopes = Scopes::parse("read:items").expect("a valid scope");
    users.insert_hashed("johndoe", &hash, scopes, false); // false: not disabled

    rocket::build()
        .attach(
            Auth::fairing()
                .users(users)
                .scope("read:items", "Read items"),
        )
        .mount("/", routes![token, items])
}
