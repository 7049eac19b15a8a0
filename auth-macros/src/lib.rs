//! The `#[protected]` attribute of `auth-core`.
//!
//! Depend on `auth-core` and write `auth_core::protected`; the code this
//! macro generates refers to `::auth_core`, so this crate is not meant to be
//! used on its own.
#![deny(missing_docs)]
#![warn(clippy::pedantic)]

use proc_macro::TokenStream;

mod expand;
mod parse;
mod validate;

/// Requires a valid bearer access token, and optionally scopes, before a
/// Rocket route handler runs.
///
/// Put it **above** the route attribute:
///
/// ```ignore
/// use auth_core::{protected, AuthUser};
/// use rocket::get;
///
/// #[protected]                                    // any valid access token
/// #[get("/users/me")]
/// fn me(user: AuthUser) -> String {
///     user.subject().to_owned()
/// }
///
/// #[protected(scopes = "read:items write:items")] // must hold both scopes
/// #[get("/items")]
/// async fn items() -> &'static str {
///     "[]"
/// }
/// ```
///
/// The handler may take the caller as `user: AuthUser` or take no caller at
/// all. It may be sync or async, take other request guards and a data guard,
/// and return any responder. A request without a valid token, or without
/// every listed scope, is answered with 401, 400 or 403 (RFC 6750) and never
/// reaches the body of the handler; its request body is not read.
///
/// # Arguments
///
/// * `scopes = "..."`: space-separated scopes the token must all hold. Each
///   is an RFC 6749 §3.3 scope-token: printable ASCII without spaces, `"` or
///   `\`. Without `scopes`, any valid access token is accepted.
/// * `any(scopes = "...", scopes = "...", ..)`: two or more alternatives,
///   each written like `scopes`; the token must hold every scope of one of
///   them. A refused token gets 403 with `scope="<first alternative>"`.
///   Not combined with `scopes` in one attribute (write the shared scopes
///   into each alternative).
///
/// ```ignore
/// #[protected(any(scopes = "write:items", scopes = "admin"))]
/// #[delete("/items/<id>")]
/// fn delete_item(id: u64) { .. }
/// ```
///
/// # On a module
///
/// On an inline module, the attribute applies to every route function in
/// it (nested inline modules included), combined (AND) with the route's own
/// `#[protected(..)]`, which can add scopes or alternatives but never drop
/// the module's. Other functions, catchers and items are left as written.
///
/// ```ignore
/// #[protected(scopes = "admin")]
/// mod admin {
///     #[get("/admin/users")]
///     pub fn users() { .. }                     // admin
///
///     #[protected(scopes = "write:users")]
///     #[delete("/admin/users/<name>")]
///     pub fn remove(name: &str) { .. }          // admin AND write:users
/// }
/// ```
///
/// Each route expands as below, with the combined requirement; its marker
/// gets `const ANY_OF: &'static [&'static [&'static str]]` beside `SCOPES`
/// when there are alternatives.
///
/// # What it expands to
///
/// This section is the one description of the rewrite; other docs link
/// here.
///
/// The macro adds one request guard as the **first** parameter, so Rocket
/// checks it before every other guard and before the data guard. The rest
/// of the handler is left as written.
///
/// Input:
///
/// ```ignore
/// #[protected(scopes = "read:items write:items")]
/// #[get("/items")]
/// pub async fn items(user: AuthUser) -> Json<Vec<Item>> { .. }
/// ```
///
/// Output (every item has the handler's visibility):
///
/// ```ignore
/// #[doc(hidden)]
/// #[derive(Clone, Copy, Debug)]
/// pub struct __auth_scopes_items;
///
/// impl ::auth_core::__private::RequiredScopes for __auth_scopes_items {
///     const SCOPES: &'static [&'static str] = &["read:items", "write:items"];
/// }
///
/// #[doc(hidden)]
/// pub type __auth_guard_items = ::auth_core::__private::Protected<__auth_scopes_items>;
///
/// #[get("/items")]
/// pub async fn items(
///     __auth_guard: __auth_guard_items,
///     user: AuthUser,
/// ) -> Json<Vec<Item>> { .. }
/// ```
///
/// Without `scopes` no struct is generated and the guard is
/// `Protected<NoScopes>`. `__private::Protected` is the public
/// `auth_core::Protected`. The guard type is an alias so that Rocket's log
/// names it in one word: "Request guard `__auth_guard_items` failed". The
/// parameter name `__auth_guard` is reserved: the handler body cannot see
/// it, and a parameter of your own with that name is an error. If your crate renames the
/// dependency (`oauth = { package = "auth-core", .. }`), the paths start
/// with `::oauth` instead.
///
/// # Calling a protected handler directly
///
/// In a unit test, pass `Protected::for_tests()` as the first argument:
/// `items(Protected::for_tests(), user)`. See `auth_core::Protected`
/// for why this cannot bypass authentication over HTTP.
///
/// # Errors
///
/// Misuse is a compile error that points at the offending token:
///
/// * an unknown argument (`scope = ".."` suggests `scopes`) or a repeated one;
/// * a `scopes` value that is not a string literal, is empty, repeats a scope
///   or contains a character RFC 6749 §3.3 does not allow;
/// * the attribute on something that is not a function;
/// * a `scopes` value written as a list (`["a", "b"]`) or with commas
///   (`"a, b"`): the message shows the space-separated string to write;
/// * the attribute below the route attribute, or on a function without one
///   (Rocket has already consumed the route attribute when `#[protected]`
///   comes second, so both read the same), or on a `#[catch]` function;
/// * a parameter named `__auth_guard`;
/// * a crate that does not depend on `auth-core`;
/// * a parameter of type `Option<AuthUser>` or `MaybeUser`: a protected
///   handler never runs for an anonymous caller, so take `AuthUser`;
/// * `any(..)` that is empty, has one alternative, repeats an alternative or
///   has one that another makes redundant (a superset of another), is
///   nested, or stands beside `scopes`;
/// * `#[openapi]` (`rocket_okapi`) above `#[protected]`, which would document
///   the route without its scopes: put it between `#[protected]` and the
///   route attribute;
/// * in a protected module: a route taking optional auth, `#[protected]` on
///   a function without a route attribute or below one, a route attribute
///   inside `#[cfg_attr(..)]`, a macro call, a module in another file.
///
/// On error the handler is emitted unchanged next to the errors, so
/// `routes![..]` still finds it and one mistake gives one error.
#[proc_macro_attribute]
pub fn protected(args: TokenStream, item: TokenStream) -> TokenStream {
    let original = proc_macro2::TokenStream::from(item.clone());
    let item = syn::parse::<syn::Item>(item);
    if let Ok(syn::Item::Mod(module)) = item {
        return match validate::module(syn::parse(args), module.clone(), validate::core_crate()) {
            Ok(module) => expand::module(module).into(),
            Err(err) => {
                // Without its `#[protected]` attributes inside, so that each
                // mistake is reported once.
                let module = validate::without_protected(module);
                let mut out = err.to_compile_error();
                out.extend(quote::quote!(#module));
                out.into()
            }
        };
    }
    let checked = validate::handler(syn::parse(args), item, validate::core_crate());
    match checked {
        Ok(handler) => {
            let check = (!handler.openapi_below && validate::uses_rocket_okapi())
                .then(|| expand::openapi_order_check(&handler.krate, &handler.func));
            let mut out = expand::handler(handler);
            out.extend(check);
            out.into()
        }
        Err(err) => {
            let mut out = err.to_compile_error();
            out.extend(original);
            out.into()
        }
    }
}
