// One scope, several scopes, every character RFC 6749 allows, and handlers
// of every visibility.
#![deny(warnings)]

use auth_core::{AuthUser, protected};
use rocket::{get, routes};

#[protected(scopes = "read:items")]
#[get("/one")]
fn one(user: AuthUser) -> String {
    user.subject().to_owned()
}

#[protected(scopes = "read:items write:items admin")]
#[get("/several")]
pub async fn several() -> &'static str {
    "ok"
}

// Every scope-token character but `,`, which RFC 6749 allows but
// #[protected] refuses as a likely separator (see scopes-with-commas.rs).
#[protected(scopes = "!#$%&'()*+-./:;<=>?@[]^_`{|}~")]
#[get("/odd")]
pub(crate) fn odd_characters() {}

#[protected(scopes = r"raw:string")]
#[get("/raw")]
fn raw_string() {}

mod api {
    use auth_core::protected;
    use rocket::get;

    #[protected(scopes = "read:items")]
    #[get("/nested")]
    pub fn nested() {}

    #[protected(scopes = "read:items")]
    #[get("/super")]
    pub(super) fn visible_to_parent() {}

    // The same name as a handler in the parent module.
    #[protected(scopes = "admin")]
    #[get("/one")]
    pub fn one() {}
}

fn main() {
    let _ = rocket::build()
        .mount("/", routes![one, several, odd_characters, raw_string])
        .mount(
            "/api",
            routes![api::nested, api::visible_to_parent, api::one],
        );
}
