//! Rules for new passwords, after NIST SP 800-63B §3.1.1.2: long enough,
//! not too long to hash, not the username, not a known-weak password. Free
//! of Rocket types; apply it wherever a password is set (user creation, a
//! password change), never at login.
//!
//! ```
//! use auth_core::{PasswordPolicy, PolicyViolation};
//!
//! let policy = PasswordPolicy::default();
//! assert_eq!(policy.check("alice", "Glacier-Tuba-Orchard-58"), Ok(()));
//! assert_eq!(
//!     policy.check("alice", "short"),
//!     Err(PolicyViolation::TooShort { min: 8 })
//! );
//! assert_eq!(
//!     policy.check("alice", "ALICE-alice"),
//!     Err(PolicyViolation::ContainsUsername)
//! );
//! assert!(matches!(
//!     policy.check("alice", "password123"),
//!     Err(PolicyViolation::TooWeak { .. })
//! ));
//! ```

use super::MAX_PASSWORD_LEN;

/// Why a new password was refused. `Display` names the rule and never the
/// password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyViolation {
    /// Fewer characters than the policy's minimum.
    #[error("the password must have at least {min} characters")]
    TooShort {
        /// The minimum, in characters (Unicode scalar values).
        min: usize,
    },
    /// More bytes than can be hashed ([`MAX_PASSWORD_LEN`]).
    #[error("the password must not be longer than {max} bytes")]
    TooLong {
        /// The limit, in bytes of UTF-8.
        max: usize,
    },
    /// The password is the username, or contains it (any case).
    #[error("the password must not contain the username")]
    ContainsUsername,
    /// A common password, a dictionary word, a keyboard pattern, a date or
    /// a repetition: guessed too fast.
    #[error(
        "the password is too easy to guess (strength {score} of 4, at least {min} needed); \
         use a longer passphrase of unrelated words"
    )]
    TooWeak {
        /// The strength the estimator gave, 0 to 4.
        score: u8,
        /// The policy's minimum strength.
        min: u8,
    },
}

/// The rules a new password must follow.
///
/// * At least [`min_chars`](Self::with_min_chars) characters (8 by
///   default, NIST's minimum), counted as Unicode scalar values, so
///   `"pässwörd"` is 8 characters. Every character is allowed, spaces
///   included; nothing is trimmed.
/// * At most [`MAX_PASSWORD_LEN`] (1024) bytes of UTF-8: the most the
///   hasher accepts, at least 256 characters of any script (NIST asks for
///   64 or more).
/// * Neither equal to nor containing the username, compared
///   case-insensitively.
/// * A strength estimate of at least [`min_score`](Self::with_min_score)
///   (3 of 4 by default) from `zxcvbn`, which knows the common passwords,
///   names and words, keyboard patterns, dates and repetitions, and
///   counts the username as a known word. Only the first 100 characters
///   are estimated; longer passwords pass this rule when their start does.
///
/// No composition rules (a digit, a symbol, ...) and no expiry, as NIST
/// advises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PasswordPolicy {
    /// The shortest password accepted, in characters.
    pub min_chars: usize,
    /// The lowest `zxcvbn` score accepted, 0 (none) to 4.
    pub min_score: u8,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_chars: Self::DEFAULT_MIN_CHARS,
            min_score: Self::DEFAULT_MIN_SCORE,
        }
    }
}

impl PasswordPolicy {
    /// The default minimum length, in characters (NIST SP 800-63B).
    pub const DEFAULT_MIN_CHARS: usize = 8;
    /// The default minimum strength: `zxcvbn`'s 3, "safely unguessable"
    /// (about 10^8 guesses or more).
    pub const DEFAULT_MIN_SCORE: u8 = 3;

    /// The default policy.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// With another minimum length in characters (at least 1; below 8 the
    /// policy no longer follows NIST).
    #[must_use]
    pub fn with_min_chars(mut self, min_chars: usize) -> Self {
        self.min_chars = min_chars.max(1);
        self
    }

