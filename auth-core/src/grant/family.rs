//! Refresh tokens that name their family, so reuse detection never forgets.
//!
//! A refresh token is `<family key>.<secret>`, both base64url: the key is
//! drawn once per login and kept by every token rotated from it; the secret
//! is new with each token. Stores see only the token's SHA-256 and the
//! family id, which is derived from the key by SHA-256 and is also the `sid`
//! claim of the session's access tokens.
//!
//! When a presented token is unknown to the store but its key names a
//! family that is still live, the token was issued in that family and
//! rotated past (its row pruned, however long ago): a replay, which revokes
//! the family (RFC 9700 §4.14.2). Only a holder of some token of the family
//! knows the key, and neither the store nor an access token reveals it, so
//! nobody else can revoke a family this way.
//!
//! Tokens issued before this format (a bare secret, no `.`) keep working
//! and rotate in their old format until their family ends.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

/// Length of a family key: 16 random bytes, base64url without padding.
const KEY_LEN: usize = 22;

/// The family part of a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Family {
    /// A family with a key: new tokens are `<key>.<secret>`.
    Keyed {
        /// The key, as it appears in the token.
        key: String,
        /// The id stores know the family by: derived from the key.
        id: String,
    },
    /// A family from before keys: tokens are a bare secret.
    Legacy {
        /// The stored family id.
        id: String,
    },
}

impl Family {
    /// A new family, for a login.
    pub(super) fn generate() -> Self {
        let mut bytes = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self::from_key(URL_SAFE_NO_PAD.encode(bytes))
    }

    fn from_key(key: String) -> Self {
        let id = family_id(&key);
        Self::Keyed { key, id }
    }

    /// The family a stored token of family `id` continues in: keyed when the
    /// presented token carries the key of that family.
    pub(super) fn of_stored(presented: &str, id: &str) -> Self {
        match key_of(presented) {
            Some(key) if family_id(key) == id => Self::from_key(key.to_owned()),
            _ => Self::Legacy { id: id.to_owned() },
        }
    }

    /// The id stores know the family by.
    pub(super) fn id(&self) -> &str {
        match self {
            Self::Keyed { id, .. } | Self::Legacy { id } => id,
        }
    }

    /// A new token of the family: 256 random bits, after the key if any.
    pub(super) fn new_token(&self) -> String {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let secret = URL_SAFE_NO_PAD.encode(bytes);
        match self {
            Self::Keyed { key, .. } => format!("{key}.{secret}"),
            Self::Legacy { .. } => secret,
        }
    }
}

/// The family id a presented token names, if it carries a family key.
pub(super) fn named_family_id(presented: &str) -> Option<String> {
    key_of(presented).map(family_id)
}

/// The key part of a token, if it has the keyed shape.
fn key_of(token: &str) -> Option<&str> {
    let (key, secret) = token.split_once('.')?;
    let base64url = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    (key.len() == KEY_LEN && !secret.is_empty() && base64url(key)).then_some(key)
}

/// The family id of `key`: 128 bits of its SHA-256, base64url.
fn family_id(key: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"auth-core refresh-token family\0")
        .chain_update(key.as_bytes())
        .finalize();
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_of_a_family_name_it_and_differ() {
        let family = Family::generate();
        let (a, b) = (family.new_token(), family.new_token());
        assert_ne!(a, b);
        assert_eq!(named_family_id(&a).as_deref(), Some(family.id()));
        assert_eq!(named_family_id(&b).as_deref(), Some(family.id()));
        assert_ne!(Family::generate().id(), family.id());
        // The token does not contain the id, and the id is not the key.
        let Family::Keyed { key, id } = &family else {
            panic!("a new family has a key")
        };
        assert!(!a.contains(id.as_str()));
        assert_ne!(key, id);
    }

    #[test]
    fn a_stored_family_continues_keyed_only_with_its_own_key() {
        let family = Family::generate();
        let token = family.new_token();
        assert_eq!(Family::of_stored(&token, family.id()), family);
        // Another family's key, or none, continues as a legacy family.
        let other = Family::generate().new_token();
        assert_eq!(
            Family::of_stored(&other, family.id()),
            Family::Legacy {
                id: family.id().to_owned()
            }
        );
        let legacy = Family::Legacy { id: "old".into() };
        let bare = legacy.new_token();
        assert!(!bare.contains('.'));
        assert_eq!(Family::of_stored(&bare, "old"), legacy);
    }

    #[test]
    fn only_the_keyed_shape_names_a_family() {
        for token in [
            "",
            ".",
            "abc",
            "abc.def",
            "aaaaaaaaaaaaaaaaaaaaaa.",
            "aaaaaaaaaaaaaaaaaaaaa.x",
            "aaaaaaaaaaaaaaaaaaaaaaa.x",
            "aaaaaaaaaaaaaaaaaaaa+/.x",
            "ééééééééééé.x",
        ] {
            assert_eq!(named_family_id(token), None, "{token:?}");
        }
        assert!(named_family_id("aaaaaaaaaaaaaaaaaaaa-_.x").is_some());
    }
}
