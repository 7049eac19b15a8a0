//! Client authentication at the token and revocation endpoints
//! (RFC 6749 §2.3.1: `client_secret_basic` and `client_secret_post`), and
//! the client-credentials grant (RFC 6749 §4.4).
//!
//! Which client a request comes from, given the registry:
//!
//! | `client_id` | secret sent | outcome |
//! |---|---|---|
//! | registered, confidential | the right one | that client |
//! | registered, confidential | wrong, or none | 401 `invalid_client` |
//! | registered, public | none | that client |
//! | registered, public | any | 401 `invalid_client` |
//! | registered, disabled | any | 401 `invalid_client` |
//! | not registered (or none sent: the default id) | any | a public client of that name, as before clients were registered; the secret is not looked at |
//!
//! A registered client may then use only its grants (else 400
//! `unauthorized_client`) and its scopes. The client-credentials grant
//! needs a registered confidential client; anyone else is
//! `invalid_client`. Without a registry every client is public.

use super::request::{ClientCredentialsRequest, RevocationRequest};
use super::{MAX_CLIENT_ID_LEN, TokenResponse, check_len, check_scope_len, hash_refresh_token};
use crate::auth::Auth;
use crate::error::AuthError;
use crate::log::events::{AuthEvent, AuthEventKind};
use crate::password::Password;
use crate::scopes::Scopes;
use crate::store::clients::hash_client_secret;
use crate::store::{ClientRecord, GrantType};

/// The client of a request, once authenticated.
pub(crate) struct Client {
    /// Its id: the request's `client_id`, or `auth_default_client_id`.
    pub(crate) id: String,
    /// Its registration; `None` for a client the registry does not know
    /// (a public client by name only).
    pub(crate) record: Option<ClientRecord>,
}

impl Client {
    /// Whether the client may use the refresh grant: an unregistered
    /// client may.
    pub(crate) fn may_refresh(&self) -> bool {
        self.record
            .as_ref()
            .is_none_or(|r| r.allows(GrantType::RefreshToken))
    }

    /// The scopes the client lets a token carry out of `held`: all of them
    /// for an unregistered client, else those the client may have too.
    pub(crate) fn narrow(&self, held: &Scopes) -> Scopes {
        match &self.record {
            Some(record) => held.intersection(&record.scopes),
            None => held.clone(),
        }
    }
}

impl Auth {
    /// Authenticates the client of a token or revocation request (see the
    /// table in this module) and checks that it may use `grant`.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidClient`], [`AuthError::UnauthorizedClient`],
    /// `invalid_request` for an over-long `client_id`, `server_error` when
    /// the registry fails.
    pub(crate) async fn authenticate_client(
        &self,
        client_id: Option<&str>,
        secret: Option<&Password>,
        grant: Option<GrantType>,
        address: Option<std::net::IpAddr>,
    ) -> Result<Client, AuthError> {
        let issuer = self.issuing()?;
        check_len("client_id", client_id, MAX_CLIENT_ID_LEN)?;
        let id = client_id.unwrap_or(&issuer.default_client_id).to_owned();
        let secret = secret.map(Password::expose);
        let record = match &issuer.clients {
            Some(clients) => clients.find_client(&id).await?,
            None => None,
        };
        let Some(record) = record else {
            if grant == Some(GrantType::ClientCredentials) {
                // The same work as a wrong secret for a registered client.
                if let Some(secret) = secret {
                    std::hint::black_box(hash_client_secret(secret));
                }
                return Err(self.client_refused(&id, address));
            }
            return Ok(Client { id, record: None });
        };
        let authenticated = match secret {
            Some(secret) => record.secret_matches(secret),
            // A public client is who it says it is, except for the
            // client-credentials grant, where nothing else vouches for it.
            None => !record.is_confidential() && grant != Some(GrantType::ClientCredentials),
        };
        if !authenticated || !record.enabled {
            return Err(self.client_refused(&id, address));
        }
        if let Some(grant) = grant
            && !record.allows(grant)
        {
            return Err(AuthError::UnauthorizedClient(grant.as_str()));
        }
        Ok(Client {
            id,
            record: Some(record),
        })
    }

