//! [`Answers`]: the bodies and challenges of the refusals guards give most,
//! written once per realm when [`crate::Auth`] is built, so that refusing a
//! request allocates nothing.

use crate::error::{AuthError, RequestProblem, challenge_prefix_with};
use crate::token::TokenProblem;

/// The prebuilt answer to one error.
#[derive(Debug)]
pub(crate) struct Answer {
    /// The JSON body ([`AuthError::body_text`]).
    pub(crate) body: Box<str>,
    /// The `WWW-Authenticate` value, if the error has one.
    pub(crate) challenge: Option<Box<str>>,
}

/// Every answer a request guard gives without details of its own: no
/// credentials, an unusable `Authorization` header, and each
/// [`TokenProblem`]. Errors that carry details (the scopes of an
/// `insufficient_scope`, a `Retry-After`) are written when they happen.
#[derive(Debug)]
pub(crate) struct Answers {
    /// `Bearer realm=".."`, for the challenges written when they happen.
    challenge_prefix: String,
    /// Indexed by [`slot`].
    prebuilt: Vec<Answer>,
}

/// The errors [`Answers`] holds, in [`slot`] order.
fn prebuilt_errors() -> impl Iterator<Item = AuthError> {
    [
        AuthError::MissingCredentials,
        AuthError::InvalidRequest(RequestProblem::EmptyBearerToken),
        AuthError::InvalidRequest(RequestProblem::SeveralAuthorizationHeaders),
    ]
    .into_iter()
    .chain(TokenProblem::ALL.into_iter().map(AuthError::InvalidToken))
}

/// Where `error`'s answer is kept, if it is prebuilt.
fn slot(error: &AuthError) -> Option<usize> {
    match error {
        AuthError::MissingCredentials => Some(0),
        AuthError::InvalidRequest(RequestProblem::EmptyBearerToken) => Some(1),
        AuthError::InvalidRequest(RequestProblem::SeveralAuthorizationHeaders) => Some(2),
        AuthError::InvalidToken(problem) => Some(3 + *problem as usize),
        _ => None,
    }
}

impl Answers {
    /// The answers for `realm`.
    #[cfg(test)]
    pub(crate) fn new(realm: &str) -> Self {
        Self::with_resource_metadata(realm, None)
    }

    /// The answers for `realm`, their challenges naming the protected
    /// resource's metadata (RFC 9728 §5.1) when `resource_metadata` is
    /// given.
    pub(crate) fn with_resource_metadata(realm: &str, resource_metadata: Option<&str>) -> Self {
        let challenge_prefix = challenge_prefix_with(realm, resource_metadata);
        let prebuilt = prebuilt_errors()
            .map(|error| Answer {
                body: error.body_text().into(),
                challenge: error.challenge_from(&challenge_prefix).map(Into::into),
            })
            .collect();
        Self {
            challenge_prefix,
            prebuilt,
        }
    }

    /// The prebuilt answer to `error`, if it has one.
    pub(crate) fn prebuilt(&self, error: &AuthError) -> Option<&Answer> {
        self.prebuilt.get(slot(error)?)
    }

    /// `Bearer realm=".."` for this realm (with its `resource_metadata`).
    pub(crate) fn challenge_prefix(&self) -> &str {
        &self.challenge_prefix
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::GrantProblem;

    #[test]
    fn every_prebuilt_answer_is_the_one_written_on_demand() {
        let answers = Answers::new("my \"api\"");
        let mut count = 0;
        for (index, error) in prebuilt_errors().enumerate() {
            assert_eq!(slot(&error), Some(index), "{error:?}");
            let answer = answers.prebuilt(&error).expect("prebuilt");
            assert_eq!(*answer.body, error.body_text(), "{error:?}");
            assert_eq!(
                answer.challenge.as_deref(),
                error.challenge("my \"api\"").as_deref(),
                "{error:?}"
            );
            count += 1;
        }
        assert_eq!(count, 3 + TokenProblem::ALL.len());
        assert_eq!(answers.prebuilt.len(), count);
    }

    #[test]
    fn prebuilt_challenges_name_the_resource_metadata() {
        let url = "https://example.com/.well-known/oauth-protected-resource/auth";
        let answers = Answers::with_resource_metadata("api", Some(url));
        let prefix = crate::error::challenge_prefix_with("api", Some(url));
        assert_eq!(answers.challenge_prefix(), prefix);
        for error in prebuilt_errors() {
            let answer = answers.prebuilt(&error).expect("prebuilt");
            assert_eq!(
                answer.challenge.as_deref(),
                error.challenge_from(&prefix).as_deref(),
                "{error:?}"
            );
            if let Some(challenge) = &answer.challenge {
                assert!(
                    challenge.starts_with(&format!(
                        "Bearer realm=\"api\", resource_metadata=\"{url}\""
                    )),
                    "{challenge}"
                );
            }
        }
    }

    #[test]
    fn errors_with_details_are_not_prebuilt() {
        let answers = Answers::new("api");
        let detailed = [
            AuthError::InsufficientScope {
                required: crate::Scopes::parse("admin").unwrap(),
            },
            AuthError::SlowDown { retry_after: 3 },
            AuthError::InvalidGrant(GrantProblem::InvalidCredentials),
            AuthError::InvalidRequest(RequestProblem::MissingParameter("username")),
        ];
        for error in detailed {
            assert!(answers.prebuilt(&error).is_none(), "{error:?}");
        }
    }
}
