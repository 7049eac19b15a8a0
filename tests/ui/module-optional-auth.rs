use auth_core::{MaybeUser, protected};
use rocket::{get, routes};

#[protected(scopes = "admin")]
mod admin {
    use super::*;

    #[get("/admin/maybe")]
    pub fn maybe(user: MaybeUser) -> String {
        format!("{:?}", user.0.map(|u| u.subject().to_owned()))
    }
}

fn main() {
    let _ = rocket::build().mount("/", routes![admin::maybe]);
}
