// Every route attribute, bare and path-qualified, and other attributes
// around them.
#![deny(warnings)]

use auth_core::protected;
use rocket::{delete, head, options, patch, post, put, route, routes};

#[protected]
#[rocket::get("/qualified")]
fn qualified() {}

#[protected(scopes = "admin")]
#[::rocket::post("/absolute")]
fn absolute() {}

#[protected]
#[route(GET, uri = "/route")]
fn generic_route() {}

#[protected]
#[post("/post")]
fn post_() {}

#[protected]
#[put("/put")]
fn put_() {}

#[protected]
#[delete("/delete")]
fn delete_() {}

#[protected]
#[patch("/patch")]
fn patch_() {}

#[protected]
#[head("/head")]
fn head_() {}

#[protected]
#[options("/options")]
fn options_() {}

/// Documented handler; the doc comment sits above `#[protected]`.
#[protected(scopes = "read:items")]
#[rocket::get("/documented", rank = 2)]
#[inline]
fn documented() -> &'static str
where
    String: Clone,
{
    "ok"
}

fn main() {
    let _ = rocket::build().mount(
        "/",
        routes![
            qualified,
            absolute,
            generic_route,
            post_,
            put_,
            delete_,
            patch_,
            head_,
            options_,
            documented
        ],
    );
}
