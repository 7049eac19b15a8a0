//! Launch-time checks of the types in handler signatures (Rocket
//! sentinels): mistakes that would otherwise become a 500 or a 403 on every
//! request stop the launch instead, with a message that says what to do.
//!
//! * [`AuthUser`], [`MaybeUser`], `&Auth` and the guard `#[protected]`
//!   inserts need the [`Auth`] fairing attached.
//! * Every scope a `#[protected(scopes = "...")]` handler requires, in
//!   every alternative of `any(...)`, must be declared (in code with [`crate::AuthFairing::scope`] or in
//!   `auth_scopes`): an undeclared scope is never granted, so the route
//!   could only ever answer 403. The message names the handler, the scope
//!   and the closest declared scope.

use std::any::type_name;

use rocket::{Ignite, Rocket, Sentinel};

use crate::auth::Auth;
use crate::http::guard::{AuthUser, MaybeUser, Protected, RequiredScopes};
use crate::scopes::ScopeRegistry;

/// Logs why the launch stops when the fairing is missing.
fn fairing_missing(rocket: &Rocket<Ignite>, user: &str) -> bool {
    if rocket.state::<Auth>().is_some() {
        return false;
    }
    log::error!(
        "auth: a route takes {user}, but the Auth fairing is not attached: \
         add .attach(Auth::fairing()) (or .attach(Auth::resource_server()) in a service \
         that only verifies tokens) to the Rocket builder"
    );
    true
}

impl Sentinel for AuthUser {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        fairing_missing(rocket, "`AuthUser`")
    }
}

impl Sentinel for MaybeUser {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        fairing_missing(rocket, "`MaybeUser`")
    }
}

impl Sentinel for &Auth {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        fairing_missing(rocket, "`&Auth`")
    }
}

impl<S: RequiredScopes> Sentinel for Protected<S> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        let handler = handler_name::<S>();
        let Some(auth) = rocket.state::<Auth>() else {
            return fairing_missing(rocket, "#[protected]");
        };
        let mut abort = false;
        let every = S::SCOPES
            .iter()
            .chain(S::ANY_OF.iter().flat_map(|a| a.iter()));
        let mut seen: Vec<&str> = Vec::new();
        for &scope in every {
            if auth.scopes().is_declared(scope) || seen.contains(&scope) {
                continue;
            }
            seen.push(scope);
            abort = true;
            match closest(auth.scopes(), scope) {
                Some(near) => log::error!(
                    "auth: `{handler}` requires the scope {scope:?}, which is not declared; \
                     did you mean {near:?}? Declare it with .scope({scope:?}, \"...\") on \
                     Auth::fairing() or in auth_scopes"
                ),
                None => log::error!(
                    "auth: `{handler}` requires the scope {scope:?}, which is not declared; \
                     declare it with .scope({scope:?}, \"...\") on Auth::fairing() or in \
                     auth_scopes"
                ),
            }
        }
        abort
    }
}

/// The handler a scope marker belongs to: `#[protected]` names the marker of
/// `items` in `app::routes` `app::routes::__auth_scopes_items`.
fn handler_name<S>() -> String {
    let marker = type_name::<S>();
    let (module, name) = marker.rsplit_once("::").unwrap_or(("", marker));
    let name = name.strip_prefix("__auth_scopes_").unwrap_or(name);
    if module.is_empty() {
        name.to_owned()
    } else {
        format!("{module}::{name}")
    }
}

/// The declared scope nearest to `scope`, if one is near enough to be a
/// likely typo (at most a third of its characters differ).
fn closest<'a>(registry: &'a ScopeRegistry, scope: &str) -> Option<&'a str> {
    registry
        .iter()
        .map(|(declared, _)| {
            let declared = declared.as_str();
            (strsim::levenshtein(declared, scope), declared)
        })
        .filter(|&(distance, _)| distance * 3 <= scope.len().max(3))
        .min()
        .map(|(_, declared)| declared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(non_camel_case_types, reason = "named as #[protected] names markers")]
    struct __auth_scopes_items;

    #[test]
    fn handler_names_come_from_the_marker_type() {
        assert_eq!(
            handler_name::<__auth_scopes_items>(),
            "auth_core::http::sentinel::tests::items"
        );
    }

    #[test]
    fn closest_finds_typos_and_not_strangers() {
        let registry = ScopeRegistry::new()
            .with("read:items", "Read")
            .with("write:items", "Write");
        assert_eq!(closest(&registry, "write:itmes"), Some("write:items"));
        assert_eq!(closest(&registry, "read:items,"), Some("read:items"));
        assert_eq!(closest(&registry, "admin"), None);
        assert_eq!(closest(&ScopeRegistry::new(), "admin"), None);
    }
}
