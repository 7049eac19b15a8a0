use auth_core::protected;
use rocket::{get, routes};

#[protected(any(scopes = "read:items write:items", scopes = "write:items read:items"))]
#[get("/items")]
fn items() {}

fn main() {
    let _ = rocket::build().mount("/", routes![items]);
}
