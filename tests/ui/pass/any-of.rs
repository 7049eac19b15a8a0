// Alternatives: one scope each, several scopes each, beside other guards
// and a data guard, on sync and async handlers.
#![deny(warnings)]

use auth_core::{AuthUser, protected};
use rocket::{get, post, routes};

#[protected(any(scopes = "write:items", scopes = "admin"))]
#[get("/one-each")]
fn one_each(user: AuthUser) -> String {
    user.subject().to_owned()
}

#[protected(any(scopes = "read:items write:items", scopes = "admin", scopes = "ops audit"))]
#[post("/several", data = "<body>")]
pub async fn several(body: String, user: AuthUser) -> String {
    format!("{} {body}", user.subject())
}

#[protected(any(scopes = "a", scopes = "b",))]
#[get("/trailing-comma")]
pub(crate) fn trailing_comma() {}

#[protected(any(r#scopes = "a", scopes = r"b"))]
#[get("/raw")]
fn raw() {}

fn main() {
    let _ = rocket::build().mount("/", routes![one_each, several, trailing_comma, raw]);
}
