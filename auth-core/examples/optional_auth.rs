//! Optional authentication with `MaybeUser`: one route that anyone may call,
//! answering more to a caller with a valid token. A present but invalid
//! token is refused (401 `invalid_token`), never taken for an anonymous call.
//!
//! ```sh
//! cargo run -p auth-core --example optional_auth   # http://127.0.0.1:8000
//!
//! curl -s localhost:8000/tasks                     # {"tasks":["water the plants"],"user":null}
//! TOKEN=$(curl -s -X POST localhost:8000/token -d username=johndoe -d password=secret \
//!   | sed -E 's/.*"access_token":"([^"]*)".*/\1/')
//! curl -s localhost:8000/tasks -H "Authorization: Bearer $TOKEN"    # johndoe's task too
//! curl -si localhost:8000/tasks -H "Authorization: Bearer not.a.token"   # 401
//! ```

use auth_core::{
    Auth, AuthError, MaybeUser, MemoryUserStore, PasswordHasher, Scopes, TokenRequest,
    TokenResponse,
};
use rocket::serde::json::{Value, json};
use rocket::{get, launch, post, routes};

/// (task, owner): `None` is public.
const TASKS: [(&str, Option<&str>); 3] = [
    ("water the plants", None),
    ("file the tax return", Some("johndoe")),
    ("renew the passport", Some("alice")),
];

#[post("/token", data = "<request>")]
async fn token(request: TokenRequest, auth: &Auth) -> Result<TokenResponse, AuthError> {
    auth.grant(request).await
}

/// The public tasks for everyone, and the caller's own for a caller with a
/// valid token.
#[get("/tasks")]
fn tasks(user: MaybeUser) -> Value {
    let subject = user.as_ref().map(|user| user.subject());
    let visible: Vec<&str> = TASKS
        .iter()
        .filter(|(_, owner)| owner.is_none() || *owner == subject)
        .map(|(task, _)| *task)
        .collect();
    json!({ "user": subject, "tasks": visible })
}

#[launch]
fn rocket() -> _ {
    let users = MemoryUserStore::new();
    let hasher = PasswordHasher::new();
    for (name, password) in [("johndoe", "secret"), ("alice", "secret2")] {
        let hash = hasher.hash_blocking(password).expect("hashable");
        users.insert_hashed(name, &hash, Scopes::default(), false);
    }

    // No scopes declared: tokens carry none, and none is needed here.
    rocket::build()
        .attach(Auth::fairing().users(users))
        .mount("/", routes![token, tasks])
}
