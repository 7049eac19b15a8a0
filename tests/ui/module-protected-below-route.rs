use auth_core::protected;
use rocket::{get, routes};

#[protected(scopes = "admin")]
mod admin {
    use super::*;

    #[get("/admin/items")]
    #[protected(scopes = "write:items")]
    pub fn items() {}
}

fn main() {
    let _ = rocket::build().mount("/", routes![admin::items]);
}
