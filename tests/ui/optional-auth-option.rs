use auth_core::{AuthUser, protected};
use rocket::{get, routes};

#[protected]
#[get("/items")]
fn items(user: Option<AuthUser>) -> String {
    user.map(|u| u.subject().to_owned()).unwrap_or_default()
}

fn main() {
    let _ = rocket::build().mount("/", routes![items]);
}
