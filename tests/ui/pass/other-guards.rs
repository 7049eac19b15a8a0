// Alongside path and query parameters, cookies, managed state and a custom
// request guard.
#![deny(warnings)]

use auth_core::{AuthUser, protected};
use rocket::http::CookieJar;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::{State, get, routes};

struct Counter(u32);

struct Agent<'r>(Option<&'r str>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Agent<'r> {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, ()> {
        Outcome::Success(Agent(request.headers().get_one("User-Agent")))
    }
}

#[protected(scopes = "read:items")]
#[get("/items/<id>?<verbose>")]
fn item(id: u32, verbose: Option<bool>, user: AuthUser) -> String {
    format!("{id} {verbose:?} {}", user.subject())
}

#[protected]
#[get("/cookies")]
fn cookies(jar: &CookieJar<'_>) -> String {
    jar.iter().count().to_string()
}

#[protected]
#[get("/state")]
async fn state(counter: &State<Counter>, user: AuthUser, agent: Agent<'_>) -> String {
    format!("{} {} {:?}", counter.0, user.subject(), agent.0)
}

#[protected(scopes = "admin")]
#[get("/files/<path..>")]
fn files(path: std::path::PathBuf) -> String {
    path.display().to_string()
}

fn main() {
    let _ = rocket::build()
        .manage(Counter(0))
        .mount("/", routes![item, cookies, state, files]);
}
