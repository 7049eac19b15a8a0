// Scopes passed through a `macro_rules!` literal, and a handler declared by
// a macro.
#![deny(warnings)]

use auth_core::{AuthUser, protected};
use rocket::{get, routes};

macro_rules! scoped_handler {
    ($name:ident, $path:literal, $scopes:literal) => {
        #[protected(scopes = $scopes)]
        #[get($path)]
        fn $name(user: AuthUser) -> String {
            user.subject().to_owned()
        }
    };
}

// An `expr` fragment reaches the macro wrapped in an invisible group.
// (The handler takes a parameter: Rocket 0.5.1 itself cannot expand a
// parameterless handler whose name comes from a `macro_rules!` argument.)
macro_rules! admin_handler {
    ($name:ident, $scopes:expr) => {
        #[protected(scopes = $scopes)]
        #[get("/admin")]
        fn $name(user: AuthUser) -> String {
            user.subject().to_owned()
        }
    };
}

scoped_handler!(read, "/read", "read:items");
scoped_handler!(write, "/write", "read:items write:items");
admin_handler!(admin, "admin");

fn main() {
    let _ = rocket::build().mount("/", routes![read, write, admin]);
}
