// `#[protected]` above `#[openapi]`, and handlers that rocket_okapi does not
// document, in a crate that depends on rocket_okapi.
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

fn main() {
    let (documented, _spec) = openapi_get_routes_spec![documented, documented_any];
    let _ = rocket::build()
        .mount("/", documented)
        .mount("/", routes![undocumented]);
}
