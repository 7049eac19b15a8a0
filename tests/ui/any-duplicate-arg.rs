use auth_core::protected;
use rocket::{get, routes};

#[protected(any(scopes = "a", scopes = "b"), any(scopes = "c", scopes = "d"))]
#[get("/items")]
fn items() {}

fn main() {
    let _ = rocket::build().mount("/", routes![items]);
}
