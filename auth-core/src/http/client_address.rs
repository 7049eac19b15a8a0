//! The client's address as throttling and auth events see it: the socket's
//! peer, or the header a trusted reverse proxy sets
//! (`auth_trusted_proxy_header`).
//!
//! Rocket's own `Request::client_ip` (and the `IpAddr` guard) believe an
//! `X-Real-IP` header by default, which any client can send; this does
//! not, unless told which header to trust.

use std::net::{IpAddr, SocketAddr};

use rocket::Request;
use rocket::request::{FromRequest, Outcome};

use crate::auth::Auth;

/// A request guard for the client's address: the socket's peer, or the
/// value of `auth_trusted_proxy_header` when one is configured and sent.
/// It never fails; the address is `None` when there is none (a local test
/// client without `remote`).
///
/// Use it instead of Rocket's `IpAddr` guard wherever the address must
/// not be chosen by the client, e.g. for [`Auth::revoke_from`].
///
/// # Example
///
/// ```rust
/// use auth_core::{Auth, AuthError, ClientAddress};
/// use rocket::post;
///
/// #[post("/revoke", data = "<token>")]
/// async fn revoke(
///     token: String,
///     auth: &Auth,
///     client: ClientAddress,
/// ) -> Result<(), AuthError> {
///     auth.revoke_from(&token, client.0).await
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub Option<IpAddr>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientAddress {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(Self(client_address(request)))
    }
}

/// The client's address of `request` (see [`ClientAddress`]).
pub(crate) fn client_address(request: &Request<'_>) -> Option<IpAddr> {
    let header = request
        .rocket()
        .state::<Auth>()
        .and_then(|auth| auth.trusted_proxy_header.as_deref());
    header
        .and_then(|name| request.headers().get(name).last())
        .and_then(from_header)
        .or_else(|| request.remote().map(|peer| peer.ip()))
}

/// The address in a proxy header's value: the last entry of a list (the
/// one the trusted proxy added), with or without a port.
fn from_header(value: &str) -> Option<IpAddr> {
    let last = value.rsplit(',').next()?.trim();
    last.parse::<IpAddr>()
        .ok()
        .or_else(|| last.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    use super::from_header;

    #[test]
    fn header_values_are_read_from_their_last_entry() {
        assert_eq!(from_header("192.0.2.1"), "192.0.2.1".parse().ok());
        assert_eq!(from_header("6.6.6.6, 192.0.2.1"), "192.0.2.1".parse().ok());
        assert_eq!(from_header("[2001:db8::1]:443"), "2001:db8::1".parse().ok());
        assert_eq!(from_header("192.0.2.1:80"), "192.0.2.1".parse().ok());
        assert_eq!(from_header("unknown"), None);
        assert_eq!(from_header(""), None);
    }
}
