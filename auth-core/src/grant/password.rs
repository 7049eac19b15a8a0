//! The password grant (RFC 6749 §4.3) and the credential check behind it.

use super::family::Family;
use super::{MAX_CLIENT_ID_LEN, MAX_USERNAME_LEN};
use super::{TokenResponse, check_len, check_scope_len, invalid_credentials};
use crate::auth::Auth;
use crate::error::{AuthError, RequestProblem};
use crate::grant::request::PasswordRequestForm;
use crate::log::events::{AuthEvent, AuthEventKind};
use crate::password::{MAX_PASSWORD_LEN, PasswordError, Verification};
use crate::store::{GrantType, UserRecord};

/// Why a password grant was refused: bad credentials (with the reason for
/// the event log; the client sees one answer for all) or another error.
enum Refused {
    Credentials(&'static str),
    Error(AuthError),
}

impl<E: Into<AuthError>> From<E> for Refused {
    fn from(e: E) -> Self {
        Self::Error(e.into())
    }
}

impl Auth {
    /// The password grant (RFC 6749 §4.3) with scope negotiation.
    ///
    /// * Unknown user, wrong password, disabled user: `invalid_grant`, with
    ///   the same message and the same hashing work (a dummy verification
    ///   for unknown users).
    /// * No `scope` requested: every scope the user is allowed. Otherwise
    ///   each requested scope must be declared and allowed for the user,
    ///   else `invalid_scope`. Scopes are checked only after the password,
    ///   so they reveal nothing to strangers.
    /// * A hash in an old format is replaced after a successful login.
    ///
    /// # Errors
    ///
    /// As above; `invalid_request` for a password over
    /// [`MAX_PASSWORD_LEN`] bytes; `server_error` when a store fails.
    pub async fn password_grant(
        &self,
        form: impl Into<PasswordRequestForm>,
    ) -> Result<TokenResponse, AuthError> {
        let issuer = self.issuing()?;
        let form = form.into();
        let password = form.password.expose();
        if password.len() > MAX_PASSWORD_LEN {
            return Err(AuthError::InvalidRequest(RequestProblem::PasswordTooLong));
        }
        check_len("username", Some(&form.username), MAX_USERNAME_LEN)?;
        check_len("client_id", form.client_id.as_deref(), MAX_CLIENT_ID_LEN)?;
        check_scope_len(Some(&form.scopes))?;
        // The client first: a client that fails costs no password hash.
        let client = self
            .authenticate_client(
                form.client_id.as_deref(),
                form.client_secret.as_ref(),
                Some(GrantType::Password),
                form.client_address,
            )
            .await?;
        let client_id = client.id.as_str();
        let event = |kind| {
            AuthEvent::new(kind)
                .subject(&form.username)
                .client_id(client_id)
                .address(form.client_address)
        };
        // The attempt is reserved (counted as a failure) before any hashing,
        // so concurrent guesses get no more hashes than a sequence would.
        let attempt = match issuer
            .throttle
            .reserve(&form.username, form.client_address)
            .await
        {
            Ok(attempt) => attempt,
            Err(retry_after) => {
                self.emit(&event(AuthEventKind::Throttled).reason("slow_down"));
                return Err(AuthError::SlowDown { retry_after });
            }
        };
        let user = match self.check_credentials(&form.username, password).await {
            Ok(user) => user,
            Err(Refused::Credentials(reason)) => {
                // The reservation stays: that was the failure.
                drop(attempt);
                self.emit(&event(AuthEventKind::LoginFailed).reason(reason));
                return Err(invalid_credentials());
            }
            Err(Refused::Error(e)) => {
                issuer.throttle.release(attempt).await;
                return Err(e);
            }
        };
        issuer.throttle.succeeded(attempt).await;
        let scopes = self.negotiate(&client.narrow(&user.scopes), &form.scopes)?;
        let family = Family::generate();
        let access = self.verifier.tokens.issue_in_session(
            &user.username,
            client_id,
            &scopes,
            family.id(),
        )?;
        let now = access.claims.iat;
        let family_expires_at = now.saturating_add(issuer.refresh_max_age);
        let (refresh_token, record) = issuer.new_refresh_token(
            &user.username,
            client_id,
            &scopes,
            &family,
            now,
            family_expires_at,
        );
        issuer.refresh_tokens.insert(record).await?;
        self.end_sessions_beyond_cap(&user.username, now).await?;
        self.emit(&event(AuthEventKind::LoginSucceeded));
        // A registered client not allowed the refresh grant gets none
        // (the session is stored all the same: its access tokens name it).
        let refresh_token = if client.may_refresh() {
            refresh_token
        } else {
            String::new()
        };
        Ok(self.token_response(access, refresh_token, scopes))
    }

    /// The user if `password` is theirs and they are enabled. Unknown users
    /// cost a dummy verification; a hash in an old format is replaced.
    async fn check_credentials(
        &self,
        username: &str,
        password: &str,
    ) -> Result<UserRecord, Refused> {
        let issuer = self.issuing()?;
        let Some(user) = issuer.users.find_user(username).await? else {
            issuer.hasher.verify_dummy(password).await?;
            return Err(Refused::Credentials("unknown_user"));
        };
        let needs_rehash = match issuer.hasher.verify(password, &user.password_hash).await {
            Ok(Verification::Match { needs_rehash }) => needs_rehash,
            Ok(Verification::Mismatch) => return Err(Refused::Credentials("wrong_password")),
            Err(PasswordError::UnrecognizedHash) => {
                log::warn!(
                    "auth: user {:?} has a password hash of unknown format",
                    user.username
                );
                return Err(Refused::Credentials("unrecognized_hash"));
            }
            Err(e) => return Err(e.into()),
        };
        if user.disabled {
            self.forget_subject(&user.username);
            return Err(Refused::Credentials("disabled"));
        }
        if needs_rehash {
            self.upgrade_hash(&user.username, password).await;
        }
        Ok(user)
    }
    async fn upgrade_hash(&self, username: &str, password: &str) {
        let Some(issuer) = self.issuer() else {
            return;
        };
        match issuer.hasher.hash(password).await {
            Ok(hash) => {
                if let Err(e) = issuer.users.set_password_hash(username, &hash).await {
                    log::warn!("auth: could not upgrade the password hash of {username:?}: {e}");
                }
            }
            Err(e) => log::warn!("auth: could not rehash the password of {username:?}: {e}"),
        }
    }
}
