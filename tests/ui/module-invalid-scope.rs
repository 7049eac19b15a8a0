use auth_core::protected;
use rocket::routes;

#[protected(scopes = "admin,")]
mod admin {
    use rocket::get;

    #[get("/admin/items")]
    pub fn items() {}
}

fn main() {
    let _ = rocket::build().mount("/", routes![admin::items]);
}
