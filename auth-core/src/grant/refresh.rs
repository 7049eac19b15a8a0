//! The refresh grant (RFC 6749 §6) with rotation and reuse detection
//! (RFC 9700 §4.14.2), and revocation (RFC 7009).

use std::net::IpAddr;

use super::MAX_CLIENT_ID_LEN;
use super::family::{Family, named_family_id};
use super::{TokenResponse, check_len, check_scope_len, hash_refresh_token, invalid_refresh};
use crate::auth::Auth;
use crate::error::{AuthError, GrantProblem, ScopeProblem};
use crate::grant::request::RefreshRequestForm;
use crate::log::events::{AuthEvent, AuthEventKind};
use crate::store::{GrantType, RefreshState, RefreshTokenRecord, RotateOutcome};
use crate::token::unix_now;

impl Auth {
    /// The refresh grant (RFC 6749 §6) with rotation and reuse detection
    /// (RFC 9700 §4.14.2).
    ///
    /// * The refresh token is single-use: a new one is returned each time,
    ///   in the same family, with a fresh sliding lifetime
    ///   (`auth_refresh_ttl`) that never passes the family's absolute end
    ///   (`auth_refresh_max_age` after the login).
    /// * Rotation is atomic ([`RefreshTokenStore::rotate`](crate::RefreshTokenStore::rotate)):
    ///   a family revoked while a refresh is in flight keeps no live
    ///   successor, and the refresh fails.
    /// * Presenting a used token again revokes every token of its family
    ///   (one of the two parties holding it is an attacker).
    /// * `scope` may narrow the original grant, never widen it; scopes the
    ///   user has lost since are dropped.
    /// * The token is bound to its client: the request's `client_id` (or,
    ///   when it names none, `auth_default_client_id`) must be the one the
    ///   token was issued to. A token issued to `web` is refused without a
    ///   `client_id`; a token issued without one is refused with one.
    /// * An expired or revoked token, or a token of a now disabled or
    ///   deleted user, is `invalid_grant`.
    ///
    /// # Errors
    ///
    /// As above; `invalid_request` for an over-long `client_id` or `scope`;
    /// `server_error` when a store fails.
    pub async fn refresh_grant(
        &self,
        form: RefreshRequestForm,
    ) -> Result<TokenResponse, AuthError> {
        let issuer = self.issuing()?;
        check_len("client_id", form.client_id.as_deref(), MAX_CLIENT_ID_LEN)?;
        check_scope_len(form.scopes.as_ref())?;
        let client = self
            .authenticate_client(
                form.client_id.as_deref(),
                form.client_secret.as_ref(),
                Some(GrantType::RefreshToken),
                form.client_address,
            )
            .await?;
        let presented = form.refresh_token.expose();
        let hash = hash_refresh_token(presented);
        // Read first: a client error (wrong scope) must not burn the token.
        let Some(record) = issuer.refresh_tokens.find(&hash).await? else {
            return Err(self.unknown_token(presented, form.client_address).await);
        };
        match record.state {
            RefreshState::Active => {}
            RefreshState::Used => {
                return Err(self.reuse_detected(&record, form.client_address).await);
            }
            RefreshState::Revoked => return Err(invalid_refresh()),
        }
        let now = unix_now();
        if record.expires_at <= now || record.family_expires_at <= now {
            return Err(invalid_refresh());
        }
        if client.id != record.client_id {
            return Err(invalid_refresh());
        }
        let scopes = match &form.scopes {
            Some(requested) if !record.scopes.contains_all(requested) => {
                return Err(AuthError::InvalidScope(ScopeProblem::BeyondOriginalGrant));
            }
            Some(requested) => requested.clone(),
            None => record.scopes.clone(),
        };
        let user = match issuer.users.find_user(&record.username).await? {
            Some(user) if !user.disabled => user,
            _ => {
                self.forget_subject(&record.username);
                issuer
                    .refresh_tokens
                    .revoke_family(&record.family_id)
                    .await?;
                self.forget_session(&record.family_id);
                return Err(invalid_refresh());
            }
        };
        // Scopes the user lost, or the app stopped declaring, since the
        // original grant are dropped.
        let scopes = self
            .scopes
            .declared_of(&client.narrow(&scopes.intersection(&user.scopes)));
        let family = Family::of_stored(presented, &record.family_id);
        let access = self.verifier.tokens.issue_in_session(
            &user.username,
            &record.client_id,
            &scopes,
            family.id(),
        )?;
        let (refresh_token, successor) = issuer.new_refresh_token(
            &user.username,
            &record.client_id,
            &scopes,
            &family,
            access.claims.iat,
            record.family_expires_at,
        );
        // Claim the old token and store its successor in one step: of two
        // concurrent refreshes one wins, the other is a replay; a family
        // revoked meanwhile gets no successor. The access token signed above
        // is dropped unless this succeeds.
        match issuer.refresh_tokens.rotate(&hash, successor).await? {
            RotateOutcome::Rotated => {
                self.emit(
                    &AuthEvent::new(AuthEventKind::Refreshed)
                        .subject(&user.username)
                        .client_id(&record.client_id)
                        .address(form.client_address),
                );
                Ok(self.token_response(access, refresh_token, scopes))
            }
            RotateOutcome::Reused(claimed) => {
                Err(self.reuse_detected(&claimed, form.client_address).await)
            }
            _ => Err(invalid_refresh()),
        }
    }

