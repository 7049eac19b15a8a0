// A protected handler called as a plain function, as Rocket's own examples
// test their handlers.
#![deny(warnings)]

use auth_core::{AuthUser, Protected, protected};
use rocket::{get, routes};

#[protected(scopes = "read:items")]
#[get("/items")]
fn items() -> &'static str {
    "[]"
}

#[protected]
#[get("/async/<name>")]
async fn later(name: &str) -> String {
    format!("hello {name}")
}

#[protected]
#[get("/me")]
fn me(user: AuthUser) -> String {
    user.subject().to_owned()
}

fn main() {
    assert_eq!(items(Protected::for_tests()), "[]");
    let greeting = rocket::execute(later(Protected::for_tests(), "you"));
    assert_eq!(greeting, "hello you");
    let _ = rocket::build().mount("/", routes![items, later, me]);
}
