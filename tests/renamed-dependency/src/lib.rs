//! An app that depends on `auth-core` under another name
//! (`oauth = { package = "auth-core", .. }`): `#[protected]` must find the
//! crate as `oauth`, since no `auth_core` is in scope here.

use oauth::{Auth, AuthUser, protected};
use rocket::{Build, Rocket, get, routes};

/// The caller's name; needs a token with `read:items`.
#[protected(scopes = "read:items")]
#[get("/items")]
pub fn items(user: AuthUser) -> String {
    format!("items of {}", user.subject())
}

/// Any valid token.
#[oauth::protected]
#[get("/ping")]
pub fn ping() -> &'static str {
    "pong"
}

/// The app, on `users`.
#[must_use]
pub fn rocket(users: oauth::MemoryUserStore) -> Rocket<Build> {
    rocket::build()
        .attach(Auth::fairing().users(users))
        .mount("/", routes![items, ping])
}

#[cfg(test)]
mod tests {
    use oauth::{MemoryUserStore, Protected, TestUser};
    use rocket::http::Status;
    use rocket::local::blocking::Client;

    #[test]
    fn protected_routes_work_under_the_renamed_crate() {
        let users = MemoryUserStore::new();
        let alice = TestUser::new("alice")
            .scopes("read:items")
            .insert_into(&users);
        let bob = TestUser::new("bob").insert_into(&users);
        let client = Client::tracked(super::rocket(users)).expect("valid rocket");

        let response = client
            .get("/items")
            .header(alice.bearer(client.rocket()))
            .dispatch();
        assert_eq!(response.status(), Status::Ok);
        assert_eq!(response.into_string().as_deref(), Some("items of alice"));

        let response = client
            .get("/items")
            .header(bob.bearer(client.rocket()))
            .dispatch();
        assert_eq!(response.status(), Status::Forbidden);

        assert_eq!(
            client.get("/ping").dispatch().status(),
            Status::Unauthorized
        );
    }

    #[test]
    fn handlers_can_be_called_directly() {
        assert_eq!(super::ping(Protected::for_tests()), "pong");
    }
}
