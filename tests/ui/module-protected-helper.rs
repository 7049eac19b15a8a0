use auth_core::protected;
use rocket::{get, routes};

#[protected(scopes = "admin")]
mod admin {
    use super::*;

    #[protected(scopes = "write:items")]
    pub fn helper() -> u8 {
        1
    }

    #[get("/admin/items")]
    pub fn items() -> String {
        helper().to_string()
    }
}

fn main() {
    let _ = rocket::build().mount("/", routes![admin::items]);
}
