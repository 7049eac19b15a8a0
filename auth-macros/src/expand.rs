//! Code generation for a handler that passed validation.
//!
//! This stage adds no errors of its own and does not re-quote the handler:
//! it edits the parsed `ItemFn` in place, so attributes, visibility,
//! generics, `where` clauses, `async` and the return type stay as written.

use std::sync::atomic::{AtomicUsize, Ordering};

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::FnArg;
use syn::ext::IdentExt;

use crate::validate::{Handler, Member, Module};

// The canonical description of the rewrite, with an example, is the
// "What it expands to" section of the `protected` docs in `lib.rs`; the
// tests at the bottom of this file pin it. In short, for a handler `items`:
//
// * with scopes, a marker struct `__auth_scopes_items` implementing
//   `RequiredScopes` (spanned at the scopes literal, so a broken path lands
//   there);
// * a type alias `__auth_guard_items` for `Protected<marker>`, so the guard
//   type is one identifier: Rocket logs guard failures with
//   `stringify!(type)`, which spaces out every `::` and `<` of a path;
// * the guard as the first parameter (after a receiver), named
//   `__auth_guard` with mixed-site hygiene, so the handler body cannot
//   reach it (`validate` rejects a user parameter of that name, since
//   Rocket matches parameters by name).
//
// Paths go through `::<auth-core as the user named it>::__private`.

