use auth_core::protected;
use rocket::{get, routes};

#[protected(any = "admin write:items")]
#[get("/items")]
fn items() {}

fn main() {
    let _ = rocket::build().mount("/", routes![items]);
}
