//! Scopes: RFC 6749 §3.3 `scope-token` syntax, sets of scopes and the
//! registry of scopes an application declares.

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

/// Why a scope string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeError {
    /// An empty scope-token (RFC 6749 §3.3 requires at least one character).
    #[error("empty scope")]
    Empty,
    /// A character outside `%x21 / %x23-5B / %x5D-7E` (no space, `"` or `\`).
    #[error("invalid character in scope at byte {position}")]
    InvalidChar {
        /// Byte offset of the offending character within the scope-token.
        position: usize,
    },
}

/// Returns whether `byte` may appear in an RFC 6749 §3.3 `scope-token`.
#[must_use]
pub const fn is_scope_char(byte: u8) -> bool {
    matches!(byte, 0x21 | 0x23..=0x5B | 0x5D..=0x7E)
}

/// One validated scope-token, such as `read:items`.
///
/// # Example
///
/// ```
/// use auth_core::Scope;
///
/// let scope: Scope = "read:items".parse().unwrap();
/// assert_eq!(scope.as_str(), "read:items");
/// assert!("read items".parse::<Scope>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope(String);

impl Scope {
    /// Validates `token` against the RFC 6749 §3.3 `scope-token` grammar.
    ///
    /// # Errors
    ///
    /// [`ScopeError::Empty`] for `""`, [`ScopeError::InvalidChar`] for a
    /// space, `"`, `\`, a control or a non-ASCII character.
    pub fn new(token: impl Into<String>) -> Result<Self, ScopeError> {
        let token = token.into();
        if token.is_empty() {
            return Err(ScopeError::Empty);
        }
        if let Some(position) = token.bytes().position(|b| !is_scope_char(b)) {
            return Err(ScopeError::InvalidChar { position });
        }
        Ok(Self(token))
    }

    /// A scope `#[protected]` already checked at compile time.
    pub(crate) fn validated(token: &str) -> Self {
        debug_assert!(Self::new(token).is_ok(), "{token:?} is not a scope-token");
        Self(token.to_owned())
    }

