// Sync and async handlers, with and without the caller.
#![deny(warnings)]

use auth_core::{AuthUser, protected};
use rocket::{get, routes};

#[protected]
#[get("/sync")]
fn sync_without_user() -> &'static str {
    "ok"
}

#[protected]
#[get("/sync/me")]
fn sync_with_user(user: AuthUser) -> String {
    user.subject().to_owned()
}

#[protected]
#[get("/async")]
async fn async_without_user() -> &'static str {
    "ok"
}

#[protected]
#[get("/async/me")]
async fn async_with_user(user: AuthUser) -> String {
    user.subject().to_owned()
}

fn main() {
    let _ = rocket::build().mount(
        "/",
        routes![
            sync_without_user,
            sync_with_user,
            async_without_user,
            async_with_user
        ],
    );
}
