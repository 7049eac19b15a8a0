// Calling a protected handler as a function needs the guard argument; the
// compiler names the type, whose docs show `Protected::for_tests()`.
use auth_core::protected;
use rocket::get;

#[protected(scopes = "read:items")]
#[get("/items")]
fn items() -> &'static str {
    "[]"
}

fn main() {
    assert_eq!(items(), "[]");
}
