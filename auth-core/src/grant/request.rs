//! OAuth2 token requests (RFC 6749 §4.3 and §6) as plain values, and the
//! parsing of their `application/x-www-form-urlencoded` bodies.
//!
//! * [`PasswordRequestForm`]: the password grant; `grant_type` optional, and
//!   `password` if present (FastAPI's `OAuth2PasswordRequestForm`).
//! * [`PasswordRequestFormStrict`]: `grant_type=password` required
//!   (`OAuth2PasswordRequestFormStrict`).
//! * [`TokenRequest`]: what a `/token` endpoint takes: a password grant as
//!   above, `grant_type=refresh_token` or `grant_type=client_credentials`.
//! * [`RevocationRequest`]: what a `/revoke` endpoint takes (RFC 7009).
//!
//! Parsing fails with the RFC 6749 §5.2 error: a duplicated or missing
//! parameter is `invalid_request`, a foreign `grant_type` is
//! `unsupported_grant_type`, a malformed `scope` is `invalid_scope`.
//! Parameters sent without a value count as omitted (RFC 6749 §3.2); unknown
//! parameters are ignored. The Rocket data guards that read these from a
//! request live in `http::form`.

use std::fmt;
use std::net::IpAddr;

use rocket::http::RawStr;

use crate::error::{AuthError, RequestProblem, ScopeProblem};
use crate::password::Password;
use crate::scopes::Scopes;

/// The password grant (RFC 6749 §4.3.2), `grant_type` optional.
///
/// # Example
///
/// ```
/// use auth_core::{Auth, AuthError, PasswordRequestForm, TokenResponse};
/// use rocket::{post, State};
///
/// #[post("/token", data = "<form>")]
/// async fn token(form: PasswordRequestForm, auth: &State<Auth>) -> Result<TokenResponse, AuthError> {
///     auth.password_grant(form).await
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PasswordRequestForm {
    /// `grant_type` as sent (`Some("password")` or `None`).
    pub grant_type: Option<String>,
    /// `username`.
    pub username: String,
    /// `password`; its `Debug` is redacted.
    pub password: Password,
    /// `scope`, parsed; empty when not sent.
    pub scopes: Scopes,
    /// `client_id`, if sent.
    pub client_id: Option<String>,
    /// `client_secret`, if sent; its `Debug` is redacted.
    pub client_secret: Option<Password>,
    /// The client's IP address ([`crate::ClientAddress`]: the socket's peer
    /// unless `auth_trusted_proxy_header` is set), filled in by the data
    /// guard; failed logins are throttled per address.
    /// `None` when the form was parsed from a string.
    pub client_address: Option<IpAddr>,
}

/// The password grant with `grant_type=password` required.
///
/// Derefs to [`PasswordRequestForm`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordRequestFormStrict(pub PasswordRequestForm);

impl std::ops::Deref for PasswordRequestFormStrict {
    type Target = PasswordRequestForm;

    fn deref(&self) -> &PasswordRequestForm {
        &self.0
    }
}

impl From<PasswordRequestFormStrict> for PasswordRequestForm {
    fn from(strict: PasswordRequestFormStrict) -> Self {
        strict.0
    }
}

/// The refresh grant (RFC 6749 §6).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefreshRequestForm {
    /// `refresh_token`; its `Debug` is redacted.
    pub refresh_token: Password,
    /// `scope`, parsed; `None` keeps the original grant.
    pub scopes: Option<Scopes>,
    /// `client_id`, if sent.
    pub client_id: Option<String>,
    /// `client_secret`, if sent; its `Debug` is redacted.
    pub client_secret: Option<Password>,
    /// The client's IP address ([`crate::ClientAddress`]), filled in by
    /// the data guard, for auth events. `None` when the form
    /// was parsed from a string.
    pub client_address: Option<IpAddr>,
}

