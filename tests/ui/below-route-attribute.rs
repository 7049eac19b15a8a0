use auth_core::protected;
use rocket::{get, routes};

#[get("/items")]
#[protected(scopes = "read:items")]
fn items() {}

fn main() {
    let _ = rocket::build().mount("/", routes![items]);
}
