use auth_core::protected;
use rocket::get;

#[protected]
#[get("/items/<__auth_guard>")]
fn items(__auth_guard: u32) -> String {
    format!("item {__auth_guard}")
}

fn main() {
    let _ = rocket::routes![items];
}
