use auth_core::protected;
use rocket::{get, routes};

#[protected(any(scopes = "admin", any(scopes = "a", scopes = "b")))]
#[get("/items")]
fn items() {}

fn main() {
    let _ = rocket::build().mount("/", routes![items]);
}