/// The client-credentials grant (RFC 6749 §4.4): a confidential client
/// asks for a token on its own behalf.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientCredentialsRequest {
    /// `scope`, parsed; empty when not sent (every scope the client may
    /// have).
    pub scopes: Scopes,
    /// `client_id`, from the body or HTTP Basic.
    pub client_id: Option<String>,
    /// `client_secret`, from the body or HTTP Basic; its `Debug` is
    /// redacted.
    pub client_secret: Option<Password>,
    /// The client's IP address ([`crate::ClientAddress`]), for auth events.
    pub client_address: Option<IpAddr>,
}

/// A revocation request (RFC 7009 §2.1): the token, and the client's
/// credentials (body or HTTP Basic) if it has any. `token_type_hint` is
/// ignored: only refresh tokens can be revoked.
///
/// # Example
///
/// ```
/// use auth_core::{Auth, AuthError, RevocationRequest};
/// use rocket::{post, State};
///
/// #[post("/revoke", data = "<request>")]
/// async fn revoke(request: RevocationRequest, auth: &State<Auth>) -> Result<(), AuthError> {
///     auth.revoke_request(request).await
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RevocationRequest {
    /// `token`; its `Debug` is redacted.
    pub token: Password,
    /// `client_id`, if sent.
    pub client_id: Option<String>,
    /// `client_secret`, if sent; its `Debug` is redacted.
    pub client_secret: Option<Password>,
    /// The client's IP address ([`crate::ClientAddress`]), for auth events.
    pub client_address: Option<IpAddr>,
}

/// A request to a token endpoint: the password, refresh or
/// client-credentials grant. Without `grant_type` it is a password grant.
///
/// # Example
///
/// ```
/// use auth_core::{Auth, AuthError, TokenRequest, TokenResponse};
/// use rocket::{post, State};
///
/// #[post("/token", data = "<request>")]
/// async fn token(request: TokenRequest, auth: &State<Auth>) -> Result<TokenResponse, AuthError> {
///     auth.grant(request).await
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRequest {
    /// `grant_type=password` or no `grant_type`.
    Password(PasswordRequestForm),
    /// `grant_type=refresh_token`.
    Refresh(RefreshRequestForm),
    /// `grant_type=client_credentials`.
    ClientCredentials(ClientCredentialsRequest),
}

