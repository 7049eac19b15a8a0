use auth_core::protected;
use rocket::get;
use rocket_okapi::{openapi, openapi_get_routes_spec};

fn main() {
    #[openapi]
    #[protected(scopes = "read:items")]
    #[get("/items")]
    fn items() {}

    let (routes, _spec) = openapi_get_routes_spec![items];
    let _ = rocket::build().mount("/", routes);
}
