// Any responder: results, options, tuples, `impl Responder`, redirects.
#![deny(warnings)]

use auth_core::{AuthUser, protected};
use rocket::http::Status;
use rocket::response::{Redirect, Responder};
use rocket::serde::Serialize;
use rocket::serde::json::Json;
use rocket::{get, routes, uri};

#[derive(Serialize)]
#[serde(crate = "rocket::serde")]
struct Item {
    id: u32,
}

#[protected(scopes = "read:items")]
#[get("/result/<id>")]
async fn result(id: u32) -> Result<Json<Item>, Status> {
    if id == 0 {
        Err(Status::NotFound)
    } else {
        Ok(Json(Item { id }))
    }
}

#[protected]
#[get("/option")]
fn option(user: AuthUser) -> Option<String> {
    user.has_scope("admin").then(|| user.subject().to_owned())
}

#[protected]
#[get("/impl")]
fn impl_responder<'r>() -> impl Responder<'r, 'static> {
    (Status::Accepted, "accepted")
}

#[protected]
#[get("/redirect")]
fn redirect() -> Redirect {
    Redirect::to(uri!(option))
}

#[protected]
#[get("/unit")]
async fn unit() {}

fn main() {
    let _ = rocket::build().mount("/", routes![result, option, impl_responder, redirect, unit]);
}
