// Data guards: JSON and form bodies, with and without the caller.
#![deny(warnings)]

use auth_core::{AuthUser, protected};
use rocket::form::Form;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::serde::{Deserialize, Serialize};
use rocket::{FromForm, post, put, routes};

#[derive(Deserialize, Serialize)]
#[serde(crate = "rocket::serde")]
struct NewItem {
    name: String,
}

#[derive(FromForm)]
struct Rename {
    name: String,
}

#[protected(scopes = "write:items")]
#[post("/items", format = "json", data = "<body>")]
async fn create(user: AuthUser, body: Json<NewItem>) -> (Status, Json<NewItem>) {
    let _ = user.subject();
    (Status::Created, body)
}

#[protected(scopes = "write:items")]
#[put("/items/<id>", data = "<form>")]
fn rename(id: u32, form: Form<Rename>) -> String {
    format!("{id} {}", form.name)
}

#[protected]
#[post("/raw", data = "<body>")]
fn raw(body: String) -> String {
    body
}

fn main() {
    let _ = rocket::build().mount("/", routes![create, rename, raw]);
}