    /// Ends every session of `username`: revokes all their refresh-token
    /// families and forgets the cached subject. Returns how many families
    /// were live. Call it when a user is disabled, deleted or changes
    /// password, if the store does not already do so (the `SQLite` store's
    /// `set_disabled`, `set_password` and `delete_user` do).
    ///
    /// # Errors
    ///
    /// `server_error` when the store fails.
    pub async fn revoke_user(&self, username: &str) -> Result<u64, AuthError> {
        let issuer = self.issuing()?;
        self.forget_subject(username);
        Ok(issuer.refresh_tokens.revoke_user(username).await?)
    }

    /// Revokes a refresh token and its whole family (RFC 7009). Unknown
    /// tokens are not an error: RFC 7009 §2.2 answers 200 either way.
    ///
    /// Access tokens are self-contained JWTs and cannot be revoked; keep
    /// their lifetime short.
    ///
    /// # Errors
    ///
    /// `server_error` when the store fails.
    pub async fn revoke(&self, refresh_token: &str) -> Result<(), AuthError> {
        self.revoke_from(refresh_token, None).await
    }

    /// Ends the session `sid` (a refresh-token family) of `username`, as a
    /// logout does when only the access token names it.
    pub(crate) async fn end_session(
        &self,
        username: &str,
        sid: &str,
        address: Option<IpAddr>,
    ) -> Result<(), AuthError> {
        let issuer = self.issuing()?;
        let family = issuer.refresh_tokens.family(sid).await?;
        if family.is_some_and(|f| f.username == username) {
            issuer.refresh_tokens.revoke_family(sid).await?;
            self.forget_session(sid);
            self.emit(
                &AuthEvent::new(AuthEventKind::Revoked)
                    .subject(username)
                    .address(address),
            );
        }
        Ok(())
    }

    /// [`Auth::revoke`], with the client's address for the `revoked` auth
    /// event (take an `Option<IpAddr>` guard in the route to get it).
    ///
    /// # Errors
    ///
    /// `server_error` when the store fails.
    pub async fn revoke_from(
        &self,
        refresh_token: &str,
        address: Option<IpAddr>,
    ) -> Result<(), AuthError> {
        let issuer = self.issuing()?;
        let hash = hash_refresh_token(refresh_token);
        if let Some(record) = issuer.refresh_tokens.find(&hash).await? {
            issuer
                .refresh_tokens
                .revoke_family(&record.family_id)
                .await?;
            self.forget_session(&record.family_id);
            self.emit(
                &AuthEvent::new(AuthEventKind::Revoked)
                    .subject(&record.username)
                    .client_id(&record.client_id)
                    .address(address),
            );
        }
        Ok(())
    }

    /// Ends the sessions of `username` beyond the newest
    /// `auth_max_sessions_per_user`, oldest first.
    pub(super) async fn end_sessions_beyond_cap(
        &self,
        username: &str,
        now: u64,
    ) -> Result<(), AuthError> {
        let issuer = self.issuing()?;
        let ended = issuer
            .refresh_tokens
            .revoke_oldest_families(username, issuer.max_sessions_per_user, now)
            .await?;
        for family_id in &ended {
            self.forget_session(family_id);
        }
        if !ended.is_empty() {
            self.emit(
                &AuthEvent::new(AuthEventKind::Revoked)
                    .subject(username)
                    .reason("session_limit"),
            );
        }
        Ok(())
    }

    /// A refresh token the store does not hold: a replay when it names a
    /// family that is still live (a token of it rotated past, its row since
    /// pruned), which then ends; `invalid_grant` either way.
    async fn unknown_token(&self, presented: &str, address: Option<IpAddr>) -> AuthError {
        let Some(family_id) = named_family_id(presented) else {
            return invalid_refresh();
        };
        let issuer = match self.issuing() {
            Ok(issuer) => issuer,
            Err(e) => return e,
        };
        match issuer.refresh_tokens.family(&family_id).await {
            Ok(Some(family)) if family.is_live(unix_now()) => {
                self.family_reused(&family_id, &family.username, None, address)
                    .await
            }
            Ok(_) => invalid_refresh(),
            Err(e) => e.into(),
        }
    }

    async fn reuse_detected(
        &self,
        record: &RefreshTokenRecord,
        address: Option<IpAddr>,
    ) -> AuthError {
        self.family_reused(
            &record.family_id,
            &record.username,
            Some(&record.client_id),
            address,
        )
        .await
    }

    /// A spent token of the family was presented: one of the two parties
    /// holding it is an attacker, so the family ends, with its access tokens.
    async fn family_reused(
        &self,
        family_id: &str,
        username: &str,
        client_id: Option<&str>,
        address: Option<IpAddr>,
    ) -> AuthError {
        let mut event = AuthEvent::new(AuthEventKind::RefreshReused)
            .subject(username)
            .address(address)
            .reason("family_revoked");
        if let Some(client_id) = client_id {
            event = event.client_id(client_id);
        }
        self.emit(&event);
        let revoked = match self.issuing() {
            Ok(issuer) => issuer.refresh_tokens.revoke_family(family_id).await,
            Err(e) => return e,
        };
        self.forget_session(family_id);
        match revoked {
            Ok(()) => AuthError::InvalidGrant(GrantProblem::RefreshTokenReused),
            Err(e) => e.into(),
        }
    }
}