    fn client_refused(&self, id: &str, address: Option<std::net::IpAddr>) -> AuthError {
        self.emit(
            &AuthEvent::new(AuthEventKind::LoginFailed)
                .client_id(id)
                .address(address)
                .reason("invalid_client"),
        );
        AuthError::InvalidClient
    }

    /// The client-credentials grant (RFC 6749 §4.4): a registered,
    /// enabled, confidential client allowed `client_credentials`
    /// authenticates with its secret (HTTP Basic or the body) and gets an
    /// RFC 9068 access token whose `sub` and `client_id` are the client,
    /// with no refresh token and no session.
    ///
    /// * No `scope` requested: every scope the client may have that the app
    ///   declared; a scope beyond them is `invalid_scope`.
    /// * The secret is checked with one SHA-256, in constant time: no
    ///   password hash per request.
    /// * The token is checked against the registry on use (the client must
    ///   still exist, be enabled and hold its scopes), within the subject
    ///   cache's lifetime.
    ///
    /// # Errors
    ///
    /// `invalid_client` (401) for an unknown or disabled client, a public
    /// client, a wrong or missing secret; `unauthorized_client` for a
    /// client not allowed this grant; `invalid_scope`; `server_error` when
    /// the registry or the signer fails.
    pub async fn client_credentials_grant(
        &self,
        form: ClientCredentialsRequest,
    ) -> Result<TokenResponse, AuthError> {
        check_scope_len(Some(&form.scopes))?;
        let client = self
            .authenticate_client(
                form.client_id.as_deref(),
                form.client_secret.as_ref(),
                Some(GrantType::ClientCredentials),
                form.client_address,
            )
            .await?;
        let Some(record) = client.record.as_ref().filter(|r| r.is_confidential()) else {
            return Err(self.client_refused(&client.id, form.client_address));
        };
        let scopes = self.negotiate(&record.scopes, &form.scopes)?;
        let access = self.verifier.tokens.issue_for_client(&client.id, &scopes)?;
        self.verifier.forget_client(&client.id);
        self.emit(
            &AuthEvent::new(AuthEventKind::LoginSucceeded)
                .subject(&client.id)
                .client_id(&client.id)
                .address(form.client_address)
                .reason("client_credentials"),
        );
        Ok(self.token_response(access, String::new(), scopes))
    }

    /// Revocation (RFC 7009 §2.1) with client authentication: a client
    /// that has a secret must send it (else 401 `invalid_client`), and a
    /// token is revoked only for the client it was issued to. A token
    /// issued to another registered client, or unknown, is left alone, and
    /// the answer is 200 all the same (RFC 7009 §2.2). Tokens of
    /// unregistered (public) clients are revoked for whoever presents them,
    /// as [`Auth::revoke_from`] does.
    ///
    /// # Errors
    ///
    /// `invalid_client`, `invalid_request`, `server_error` when a store
    /// fails.
    pub async fn revoke_request(&self, request: RevocationRequest) -> Result<(), AuthError> {
        let issuer = self.issuing()?;
        let client = self
            .authenticate_client(
                request.client_id.as_deref(),
                request.client_secret.as_ref(),
                None,
                request.client_address,
            )
            .await?;
        let hash = hash_refresh_token(request.token.expose());
        let Some(record) = issuer.refresh_tokens.find(&hash).await? else {
            return Ok(());
        };
        let own = record.client_id == client.id;
        let owner_registered = match (&issuer.clients, own) {
            (_, true) | (None, _) => false,
            (Some(clients), false) => clients.find_client(&record.client_id).await?.is_some(),
        };
        if own || (client.record.is_none() && !owner_registered) {
            self.revoke_from(request.token.expose(), request.client_address)
                .await?;
        }
        Ok(())
    }
}
