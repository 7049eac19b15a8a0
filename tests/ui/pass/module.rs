// A protected module: plain routes, routes with their own scopes or
// alternatives, `#[protected]` above or below `#[openapi]`, a nested module,
// helpers, types and a catcher left as written.
#![deny(warnings)]

use auth_core::{AuthUser, protected};
use rocket::{catchers, routes};
use rocket_okapi::openapi_get_routes_spec;

#[protected(scopes = "admin")]
pub mod admin {
    use auth_core::{AuthUser, protected};
    use rocket::{catch, get, post};
    use rocket_okapi::openapi;

    /// A helper: not a route, so left alone.
    fn name_of(user: &AuthUser) -> String {
        user.subject().to_owned()
    }

    pub struct Marker;

    #[catch(404)]
    pub fn not_found() -> &'static str {
        "no such admin page"
    }

    #[get("/admin")]
    pub fn home(user: AuthUser) -> String {
        name_of(&user)
    }

    #[protected(scopes = "write:items")]
    #[openapi]
    #[post("/admin/items", data = "<body>")]
    pub async fn add(body: String) -> String {
        body
    }

    #[openapi]
    #[protected(any(scopes = "read:items", scopes = "audit"))]
    #[get("/admin/either")]
    pub fn either() {}

    #[protected]
    #[get("/admin/bare")]
    pub fn bare() {}

    pub mod reports {
        use auth_core::protected;
        use rocket::get;

        #[get("/admin/reports")]
        pub fn list() -> &'static str {
            "[]"
        }

        #[protected(scopes = "audit")]
        pub mod audited {
            use rocket::get;

            #[get("/admin/reports/audited")]
            pub fn audited() {}
        }
    }
}

#[protected(any(scopes = "ops", scopes = "admin"))]
mod ops {
    use rocket::get;

    #[get("/ops")]
    pub fn status() {}
}

fn main() {
    let _ = admin::Marker;
    let _ = |user: AuthUser| user;
    let (documented, _spec) = openapi_get_routes_spec![admin::add, admin::either];
    let _ = rocket::build()
        .mount(
            "/",
            routes![
                admin::home,
                admin::bare,
                admin::reports::list,
                admin::reports::audited::audited,
                ops::status
            ],
        )
        .mount("/", documented)
        .register("/", catchers![admin::not_found]);
}
