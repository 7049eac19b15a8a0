use auth_core::protected;
use rocket::{get, routes};

#[protected(scopes = "read:items")]
#[get("/items")]
fn items(user: std::option::Option<auth_core::AuthUser>) -> String {
    user.map(|u| u.subject().to_owned()).unwrap_or_default()
}

fn main() {
    let _ = rocket::build().mount("/", routes![items]);
}
