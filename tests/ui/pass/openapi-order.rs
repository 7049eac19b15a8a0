// `#[protected]` above `#[openapi]`, and handlers that rocket_okapi does not
// document, in a crate that depends on rocket_okapi, at module level and in
// a function body.
#![deny(warnings)]

use auth_core::protected;
use rocket::{get, routes};
use rocket_okapi::{openapi, openapi_get_routes_spec};

#[protected(scopes = "read:items")]
#[openapi]
#[get("/documented")]
fn documented() {}

#[protected(any(scopes = "write:items", scopes = "admin"))]
#[openapi(tag = "items")]
#[get("/documented/any")]
fn documented_any() {}

#[protected]
#[get("/undocumented")]
fn undocumented() {}

// A child module that glob-imports its parent, with a handler of the same
// name in both.
mod parent {
    use auth_core::protected;
    use rocket::get;

    #[protected]
    #[get("/parent/items")]
    pub fn items() {}

    pub mod child {
        use super::*;

        #[protected(scopes = "admin")]
        #[get("/child/items")]
        pub fn items() {}
    }
}

// Handlers inside a function body (a test, a doctest): the check's import
// must resolve in the block, not in the enclosing module.
#[allow(
    non_local_definitions,
    reason = "Rocket's #[get] exports a macro, which rustc flags inside a function"
)]
fn in_a_function() -> Vec<rocket::Route> {
    #[protected(scopes = "read:items")]
    #[openapi]
    #[get("/in-function/documented")]
    fn documented() {}

    #[protected]
    #[get("/in-function/undocumented")]
    fn undocumented() {}

    let (mut documented, _spec) = openapi_get_routes_spec![documented];
    documented.extend(routes![undocumented]);
    documented
}

fn main() {
    let _ = in_a_function();
    let (documented, _spec) = openapi_get_routes_spec![documented, documented_any];
    let _ = rocket::build()
        .mount("/", documented)
        .mount("/", routes![undocumented, parent::items, parent::child::items]);
}