    /// With another minimum strength, 0 (no estimate) to 4 (higher values
    /// count as 4).
    #[must_use]
    pub fn with_min_score(mut self, min_score: u8) -> Self {
        self.min_score = min_score.min(4);
        self
    }

    /// Checks `password`, the new password of `username`, against every
    /// rule, cheapest first.
    ///
    /// # Errors
    ///
    /// The first [`PolicyViolation`] found.
    pub fn check(&self, username: &str, password: &str) -> Result<(), PolicyViolation> {
        if password.len() > MAX_PASSWORD_LEN {
            return Err(PolicyViolation::TooLong {
                max: MAX_PASSWORD_LEN,
            });
        }
        if password.chars().count() < self.min_chars {
            return Err(PolicyViolation::TooShort {
                min: self.min_chars,
            });
        }
        let username = username.trim();
        if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
            return Err(PolicyViolation::ContainsUsername);
        }
        if self.min_score > 0 {
            let score = u8::from(zxcvbn::zxcvbn(password, &[username]).score());
            if score < self.min_score {
                return Err(PolicyViolation::TooWeak {
                    score,
                    min: self.min_score,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_counted_in_characters_and_bounded_in_bytes() {
        let policy = PasswordPolicy::new().with_min_score(0);
        assert_eq!(
            policy.check("bob", "1234567"),
            Err(PolicyViolation::TooShort { min: 8 })
        );
        // Eight characters, sixteen bytes.
        assert_eq!(policy.check("bob", "ääääääää"), Ok(()));
        assert_eq!(
            policy.check("bob", "äääääää"),
            Err(PolicyViolation::TooShort { min: 8 })
        );
        // 64 characters and far more are accepted, up to the hasher's limit.
        assert_eq!(policy.check("bob", &"x".repeat(64)), Ok(()));
        assert_eq!(policy.check("bob", &"x".repeat(MAX_PASSWORD_LEN)), Ok(()));
        assert_eq!(
            policy.check("bob", &"x".repeat(MAX_PASSWORD_LEN + 1)),
            Err(PolicyViolation::TooLong {
                max: MAX_PASSWORD_LEN
            })
        );
        let longer = PasswordPolicy::new().with_min_chars(12).with_min_score(0);
        assert_eq!(
            longer.check("bob", "eleven-char"),
            Err(PolicyViolation::TooShort { min: 12 })
        );
    }

    #[test]
    fn the_username_is_refused_in_any_case() {
        let policy = PasswordPolicy::new();
        for password in ["johndoe1", "JohnDoe", "xx-JOHNDOE-xx", "johndoe"] {
            let expected = if password.chars().count() < 8 {
                PolicyViolation::TooShort { min: 8 }
            } else {
                PolicyViolation::ContainsUsername
            };
            assert_eq!(
                policy.check("johndoe", password),
                Err(expected),
                "{password}"
            );
        }
    }

    #[test]
    fn known_weak_passwords_are_refused_and_strong_ones_accepted() {
        let policy = PasswordPolicy::new();
        for weak in [
            "password",
            "password1",
            "qwertyuiop",
            "12345678",
            "iloveyou2",
            "adminpass",
        ] {
            assert!(
                matches!(
                    policy.check("bob", weak),
                    Err(PolicyViolation::TooWeak { .. })
                ),
                "{weak}"
            );
        }
        for strong in ["Glacier-Tuba-Orchard-58", "correct horse battery staple"] {
            assert_eq!(policy.check("bob", strong), Ok(()), "{strong}");
        }
        assert_eq!(
            PasswordPolicy::new()
                .with_min_score(0)
                .check("bob", "password"),
            Ok(())
        );
    }

    #[test]
    fn errors_never_echo_the_password() {
        let policy = PasswordPolicy::new();
        for (user, password) in [("bob", "Bob-secret-Bob"), ("eve", "sunshine1"), ("x", "s3")] {
            let err = policy.check(user, password).unwrap_err();
            assert!(!err.to_string().contains(password), "{err}");
        }
    }
}
