use auth_core::protected;
use rocket::get;

#[protected(scopes = ["read:items", "write:items"])]
#[get("/items")]
fn items() -> &'static str {
    "[]"
}

fn main() {
    let _ = rocket::routes![items];
}
