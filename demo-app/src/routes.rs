//! The demo's routes (contract §7).

use auth_core::{
    Auth, AuthError, AuthUser, MaybeUser, PasswordRequestFormStrict, RevocationRequest,
    TokenRequest, TokenResponse, protected,
};
use rocket::response::status::NoContent;
use rocket::serde::json::{self, Json};
use rocket::{Route, State, delete, get, post};
use rocket_okapi::okapi::openapi3::OpenApi;
use rocket_okapi::{openapi, openapi_get_routes_spec};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::db::{Db, Item, Task};
use crate::errors::ApiError;
use crate::openapi::Created;

/// The longest item name, in characters.
const MAX_ITEM_NAME: usize = 100;

/// Every route of the demo, and their OpenAPI document.
pub(crate) fn routes() -> (Vec<Route>, OpenApi) {
    openapi_get_routes_spec![
        health,
        token,
        token_strict,
        revoke,
        me,
        list_items,
        create_item,
        delete_item,
        admin::users,
        tasks,
    ]
}

/// The body of `GET /health`.
#[derive(Serialize, JsonSchema)]
struct Health {
    /// Always `"ok"`.
    status: &'static str,
}

/// Whether the service is up.
#[openapi]
#[get("/health")]
fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The password, refresh and client-credentials grants (RFC 6749 §4.3,
/// §6, §4.4).
#[openapi]
#[post("/token", data = "<request>")]
async fn token(request: TokenRequest, auth: &Auth) -> Result<TokenResponse, AuthError> {
    auth.grant(request).await
}

/// The password grant with `grant_type=password` required.
#[openapi]
#[post("/token-strict", data = "<form>")]
async fn token_strict(
    form: PasswordRequestFormStrict,
    auth: &Auth,
) -> Result<TokenResponse, AuthError> {
    auth.password_grant(form).await
}

/// Revokes a refresh token and its family (RFC 7009): 200 whether or not
/// the token was known. A confidential client authenticates (HTTP Basic or
/// `client_id` and `client_secret`) and revokes only its own tokens.
#[openapi]
#[post("/revoke", data = "<request>")]
async fn revoke(request: RevocationRequest, auth: &Auth) -> Result<(), AuthError> {
    auth.revoke_request(request).await
}

#[derive(Serialize, JsonSchema)]
struct Me {
    username: String,
    scopes: Vec<String>,
    /// `true` when the caller is a client on its own behalf (the
    /// client-credentials grant); then `username` is its client id.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    client: bool,
}

/// The caller and the scopes of their token.
#[protected]
#[openapi]
#[get("/users/me")]
fn me(user: AuthUser) -> Json<Me> {
    Json(Me {
        username: user.subject().to_owned(),
        scopes: user.scopes().to_vec(),
        client: user.is_client(),
    })
}

#[protected(scopes = "read:items")]
#[openapi]
#[get("/items")]
async fn list_items(db: &State<Db>) -> Result<Json<Vec<Item>>, ApiError> {
    Ok(Json(db.items().await?))
}

/// The body of `POST /items`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct NewItem {
    /// 1 to 100 characters, not all white space, no control characters.
    #[schemars(
        length(min = 1, max = 100),
        regex(
            pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
        )
    )]
    name: String,
}

/// Trims `name` and checks it is 1 to [`MAX_ITEM_NAME`] characters without
/// control characters.
fn valid_item_name(name: &str) -> Result<&str, ApiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::unprocessable("the item name is empty"));
    }
    if name.chars().count() > MAX_ITEM_NAME {
        return Err(ApiError::unprocessable(format!(
            "the item name is longer than {MAX_ITEM_NAME} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::unprocessable(
            "the item name contains control characters",
        ));
    }
    Ok(name)
}

/// Stores an item owned by the caller: 201 with the stored item.
#[protected(scopes = "write:items")]
#[openapi]
#[post("/items", data = "<body>")]
async fn create_item(
    user: AuthUser,
    db: &State<Db>,
    body: Result<Json<NewItem>, json::Error<'_>>,
) -> Result<Created<Json<Item>>, ApiError> {
    let body = body.map_err(|e| ApiError::from_json(&e))?;
    let name = valid_item_name(&body.name)?;
    let item = db.insert_item(name, user.subject()).await?;
    Ok(Created(Json(item)))
}

/// Deletes an item: 204, or 404 when there is no such item. Writers may
/// delete any item, and so may admins (the first alternative is the one a
/// 403's `scope=` names).
#[protected(any(scopes = "write:items", scopes = "admin"))]
#[openapi]
#[delete("/items/<id>")]
async fn delete_item(id: i64, db: &State<Db>) -> Result<Option<NoContent>, ApiError> {
    Ok(db.delete_item(id).await?.then_some(NoContent))
}

/// The admin routes: every route in this module requires the `admin` scope,
/// on top of its own `#[protected]`, if any.
#[protected(scopes = "admin")]
mod admin {
    use rocket::serde::json::Json;
    use rocket::{State, get};
    use rocket_okapi::openapi;
    use schemars::JsonSchema;
    use serde::Serialize;

    use crate::db::Db;
    use crate::errors::ApiError;

    #[derive(Serialize, JsonSchema)]
    pub(super) struct UserView {
        username: String,
        scopes: Vec<String>,
        disabled: bool,
    }

    /// Every user, with their scopes.
    #[openapi]
    #[get("/admin/users")]
    pub(super) async fn users(db: &State<Db>) -> Result<Json<Vec<UserView>>, ApiError> {
        let users = db.users().await?;
        Ok(Json(
            users
                .into_iter()
                .map(|user| UserView {
                    scopes: user.scopes.to_vec(),
                    username: user.username,
                    disabled: user.disabled,
                })
                .collect(),
        ))
    }
}

#[derive(Serialize, JsonSchema)]
struct TaskList {
    user: Option<String>,
    tasks: Vec<Task>,
}

/// Public tasks for everyone, plus the caller's own when a valid token is
/// sent. An invalid token is refused (401), never treated as anonymous.
#[openapi]
#[get("/tasks")]
async fn tasks(user: MaybeUser, db: &State<Db>) -> Result<Json<TaskList>, ApiError> {
    let user = user.0.map(|user| user.subject().to_owned());
    let tasks = db.tasks(user.as_deref()).await?;
    Ok(Json(TaskList { user, tasks }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_names() {
        assert_eq!(valid_item_name("  hammer ").unwrap(), "hammer");
        assert!(valid_item_name("").is_err());
        assert!(valid_item_name("   ").is_err());
        assert!(valid_item_name("a\u{0}b").is_err());
        assert!(valid_item_name(&"x".repeat(MAX_ITEM_NAME)).is_ok());
        assert!(valid_item_name(&"é".repeat(MAX_ITEM_NAME)).is_ok());
        assert!(valid_item_name(&"x".repeat(MAX_ITEM_NAME + 1)).is_err());
    }
}
