use auth_core::protected;
use rocket::catch;

#[protected]
#[catch(404)]
fn not_found() -> &'static str {
    "not found"
}

fn main() {}
