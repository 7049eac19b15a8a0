use auth_core::{MaybeUser, protected};
use rocket::{get, routes};

#[protected]
#[get("/tasks")]
fn tasks(user: MaybeUser) -> String {
    let _ = user;
    String::new()
}

fn main() {
    let _ = rocket::build().mount("/", routes![tasks]);
}