    /// The scope as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Scope {
    type Err = ScopeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Scope {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Lets sets and maps of scopes be searched with a `&str`.
impl Borrow<str> for Scope {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// A set of scopes, written as a space-separated list (RFC 6749 §3.3).
///
/// The set is ordered, so its string form is stable: `"admin read:items"`.
///
/// # Example
///
/// ```
/// use auth_core::Scopes;
///
/// let granted: Scopes = "read:items write:items".parse().unwrap();
/// let needed: Scopes = "read:items".parse().unwrap();
/// assert!(granted.contains_all(&needed));
/// assert_eq!(granted.to_string(), "read:items write:items");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Scopes(BTreeSet<Scope>);

impl Scopes {
    /// The empty set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a space-separated list. Runs of spaces and leading or trailing
    /// spaces are tolerated; an empty string is the empty set.
    ///
    /// # Errors
    ///
    /// The first token that is not a valid `scope-token`.
    pub fn parse(list: &str) -> Result<Self, ScopeError> {
        list.split(' ')
            .filter(|token| !token.is_empty())
            .map(Scope::new)
            .collect()
    }

    /// Whether `scope` is in the set.
    #[must_use]
    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    /// Whether every scope of `other` is in this set.
    #[must_use]
    pub fn contains_all(&self, other: &Scopes) -> bool {
        other.0.is_subset(&self.0)
    }

    /// The scopes in both sets.
    #[must_use]
    pub fn intersection(&self, other: &Scopes) -> Scopes {
        Scopes(self.0.intersection(&other.0).cloned().collect())
    }

    /// Adds a scope; returns whether it was new.
    pub fn insert(&mut self, scope: Scope) -> bool {
        self.0.insert(scope)
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many scopes the set holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The scopes in order.
    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }

    /// The scopes as strings, in order.
    #[must_use]
    pub fn to_vec(&self) -> Vec<String> {
        self.0.iter().map(|s| s.0.clone()).collect()
    }
}

impl FromStr for Scopes {
    type Err = ScopeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a Scopes {
    type Item = &'a Scope;
    type IntoIter = std::collections::btree_set::Iter<'a, Scope>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl serde::Serialize for Scopes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Scopes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let list = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Scopes::parse(&list).map_err(serde::de::Error::custom)
    }
}

/// The scopes an application declares, each with a human description (what
/// an OpenAPI "Authorize" dialog shows).
///
/// A token request may only name declared scopes; anything else is
/// `invalid_scope`.
///
/// # Example
///
/// ```
/// use auth_core::ScopeRegistry;
///
/// let registry = ScopeRegistry::new()
///     .with("read:items", "Read items")
///     .with("write:items", "Create items");
/// assert_eq!(registry.description("read:items"), Some("Read items"));
/// assert!(!registry.is_declared("admin"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeRegistry(BTreeMap<Scope, String>);

impl ScopeRegistry {
    /// An empty registry.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares `scope` with `description`.
    ///
    /// # Panics
    ///
    /// If `scope` is not a valid scope-token: declarations are written by the
    /// programmer, so this is a bug to fix, not input to handle. Use
    /// [`ScopeRegistry::declare`] for scopes read at run time.
    #[must_use]
    pub fn with(mut self, scope: &str, description: &str) -> Self {
        let scope = Scope::new(scope)
            .unwrap_or_else(|e| panic!("declared scope {scope:?} is not a valid scope-token: {e}"));
        self.0.insert(scope, description.to_owned());
        self
    }

    /// Declares `scope` with `description`, validating the scope.
    ///
    /// # Errors
    ///
    /// If `scope` is not a valid scope-token.
    pub fn declare(&mut self, scope: &str, description: &str) -> Result<(), ScopeError> {
        self.0.insert(Scope::new(scope)?, description.to_owned());
        Ok(())
    }

    /// Whether `scope` was declared.
    #[must_use]
    pub fn is_declared(&self, scope: &str) -> bool {
        self.0.contains_key(scope)
    }

    /// The description of a declared scope.
    #[must_use]
    pub fn description(&self, scope: &str) -> Option<&str> {
        self.0.get(scope).map(String::as_str)
    }

    /// The declared scopes and their descriptions, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Scope, &str)> {
        self.0.iter().map(|(s, d)| (s, d.as_str()))
    }

    /// The scopes of `scopes` that are declared.
    ///
    /// # Example
    ///
    /// ```
    /// use auth_core::{ScopeRegistry, Scopes};
    ///
    /// let registry = ScopeRegistry::new().with("read:items", "Read items");
    /// let held = Scopes::parse("read:items legacy").unwrap();
    /// assert_eq!(registry.declared_of(&held).to_string(), "read:items");
    /// ```
    #[must_use]
    pub fn declared_of(&self, scopes: &Scopes) -> Scopes {
        scopes
            .iter()
            .filter(|scope| self.0.contains_key(scope.as_str()))
            .cloned()
            .collect()
    }

    /// Every declared scope, as a set.
    #[must_use]
    pub fn all(&self) -> Scopes {
        self.0.keys().cloned().collect()
    }

    /// Whether nothing was declared.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Merges the declarations of `other` into this registry; `other` wins on
    /// conflicting descriptions.
    pub fn extend(&mut self, other: ScopeRegistry) {
        self.0.extend(other.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_token_grammar_matches_rfc_6749() {
        for ok in ["read:items", "a", "!", "#[]", "~", "x/y+z=", "a\x5bb"] {
            assert!(Scope::new(ok).is_ok(), "{ok:?} should be valid");
        }
        assert_eq!(Scope::new(""), Err(ScopeError::Empty));
        assert_eq!(
            Scope::new("read items"),
            Err(ScopeError::InvalidChar { position: 4 })
        );
        for bad in ["a\"b", "a\\b", "tab\t", "caf\u{e9}", "\x7f", "\n"] {
            assert!(Scope::new(bad).is_err(), "{bad:?} should be invalid");
        }
    }

    #[test]
    fn scopes_parse_tolerates_extra_spaces_and_sorts() {
        let scopes = Scopes::parse("  write:items read:items  read:items").unwrap();
        assert_eq!(scopes.len(), 2);
        assert_eq!(scopes.to_string(), "read:items write:items");
        assert!(Scopes::parse("").unwrap().is_empty());
        assert!(Scopes::parse("ok bad\"").is_err());
    }

    #[test]
    fn subset_and_intersection() {
        let granted = Scopes::parse("a b").unwrap();
        let needed = Scopes::parse("b c").unwrap();
        assert!(!granted.contains_all(&needed));
        assert_eq!(granted.intersection(&needed).to_string(), "b");
        assert!(granted.contains_all(&Scopes::new()));
    }

    #[test]
    fn registry_lookups() {
        let mut registry = ScopeRegistry::new().with("admin", "Full access");
        assert!(registry.declare("bad scope", "x").is_err());
        registry.declare("read:items", "Read items").unwrap();
        assert_eq!(registry.all().to_string(), "admin read:items");
        assert_eq!(registry.description("admin"), Some("Full access"));
        assert_eq!(registry.description("nope"), None);
    }

    #[test]
    fn scopes_serde_roundtrip_as_string() {
        let scopes = Scopes::parse("b a").unwrap();
        let json = serde_json::to_string(&scopes).unwrap();
        assert_eq!(json, "\"a b\"");
        let back: Scopes = serde_json::from_str(&json).unwrap();
        assert_eq!(back, scopes);
        assert!(serde_json::from_str::<Scopes>("\"a\\\"b\"").is_err());
    }
}