/// The recognised parameters of a token request, before interpretation.
#[derive(Default)]
pub(crate) struct Fields {
    grant_type: Option<String>,
    username: Option<String>,
    password: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    refresh_token: Option<String>,
    token: Option<String>,
    pub(crate) client_address: Option<IpAddr>,
}

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fields")
            .field("grant_type", &self.grant_type)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Fields {
    /// Parses an `application/x-www-form-urlencoded` body.
    pub(crate) fn parse(body: &str) -> Result<Self, AuthError> {
        let mut fields = Self::default();
        let mut seen = [false; 8];
        for pair in body.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = decode(name)?;
            let (index, slot, label) = match name.as_str() {
                "grant_type" => (0, &mut fields.grant_type, "grant_type"),
                "username" => (1, &mut fields.username, "username"),
                "password" => (2, &mut fields.password, "password"),
                "scope" => (3, &mut fields.scope, "scope"),
                "client_id" => (4, &mut fields.client_id, "client_id"),
                "client_secret" => (5, &mut fields.client_secret, "client_secret"),
                "refresh_token" => (6, &mut fields.refresh_token, "refresh_token"),
                "token" => (7, &mut fields.token, "token"),
                _ => continue,
            };
            if std::mem::replace(&mut seen[index], true) {
                return Err(AuthError::InvalidRequest(
                    RequestProblem::DuplicateParameter(label),
                ));
            }
            let value = decode(value)?;
            if !value.is_empty() {
                *slot = Some(value);
            }
        }
        Ok(fields)
    }

    /// Takes the client credentials of an `Authorization: Basic` header.
    /// A client authenticates one way only (RFC 6749 §2.3): a secret in the
    /// body as well, or another `client_id` there, is `invalid_request`.
    pub(crate) fn add_basic_credentials(
        &mut self,
        id: String,
        secret: String,
    ) -> Result<(), AuthError> {
        let conflict = self.client_secret.is_some()
            || self
                .client_id
                .as_ref()
                .is_some_and(|body_id| *body_id != id);
        if conflict {
            return Err(AuthError::InvalidRequest(
                RequestProblem::ClientCredentialsTwice,
            ));
        }
        self.client_id = Some(id);
        self.client_secret = Some(secret).filter(|s| !s.is_empty());
        Ok(())
    }

    fn scopes(scope: Option<&str>) -> Result<Option<Scopes>, AuthError> {
        scope
            .map(|s| Scopes::parse(s).map_err(|_| AuthError::InvalidScope(ScopeProblem::Malformed)))
            .transpose()
    }

    fn into_password_form(self) -> Result<PasswordRequestForm, AuthError> {
        let missing = |name| AuthError::InvalidRequest(RequestProblem::MissingParameter(name));
        let username = self.username.ok_or_else(|| missing("username"))?;
        let password = self.password.ok_or_else(|| missing("password"))?;
        let scopes = Self::scopes(self.scope.as_deref())?.unwrap_or_default();
        Ok(PasswordRequestForm {
            grant_type: self.grant_type,
            username,
            password: Password::new(password),
            scopes,
            client_id: self.client_id,
            client_secret: self.client_secret.map(Password::new),
            client_address: self.client_address,
        })
    }

    fn into_client_credentials(self) -> Result<ClientCredentialsRequest, AuthError> {
        Ok(ClientCredentialsRequest {
            scopes: Self::scopes(self.scope.as_deref())?.unwrap_or_default(),
            client_id: self.client_id,
            client_secret: self.client_secret.map(Password::new),
            client_address: self.client_address,
        })
    }

    fn into_refresh_form(self) -> Result<RefreshRequestForm, AuthError> {
        let refresh_token = self.refresh_token.ok_or(AuthError::InvalidRequest(
            RequestProblem::MissingParameter("refresh_token"),
        ))?;
        Ok(RefreshRequestForm {
            refresh_token: Password::new(refresh_token),
            scopes: Self::scopes(self.scope.as_deref())?,
            client_id: self.client_id,
            client_secret: self.client_secret.map(Password::new),
            client_address: self.client_address,
        })
    }
}

pub(crate) fn decode(raw: &str) -> Result<String, AuthError> {
    RawStr::new(raw)
        .url_decode()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| AuthError::InvalidRequest(RequestProblem::BadEncoding))
}

/// Builds a form from the recognised parameters.
pub(crate) trait FromFields: Sized {
    fn from_fields(fields: Fields) -> Result<Self, AuthError>;
}

impl PasswordRequestForm {
    /// Parses a form body; `grant_type` may be absent.
    ///
    /// # Example
    ///
    /// ```
    /// use auth_core::PasswordRequestForm;
    ///
    /// let form = PasswordRequestForm::parse("username=johndoe&password=s%20cret&scope=read:items").unwrap();
    /// assert_eq!(form.username, "johndoe");
    /// assert_eq!(form.password.expose(), "s cret");
    /// assert!(form.scopes.contains("read:items"));
    /// ```
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidRequest`] for a duplicated or missing parameter,
    /// [`AuthError::UnsupportedGrantType`] for a foreign `grant_type`,
    /// [`AuthError::InvalidScope`] for a malformed `scope`.
    pub fn parse(body: &str) -> Result<Self, AuthError> {
        Fields::parse(body).and_then(Self::from_fields)
    }
}

impl FromFields for PasswordRequestForm {
    fn from_fields(fields: Fields) -> Result<Self, AuthError> {
        match fields.grant_type.as_deref() {
            None | Some("password") => fields.into_password_form(),
            Some(_) => Err(AuthError::UnsupportedGrantType),
        }
    }
}

impl PasswordRequestFormStrict {
    /// Parses a form body; `grant_type=password` is required.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidRequest`] without `grant_type`, or for a duplicated
    /// or missing parameter,
    /// [`AuthError::UnsupportedGrantType`] for a foreign `grant_type`,
    /// [`AuthError::InvalidScope`] for a malformed `scope`.
    pub fn parse(body: &str) -> Result<Self, AuthError> {
        Fields::parse(body).and_then(Self::from_fields)
    }
}

