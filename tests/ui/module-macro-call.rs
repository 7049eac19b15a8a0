use auth_core::protected;
use rocket::{get, routes};

macro_rules! route {
    ($name:ident, $path:literal) => {
        #[get($path)]
        pub fn $name(user: auth_core::AuthUser) -> String {
            user.subject().to_owned()
        }
    };
}

#[protected(scopes = "admin")]
mod admin {
    use super::*;

    route!(hidden, "/admin/hidden");
}

fn main() {
    let _ = rocket::build().mount("/", routes![admin::hidden]);
}