/// Adds the guard parameter, its type alias and, when scopes are given,
/// their marker type.
pub(crate) fn handler(handler: Handler) -> TokenStream {
    let Handler {
        krate,
        scopes,
        any,
        mut func,
        openapi_below: _,
    } = handler;
    // The span of the `#[protected(...)]` attribute: errors about the
    // injected guard land there.
    let attr = Span::call_site();
    let vis = &func.vis;
    let fn_name = func.sig.ident.unraw();

    let marker_span = scopes
        .as_ref()
        .or(any.first())
        .map(|scopes| scopes.lit.span());
    let (definition, scopes_ty) = match marker_span {
        Some(lit_span) => {
            let name = format_ident!("__auth_scopes_{}", fn_name);
            let values = scopes
                .as_ref()
                .map(|s| s.tokens.as_slice())
                .unwrap_or_default();
            // Only routes with alternatives name them; the trait's default
            // is the one empty alternative.
            let any_of = (!any.is_empty()).then(|| {
                let alternatives = any.iter().map(|alternative| {
                    let values = &alternative.tokens;
                    quote!(&[#(#values),*])
                });
                quote_spanned! {lit_span=>
                    const ANY_OF: &'static [&'static [&'static str]] = &[#(#alternatives),*];
                }
            });
            let definition = quote_spanned! {lit_span=>
                #[doc(hidden)]
                #[allow(
                    non_camel_case_types,
                    dead_code,
                    reason = "named after the handler, used only in its signature"
                )]
                #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
                #vis struct #name;
                impl ::#krate::__private::RequiredScopes for #name {
                    const SCOPES: &'static [&'static str] = &[#(#values),*];
                    #any_of
                }
            };
            (definition, quote!(#name))
        }
        None => (
            TokenStream::new(),
            quote_spanned!(attr=> ::#krate::__private::NoScopes),
        ),
    };

    let alias = format_ident!("__auth_guard_{}", fn_name, span = attr);
    let alias_definition = quote_spanned! {attr=>
        #[doc(hidden)]
        #[allow(
            non_camel_case_types,
            dead_code,
            reason = "named after the handler, used only in its signature"
        )]
        #vis type #alias = ::#krate::__private::Protected<#scopes_ty>;
    };

    let param = syn::Ident::new(crate::validate::GUARD_PARAM, Span::mixed_site());
    let guard: FnArg = syn::parse_quote_spanned! {attr=> #param: #alias };
    // A `self` receiver must stay first; Rocket rejects it with its own error.
    let at = usize::from(matches!(func.sig.inputs.first(), Some(FnArg::Receiver(_))));
    func.sig.inputs.insert(at, guard);

    quote! {
        #definition
        #alias_definition
        #func
    }
}

/// A protected module: each route handler in it, at any depth, expanded as
/// [`handler`] expands one; everything else as written.
pub(crate) fn module(module: Module) -> TokenStream {
    let Module {
        mut item,
        members,
        paths,
    } = module;
    let uses = paths.iter().map(|path| -> syn::Item {
        syn::parse_quote! {
            #[allow(unused_imports, reason = "keeps the import of #[protected] in use")]
            use #path as _;
        }
    });
    let items = uses
        .chain(members.into_iter().map(|member| match member {
            Member::Keep(item) => item,
            Member::Route(route) => syn::Item::Verbatim(handler(route)),
            Member::Module(inner) => syn::Item::Verbatim(self::module(inner)),
        }))
        .collect();
    if let Some((_, content)) = &mut item.content {
        *content = items;
    }
    quote!(#item)
}

// With `#[openapi]` above `#[protected]`, rocket_okapi documents the handler
// before the guard is added, so its scopes would be missing from the
// document. `#[protected]` cannot see an attribute that already ran, but it
// can see what that attribute left: a function `okapi_add_operation_for_<fn>_`
// beside the handler. The check below imports a constant under that name in
// a module of its own and glob-imports it; a function of the same name in
// the handler's module shadows the glob import, and the name then has the
// function's type, which lacks the trait the check requires:
//
//     mod __auth_openapi_order_items_0 {
//         pub(super) use ::auth_core::__private::OPENAPI_ORDER as okapi_add_operation_for_items_;
//     }
//     use __auth_openapi_order_items_0::*;
//     const _: () = ::auth_core::__private::openapi_below_protected(&okapi_add_operation_for_items_);
//
// Every such name is the one constant `OPENAPI_ORDER`, so two of these glob
// imports meeting in one module (a child module's `use super::*`, with
// handlers of the same name in both) are not ambiguous.
//
// Emitted only when the crate depends on rocket_okapi and no `#[openapi]`
// follows `#[protected]`.

/// How many order checks this compiler process has emitted: a suffix that
/// keeps their module names apart.
static ORDER_CHECKS: AtomicUsize = AtomicUsize::new(0);

/// The check that `#[openapi]` was not written above `#[protected]`.
pub(crate) fn openapi_order_check(krate: &syn::Ident, func: &syn::ItemFn) -> TokenStream {
    let ident = &func.sig.ident;
    if ident.to_string().starts_with("r#") {
        return TokenStream::new();
    }
    let attr = Span::call_site();
    // rocket_okapi's name, with the span it gives it.
    let name = syn::Ident::new(&format!("okapi_add_operation_for_{ident}_"), ident.span());
    // Numbered, so that a child module's `use super::*` never brings in a
    // module of the same name as the child's own (an ambiguity error); the
    // import below has no `self::`, so that it also resolves in a block.
    let module = format_ident!(
        "__auth_openapi_order_{}_{}",
        ident,
        ORDER_CHECKS.fetch_add(1, Ordering::Relaxed),
        span = attr
    );
    quote_spanned! {attr=>
        #[doc(hidden)]
        #[allow(non_snake_case, reason = "named after the handler")]
        mod #module {
            pub(super) use ::#krate::__private::OPENAPI_ORDER as #name;
        }
        #[allow(unused_imports, reason = "shadowed when #[openapi] is above #[protected]")]
        use #module::*;
        const _: () = ::#krate::__private::openapi_below_protected(&#name);
    }
}

#[cfg(test)]
mod tests {
    use super::handler;
    use crate::parse::Args;
    use crate::validate;
    use proc_macro2::{Span, TokenStream};
    use quote::quote;

    fn expand(args: TokenStream, item: TokenStream) -> String {
        let args = syn::parse2::<Args>(args);
        let item = syn::parse2::<syn::Item>(item);
        let krate = Ok(syn::Ident::new("auth_core", Span::call_site()));
        match validate::handler(args, item, krate) {
            Ok(checked) => handler(checked).to_string(),
            Err(err) => panic!("unexpected error: {err}"),
        }
    }

    /// The alias every expansion defines, for a handler `name` of
    /// visibility `vis` guarded by `Protected<scopes>`.
    fn alias(vis: &TokenStream, name: &str, scopes: &TokenStream) -> TokenStream {
        let alias = quote::format_ident!("__auth_guard_{}", name);
        quote! {
            #[doc(hidden)]
            #[allow(
                non_camel_case_types,
                dead_code,
                reason = "named after the handler, used only in its signature"
            )]
            #vis type #alias = ::auth_core::__private::Protected<#scopes>;
        }
    }

    #[test]
    fn without_scopes_only_the_guard_and_its_alias_are_added() {
        let out = expand(
            quote!(),
            quote! {
                #[get("/me")]
                async fn me(user: AuthUser) -> String { user.name }
            },
        );
        let alias = alias(&quote!(), "me", &quote!(::auth_core::__private::NoScopes));
        let expected = quote! {
            #alias
            #[get("/me")]
            async fn me(__auth_guard: __auth_guard_me, user: AuthUser) -> String { user.name }
        }
        .to_string();
        assert_eq!(out, expected);
    }

    #[test]
    fn scopes_become_a_marker_struct_with_the_fn_visibility() {
        let out = expand(
            quote!(scopes = "read:items write:items"),
            quote! {
                #[get("/items")]
                pub(crate) fn items() -> &'static str { "" }
            },
        );
        let alias = alias(&quote!(pub(crate)), "items", &quote!(__auth_scopes_items));
        let expected = quote! {
            #[doc(hidden)]
            #[allow(
                non_camel_case_types,
                dead_code,
                reason = "named after the handler, used only in its signature"
            )]
            #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
            pub(crate) struct __auth_scopes_items;
            impl ::auth_core::__private::RequiredScopes for __auth_scopes_items {
                const SCOPES: &'static [&'static str] = &["read:items", "write:items"];
            }
            #alias
            #[get("/items")]
            pub(crate) fn items(__auth_guard: __auth_guard_items) -> &'static str { "" }
        }
        .to_string();
        assert_eq!(out, expected);
    }

    #[test]
    fn a_renamed_crate_is_used_in_every_path() {
        let args = syn::parse2::<Args>(quote!(scopes = "a"));
        let item = syn::parse2::<syn::Item>(quote!(
            #[get("/")]
            fn a() {}
        ));
        let krate = Ok(syn::Ident::new("oauth", Span::call_site()));
        let Ok(checked) = validate::handler(args, item, krate) else {
            panic!("valid input");
        };
        let out = handler(checked).to_string();
        assert!(!out.contains("auth_core"), "{out}");
        assert_eq!(out.matches(":: oauth :: __private ::").count(), 2, "{out}");
    }

    #[test]
    fn generics_where_clauses_and_attributes_survive() {
        let out = expand(
            quote!(),
            quote! {
                #[doc = "items"]
                #[post("/items", data = "<body>")]
                #[allow(clippy::all)]
                pub async fn items<T>(jar: &CookieJar<'_>, body: Json<T>) -> Result<(), Status>
                where
                    T: Send,
                { Ok(()) }
            },
        );
        let alias = alias(
            &quote!(pub),
            "items",
            &quote!(::auth_core::__private::NoScopes),
        );
        let expected = quote! {
            #alias
            #[doc = "items"]
            #[post("/items", data = "<body>")]
            #[allow(clippy::all)]
            pub async fn items<T>(
                __auth_guard: __auth_guard_items,
                jar: &CookieJar<'_>,
                body: Json<T>
            ) -> Result<(), Status>
            where
                T: Send,
            { Ok(()) }
        }
        .to_string();
        assert_eq!(out, expected);
    }

    #[test]
    fn raw_identifiers_give_plain_names() {
        let out = expand(
            quote!(scopes = "admin"),
            quote!(
                #[get("/")]
                fn r#match() {}
            ),
        );
        assert!(out.contains("struct __auth_scopes_match ;"), "{out}");
        assert!(out.contains("type __auth_guard_match ="), "{out}");
    }

    #[test]
    fn receiver_stays_first() {
        let out = expand(
            quote!(),
            quote!(
                #[get("/")]
                fn items(&self, a: u8) {}
            ),
        );
        assert!(out.contains("(& self , __auth_guard"), "{out}");
    }

    #[test]
    fn pattern_parameters_are_left_to_rocket() {
        let out = expand(
            quote!(),
            quote!(
                #[get("/")]
                fn items((a, b): (u8, u8), _: u8) {}
            ),
        );
        assert!(
            out.contains("__auth_guard_items , (a , b) : (u8 , u8) , _ : u8"),
            "{out}"
        );
    }
}