impl FromFields for PasswordRequestFormStrict {
    fn from_fields(fields: Fields) -> Result<Self, AuthError> {
        match fields.grant_type.as_deref() {
            Some("password") => fields.into_password_form().map(Self),
            None => Err(AuthError::InvalidRequest(RequestProblem::MissingParameter(
                "grant_type",
            ))),
            Some(_) => Err(AuthError::UnsupportedGrantType),
        }
    }
}

impl TokenRequest {
    /// Parses a form body into a password or refresh grant.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidRequest`] for a duplicated or missing parameter,
    /// [`AuthError::UnsupportedGrantType`] for a foreign `grant_type`,
    /// [`AuthError::InvalidScope`] for a malformed `scope`.
    pub fn parse(body: &str) -> Result<Self, AuthError> {
        Fields::parse(body).and_then(Self::from_fields)
    }
}

impl FromFields for TokenRequest {
    fn from_fields(fields: Fields) -> Result<Self, AuthError> {
        match fields.grant_type.as_deref() {
            None | Some("password") => fields.into_password_form().map(Self::Password),
            Some("refresh_token") => fields.into_refresh_form().map(Self::Refresh),
            Some("client_credentials") => fields
                .into_client_credentials()
                .map(Self::ClientCredentials),
            Some(_) => Err(AuthError::UnsupportedGrantType),
        }
    }
}

impl RevocationRequest {
    /// Parses a form body: `token` is required.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidRequest`] for a duplicated or missing parameter.
    pub fn parse(body: &str) -> Result<Self, AuthError> {
        Fields::parse(body).and_then(Self::from_fields)
    }
}

