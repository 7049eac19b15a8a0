//! Errors of the demo's own routes, and catchers that give every other
//! failure the same JSON shape: `{"error": ..., "error_description": ...}`.
//!
//! Auth failures (401, 403, token endpoint errors) are rendered by
//! auth-core's fairing, which replaces whatever a catcher produced for them.

use std::fmt;

use auth_core::StoreError;
use rocket::http::Status;
use rocket::response::content::RawJson;
use rocket::response::{self, Responder};
use rocket::serde::json::{self, Json};
use rocket::{Catcher, Request, catch, catchers};
use serde_json::{Value, json};

/// Why a demo route refused a request.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// The database failed. Logged in full; the client sees only
    /// `server_error`.
    Database(sqlx::Error),
    /// The user store failed; answered like [`ApiError::Database`].
    Store(StoreError),
    /// The request body is unusable: `status` is 400, 413 or 422.
    InvalidBody { status: Status, description: String },
}

impl ApiError {
    /// A 422 `invalid_request` with `description`.
    pub(crate) fn unprocessable(description: impl Into<String>) -> Self {
        Self::InvalidBody {
            status: Status::UnprocessableEntity,
            description: description.into(),
        }
    }

    /// Classifies a failure of the `Json` data guard as Rocket does: a
    /// syntax error is 400, JSON of the wrong shape 422, a body over the
    /// `json` limit 413. The body itself is never echoed.
    pub(crate) fn from_json(error: &json::Error<'_>) -> Self {
        let (status, description) = match error {
            json::Error::Io(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => (
                Status::PayloadTooLarge,
                "the request body is too large".to_owned(),
            ),
            json::Error::Io(_) => (
                Status::BadRequest,
                "the request body could not be read".to_owned(),
            ),
            json::Error::Parse(_, e) if e.is_data() => (
                Status::UnprocessableEntity,
                format!("the JSON body has the wrong shape: {}", strip_input(e)),
            ),
            json::Error::Parse(_, e) => (
                Status::BadRequest,
                format!("the body is not valid JSON: {}", strip_input(e)),
            ),
        };
        Self::InvalidBody {
            status,
            description,
        }
    }
}

/// `serde_json`'s message and position, without the input it sometimes
/// quotes (`invalid type: string "...", expected ...`): only field names
/// and the kind of problem are kept.
fn strip_input(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let message = message.split(" at line ").next().unwrap_or_default();
    let what = if message.starts_with("missing field") {
        message
    } else if message.starts_with("unknown field") {
        message.split(", expected").next().unwrap_or_default()
    } else if error.is_data() {
        message.split(':').next().unwrap_or_default()
    } else {
        message
    };
    format!("{what} at line {}, column {}", error.line(), error.column())
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Database(e) => write!(f, "database error: {e}"),
            Self::Store(e) => write!(f, "user store error: {e}"),
            Self::InvalidBody { description, .. } => f.write_str(description),
        }
    }
}

impl<'r> Responder<'r, 'static> for ApiError {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let (status, body) = match &self {
            Self::Database(_) | Self::Store(_) => {
                log::error!(
                    "demo: {} {}: {self}",
                    request.method(),
                    request.uri().path()
                );
                (
                    Status::InternalServerError,
                    error_body(Status::InternalServerError),
                )
            }
            Self::InvalidBody {
                status,
                description,
            } => (
                *status,
                json!({ "error": "invalid_request", "error_description": description }),
            ),
        };
        (status, Json(body)).respond_to(request)
    }
}

/// A code, its description, and the JSON body made of both, at compile
/// time.
macro_rules! answer {
    ($code:literal, $description:literal) => {
        (
            $code,
            $description,
            concat!(
                "{\"error\":\"",
                $code,
                "\",\"error_description\":\"",
                $description,
                "\"}"
            ),
        )
    };
}

/// The RFC-style code, a description and the JSON body for a status no
/// route answered itself.
fn code_for(status: Status) -> (&'static str, &'static str, &'static str) {
    match status.code {
        400 => answer!("invalid_request", "the request is malformed"),
        401 => answer!("unauthorized", "authentication is required"),
        403 => answer!("access_denied", "access to this resource is denied"),
        404 => answer!("not_found", "there is no such resource"),
        405 => answer!("method_not_allowed", "the method is not allowed here"),
        413 => answer!("invalid_request", "the request body is too large"),
        415 => answer!(
            "invalid_request",
            "the request body has an unsupported content type"
        ),
        422 => answer!(
            "invalid_request",
            "the request body is not valid for this route"
        ),
        503 => answer!(
            "temporarily_unavailable",
            "the server is temporarily unavailable"
        ),
        code if code < 500 => answer!("invalid_request", "the request cannot be served"),
        _ => answer!("server_error", "the server could not complete the request"),
    }
}

fn error_body(status: Status) -> Value {
    let (error, description, _) = code_for(status);
    json!({ "error": error, "error_description": description })
}

/// Answers every error status no route or guard rendered itself, with a
/// body prebuilt at compile time (auth failures pass through here before
/// the auth fairing rewrites them, so it must be cheap).
#[catch(default)]
fn default_catcher(status: Status, _request: &Request<'_>) -> (Status, RawJson<&'static str>) {
    (status, RawJson(code_for(status).2))
}

/// The demo's catchers.
pub(crate) fn catchers() -> Vec<Catcher> {
    catchers![default_catcher]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code, reason = "only deserialized")]
    struct Named {
        name: String,
    }

    fn describe(body: &str) -> String {
        let error = serde_json::from_str::<Named>(body).unwrap_err();
        strip_input(&error)
    }

    #[test]
    fn json_errors_never_echo_the_input() {
        let wrong_type = describe(r#"{"name": 12345678}"#);
        assert!(wrong_type.starts_with("invalid type"), "{wrong_type}");
        assert!(!wrong_type.contains("12345678"), "{wrong_type}");
        let unknown = describe(r#"{"name": "x", "owner": "mallory"}"#);
        assert!(unknown.starts_with("unknown field `owner`"), "{unknown}");
        assert!(!unknown.contains("mallory"), "{unknown}");
        let missing = describe("{}");
        assert!(missing.starts_with("missing field `name`"), "{missing}");
        let syntax = describe(r#"{"name": "hunter2"#);
        assert!(!syntax.contains("hunter2"), "{syntax}");
    }

    #[test]
    fn every_status_has_a_code() {
        assert_eq!(code_for(Status::NotFound).0, "not_found");
        assert_eq!(code_for(Status::UnprocessableEntity).0, "invalid_request");
        assert_eq!(code_for(Status::ImATeapot).0, "invalid_request");
        assert_eq!(code_for(Status::InternalServerError).0, "server_error");
        assert_eq!(code_for(Status::BadGateway).0, "server_error");
        for code in [400, 401, 404, 418, 500, 503] {
            let status = Status::new(code);
            let body: Value = serde_json::from_str(code_for(status).2).unwrap();
            assert_eq!(body, error_body(status));
        }
    }
}
