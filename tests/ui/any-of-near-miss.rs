use auth_core::protected;
use rocket::{get, routes};

#[protected(any_of(scopes = "admin", scopes = "write:items"))]
#[get("/items")]
fn items() {}

fn main() {
    let _ = rocket::build().mount("/", routes![items]);
}
