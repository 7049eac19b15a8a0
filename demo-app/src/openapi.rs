//! The demo's OpenAPI document: what `rocket_okapi` derives from the routes
//! (security from auth-core's guards), plus the demo's own error responses.
//! Served with Swagger UI by [`auth_core::openapi::docs`].

use auth_core::openapi::ErrorBody;
use rocket::http::Status;
use rocket::response::{self, Responder};
use rocket::{Request, Route};
use rocket_okapi::r#gen::OpenApiGenerator;
use rocket_okapi::okapi::openapi3::{MediaType, OpenApi, RefOr, Response, Responses};
use rocket_okapi::response::OpenApiResponderInner;
use rocket_okapi::util::set_status_code;

use crate::errors::ApiError;

/// `routes` and their document, plus `GET /openapi.json` and `GET /docs`
/// serving the finished document.
pub(crate) fn with_docs((mut routes, mut spec): (Vec<Route>, OpenApi)) -> Vec<Route> {
    finish(&mut spec);
    routes.extend(auth_core::openapi::docs(spec));
    routes
}

/// Adds what the routes' types cannot say.
fn finish(spec: &mut OpenApi) {
    "auth-core demo".clone_into(&mut spec.info.title);
    let mut error = MediaType::default();
    let mut generator = OpenApiGenerator::new(&rocket_okapi::settings::OpenApiSettings::new());
    error.schema = Some(generator.json_schema::<ErrorBody>());
    for item in spec.paths.values_mut() {
        let operations = [&mut item.get, &mut item.post, &mut item.delete];
        for operation in operations.into_iter().flatten() {
            // The catchers give every other status the same JSON body.
            let mut other = Response {
                description: "Any other error, e.g. 404 or 415: `{\"error\", \
                              \"error_description\"}`"
                    .to_owned(),
                ..Response::default()
            };
            other
                .content
                .insert("application/json".to_owned(), error.clone());
            operation.responses.default = Some(RefOr::Object(other));
            let reads_json = matches!(
                &operation.request_body,
                Some(RefOr::Object(body)) if body.content.contains_key("application/json")
            );
            if reads_json {
                let codes = &mut operation.responses.responses;
                for (status, description) in [
                    ("400", "`invalid_request`: the body is not valid JSON"),
                    ("413", "`invalid_request`: the body is too large"),
                    (
                        "422",
                        "`invalid_request`: the body has the wrong shape or an invalid value",
                    ),
                ] {
                    match codes.get_mut(status) {
                        Some(RefOr::Object(response)) => {
                            response.description =
                                format!("{}; {description}", response.description);
                        }
                        _ => {
                            codes.insert(
                                status.to_owned(),
                                error_response(&mut generator, description),
                            );
                        }
                    }
                }
            }
            // `rocket_okapi` documents a `Form` as multipart; the demo's
            // form (RFC 7009 revocation) is `application/x-www-form-urlencoded`.
            if let Some(RefOr::Object(body)) = &mut operation.request_body
                && let Some(multipart) = body.content.shift_remove("multipart/form-data")
            {
                body.content
                    .insert("application/x-www-form-urlencoded".to_owned(), multipart);
            }
        }
    }
}

/// A 201 Created response with `R` as its body.
pub(crate) struct Created<R>(pub R);

impl<'r, 'o: 'r, R: Responder<'r, 'o>> Responder<'r, 'o> for Created<R> {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'o> {
        let mut response = self.0.respond_to(request)?;
        response.set_status(Status::Created);
        Ok(response)
    }
}

impl<R: OpenApiResponderInner> OpenApiResponderInner for Created<R> {
    fn responses(generator: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        let mut responses = R::responses(generator)?;
        set_status_code(&mut responses, 201)?;
        Ok(responses)
    }
}

/// What [`ApiError`] answers whatever the route: 500. The body errors
/// (400, 413, 422) are added by [`finish`] to the routes that read JSON.
impl OpenApiResponderInner for ApiError {
    fn responses(generator: &mut OpenApiGenerator) -> rocket_okapi::Result<Responses> {
        let mut responses = Responses::default();
        responses.responses.insert(
            "500".to_owned(),
            error_response(generator, "`server_error`: the database failed"),
        );
        Ok(responses)
    }
}

fn error_response(generator: &mut OpenApiGenerator, description: &str) -> RefOr<Response> {
    let mut response = Response {
        description: description.to_owned(),
        ..Response::default()
    };
    response.content.insert(
        "application/json".to_owned(),
        MediaType {
            schema: Some(generator.json_schema::<ErrorBody>()),
            ..MediaType::default()
        },
    );
    RefOr::Object(response)
}
