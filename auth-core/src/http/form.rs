//! OAuth2 token-request forms (RFC 6749 §4.3 and §6), as Rocket data guards.
//!
//! * [`PasswordRequestForm`]: the password grant; `grant_type` optional, and
//!   `password` if present (FastAPI's `OAuth2PasswordRequestForm`).
//! * [`PasswordRequestFormStrict`]: `grant_type=password` required
//!   (`OAuth2PasswordRequestFormStrict`).
//! * [`TokenRequest`]: what a `/token` endpoint takes: a password grant as
//!   above, `grant_type=refresh_token` or `grant_type=client_credentials`.
//! * [`RevocationRequest`]: what a `/revoke` endpoint takes (RFC 7009).
//!
//! Each reads an `application/x-www-form-urlencoded` body and fails with the
//! RFC 6749 §5.2 error (rendered by the [`crate::Auth`] fairing): a duplicated
//! parameter, a missing one or another content type is `invalid_request`, a
//! foreign `grant_type` is `unsupported_grant_type`, a malformed `scope` is
//! `invalid_scope`. Parameters sent without a value count as omitted
//! (RFC 6749 §3.2); unknown parameters are ignored.
//!
//! Client credentials may come in the body (`client_id`, `client_secret`) or
//! as `Authorization: Basic` (RFC 6749 §2.3.1, what most OAuth2 client
//! libraries send by default), not both.
//!
//! These are data guards, like `Json<T>`: take them directly as the `data`
//! parameter, not inside `Form<...>`, so that errors carry RFC 6749 codes.

use rocket::Request;
use rocket::data::{self, Data, FromData, ToByteUnit as _};

use crate::bearer::basic_credentials;
use crate::error::{AuthError, RequestProblem};
use crate::grant::request::{Fields, FromFields, decode};
use crate::grant::{
    PasswordRequestForm, PasswordRequestFormStrict, RevocationRequest, TokenRequest,
};

/// Largest token-request body read, in bytes.
pub const MAX_FORM_LEN: u64 = 16 * 1024;

/// Reads the parameters of a token request: the form body, within
/// [`MAX_FORM_LEN`], and client credentials sent with HTTP Basic
/// authentication (RFC 6749 §2.3.1).
async fn read_fields(request: &Request<'_>, data: Data<'_>) -> Result<Fields, AuthError> {
    if !request.content_type().is_some_and(|ct| ct.is_form()) {
        return Err(AuthError::InvalidRequest(RequestProblem::NotFormEncoded));
    }
    let body = data
        .open(MAX_FORM_LEN.bytes())
        .into_string()
        .await
        .map_err(|_| AuthError::InvalidRequest(RequestProblem::BadEncoding))?;
    if !body.is_complete() {
        return Err(AuthError::InvalidRequest(RequestProblem::BodyTooLarge));
    }
    let mut fields = Fields::parse(&body)?;
    if let Some((client_id, client_secret)) =
        client_credentials(request.headers().get("Authorization"))?
    {
        fields.add_basic_credentials(client_id, client_secret)?;
    }
    fields.client_address = crate::http::client_address::client_address(request);
    Ok(fields)
}

/// The client id and secret of an `Authorization: Basic` header, each
/// form-urlencoded inside the base64 (RFC 6749 §2.3.1).
fn client_credentials<'a>(
    values: impl Iterator<Item = &'a str>,
) -> Result<Option<(String, String)>, AuthError> {
    let Some((id, secret)) = basic_credentials(values)? else {
        return Ok(None);
    };
    let id = decode(&id)?;
    if id.is_empty() {
        return Err(AuthError::InvalidRequest(
            RequestProblem::MalformedClientCredentials,
        ));
    }
    Ok(Some((id, decode(&secret)?)))
}

macro_rules! form_data_guard {
    ($ty:ty) => {
        #[rocket::async_trait]
        impl<'r> FromData<'r> for $ty {
            type Error = AuthError;

            async fn from_data(
                request: &'r Request<'_>,
                data: Data<'r>,
            ) -> data::Outcome<'r, Self> {
                let parsed = read_fields(request, data)
                    .await
                    .and_then(<$ty as FromFields>::from_fields);
                match parsed {
                    Ok(form) => data::Outcome::Success(form),
                    Err(e) => crate::http::respond::fail_data(request, e),
                }
            }
        }
    };
}

form_data_guard!(PasswordRequestForm);
form_data_guard!(PasswordRequestFormStrict);
form_data_guard!(TokenRequest);
form_data_guard!(RevocationRequest);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::Password;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    fn code(result: Result<impl std::fmt::Debug, AuthError>) -> &'static str {
        result.unwrap_err().code()
    }

    #[test]
    fn basic_client_credentials() {
        let header = |id_secret: &str| format!("Basic {}", STANDARD.encode(id_secret));
        let creds = |value: &str| client_credentials(std::iter::once(value));
        assert_eq!(
            creds(&header("my%20app:s%3Acret")).unwrap(),
            Some(("my app".to_owned(), "s:cret".to_owned()))
        );
        assert_eq!(creds("Bearer abc").unwrap(), None);
        assert_eq!(creds(&header(":")).unwrap(), None);
        assert_eq!(client_credentials(std::iter::empty()).unwrap(), None);
        for bad in [
            "Basic !!!".to_owned(),
            header("no-colon"),
            header(":secret"),
        ] {
            assert_eq!(code(creds(&bad)), "invalid_request", "{bad}");
        }

        let mut fields = Fields::parse("username=a&password=b").unwrap();
        fields
            .add_basic_credentials("app".into(), "s".into())
            .unwrap();
        let form = PasswordRequestForm::from_fields(fields).unwrap();
        assert_eq!(form.client_id.as_deref(), Some("app"));
        assert_eq!(form.client_secret.as_ref().map(Password::expose), Some("s"));

        let mut same_id = Fields::parse("username=a&password=b&client_id=app").unwrap();
        assert!(
            same_id
                .add_basic_credentials("app".into(), String::new())
                .is_ok()
        );
        for body in [
            "username=a&password=b&client_id=other",
            "username=a&password=b&client_secret=x",
        ] {
            let mut fields = Fields::parse(body).unwrap();
            let err = fields
                .add_basic_credentials("app".into(), "s".into())
                .unwrap_err();
            assert_eq!(err.code(), "invalid_request", "{body}");
        }
    }
}