impl FromFields for RevocationRequest {
    fn from_fields(fields: Fields) -> Result<Self, AuthError> {
        let token =
            fields
                .token
                .ok_or(AuthError::InvalidRequest(RequestProblem::MissingParameter(
                    "token",
                )))?;
        Ok(Self {
            token: Password::new(token),
            client_id: fields.client_id,
            client_secret: fields.client_secret.map(Password::new),
            client_address: fields.client_address,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(result: Result<impl fmt::Debug, AuthError>) -> &'static str {
        result.unwrap_err().code()
    }

    #[test]
    fn permissive_form_accepts_missing_or_password_grant_type() {
        let form = PasswordRequestForm::parse("username=a&password=b").unwrap();
        assert_eq!(form.grant_type, None);
        assert!(form.scopes.is_empty());
        let form = PasswordRequestForm::parse(
            "grant_type=password&username=a+b&password=p%26q&scope=x%20y&client_id=c&client_secret=s&extra=1",
        )
        .unwrap();
        assert_eq!(form.username, "a b");
        assert_eq!(form.password.expose(), "p&q");
        assert_eq!(form.scopes.to_string(), "x y");
        assert_eq!(form.client_id.as_deref(), Some("c"));
        assert_eq!(form.client_secret.as_ref().map(Password::expose), Some("s"));
    }

    #[test]
    fn permissive_form_errors() {
        assert_eq!(
            code(PasswordRequestForm::parse("username=a")),
            "invalid_request"
        );
        assert_eq!(
            code(PasswordRequestForm::parse("password=a")),
            "invalid_request"
        );
        assert_eq!(
            code(PasswordRequestForm::parse("username=&password=b")),
            "invalid_request"
        );
        assert_eq!(
            code(PasswordRequestForm::parse(
                "username=a&username=b&password=c"
            )),
            "invalid_request"
        );
        assert_eq!(
            code(PasswordRequestForm::parse(
                "grant_type=client_credentials&username=a&password=b"
            )),
            "unsupported_grant_type"
        );
        assert_eq!(
            code(PasswordRequestForm::parse(
                "grant_type=refresh_token&refresh_token=x"
            )),
            "unsupported_grant_type"
        );
        assert_eq!(
            code(PasswordRequestForm::parse(
                "username=a&password=b&scope=bad%22scope"
            )),
            "invalid_scope"
        );
        assert_eq!(
            code(PasswordRequestForm::parse("username=%FF&password=b")),
            "invalid_request"
        );
    }

    #[test]
    fn empty_values_count_as_omitted() {
        let form =
            PasswordRequestForm::parse("grant_type=&username=a&password=b&scope=&client_id=")
                .unwrap();
        assert_eq!(form.grant_type, None);
        assert_eq!(form.client_id, None);
        assert!(form.scopes.is_empty());
    }

    #[test]
    fn strict_form_requires_grant_type_password() {
        assert!(
            PasswordRequestFormStrict::parse("grant_type=password&username=a&password=b").is_ok()
        );
        let err = PasswordRequestFormStrict::parse("username=a&password=b").unwrap_err();
        assert_eq!(err.code(), "invalid_request");
        assert!(err.description().contains("grant_type"));
        assert_eq!(
            code(PasswordRequestFormStrict::parse(
                "grant_type=refresh_token&username=a&password=b"
            )),
            "unsupported_grant_type"
        );
        assert_eq!(
            code(PasswordRequestFormStrict::parse(
                "grant_type=Password&username=a&password=b"
            )),
            "unsupported_grant_type"
        );
    }

    #[test]
    fn token_request_dispatches_on_grant_type() {
        assert!(matches!(
            TokenRequest::parse("username=a&password=b"),
            Ok(TokenRequest::Password(_))
        ));
        let TokenRequest::Refresh(refresh) =
            TokenRequest::parse("grant_type=refresh_token&refresh_token=abc&scope=x").unwrap()
        else {
            panic!("expected a refresh grant");
        };
        assert_eq!(refresh.refresh_token.expose(), "abc");
        assert_eq!(refresh.scopes.unwrap().to_string(), "x");
        assert_eq!(
            code(TokenRequest::parse("grant_type=refresh_token")),
            "invalid_request"
        );
        assert_eq!(
            code(TokenRequest::parse("grant_type=authorization_code&code=x")),
            "unsupported_grant_type"
        );
        let TokenRequest::ClientCredentials(cc) = TokenRequest::parse(
            "grant_type=client_credentials&scope=a%20b&client_id=svc&client_secret=s",
        )
        .unwrap() else {
            panic!("expected a client-credentials grant");
        };
        assert_eq!(cc.scopes.to_string(), "a b");
        assert_eq!(cc.client_id.as_deref(), Some("svc"));
        assert!(!format!("{cc:?}").contains("=s"));
        let revocation = RevocationRequest::parse("token=t&token_type_hint=x").unwrap();
        assert_eq!(revocation.token.expose(), "t");
        assert_eq!(
            code(RevocationRequest::parse("client_id=a")),
            "invalid_request"
        );
    }

    #[test]
    fn debug_never_shows_secrets() {
        let form =
            PasswordRequestForm::parse("username=a&password=hunter2&client_secret=shh").unwrap();
        let debug = format!("{form:?}");
        assert!(
            !debug.contains("hunter2") && !debug.contains("shh"),
            "{debug}"
        );
        let TokenRequest::Refresh(refresh) =
            TokenRequest::parse("grant_type=refresh_token&refresh_token=rt-secret").unwrap()
        else {
            panic!("expected a refresh grant");
        };
        assert!(!format!("{refresh:?}").contains("rt-secret"));
    }
}
