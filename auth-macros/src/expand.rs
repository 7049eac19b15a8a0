//! Code generation for a handler that passed validation.
//!
//! This stage adds no errors of its own and does not re-quote the handler:
//! it edits the parsed `ItemFn` in place, so attributes, visibility,
//! generics, `where` clauses, `async` and the return type stay as written.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::FnArg;

use crate::validate::Handler;

// Input:
//
// #[protected(scopes = "read:items write:items")]
// #[get("/items")]
// pub async fn items(user: AuthUser) -> Json<Vec<Item>> { .. }
//
// Output:
//
// #[doc(hidden)]
// #[allow(non_camel_case_types, dead_code)]
// #[derive(Clone, Copy, Debug)]
// pub struct __auth_scopes_items;
// impl ::auth_core::__private::RequiredScopes for __auth_scopes_items {
//     const SCOPES: &'static [&'static str] = &["read:items", "write:items"];
// }
// #[get("/items")]
// pub async fn items(
//     __auth_guard: ::auth_core::__private::Protected<__auth_scopes_items>,
//     user: AuthUser,
// ) -> Json<Vec<Item>> { .. }
//
// Without scopes no struct is emitted and the guard is
// `Protected<::auth_core::__private::NoScopes>`. The guard is the first
// parameter because Rocket runs request guards in order and the data guard
// last, so nothing else (and no request body) is looked at before the
// caller is authenticated.

/// Adds the guard parameter and, when scopes are given, their marker type.
pub(crate) fn handler(handler: Handler) -> TokenStream {
    let Handler { scopes, mut func } = handler;
    // The span of the `#[protected(...)]` attribute: errors about the
    // injected guard (e.g. `auth_core` missing from Cargo.toml) land there.
    let attr = Span::call_site();

    let (definition, scopes_ty) = match &scopes {
        Some(scopes) => {
            let vis = &func.vis;
            let name = format_ident!("__auth_scopes_{}", func.sig.ident);
            let lit_span = scopes.lit.span();
            let values = &scopes.tokens;
            let definition = quote_spanned! {lit_span=>
                #[doc(hidden)]
                #[allow(non_camel_case_types, dead_code)]
                #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
                #vis struct #name;
                impl ::auth_core::__private::RequiredScopes for #name {
                    const SCOPES: &'static [&'static str] = &[#(#values),*];
                }
            };
            (definition, quote!(#name))
        }
        None => (
            TokenStream::new(),
            quote_spanned!(attr=> ::auth_core::__private::NoScopes),
        ),
    };

    let guard: FnArg = syn::parse_quote_spanned! {attr=>
        __auth_guard: ::auth_core::__private::Protected<#scopes_ty>
    };
    // A `self` receiver must stay first; Rocket rejects it with its own error.
    let at = usize::from(matches!(func.sig.inputs.first(), Some(FnArg::Receiver(_))));
    func.sig.inputs.insert(at, guard);

    quote! {
        #definition
        #func
    }
}

#[cfg(test)]
mod tests {
    use super::handler;
    use crate::parse::Args;
    use crate::validate;
    use proc_macro2::TokenStream;
    use quote::quote;

    fn expand(args: TokenStream, item: TokenStream) -> String {
        let args = syn::parse2::<Args>(args);
        let item = syn::parse2::<syn::Item>(item);
        match validate::handler(args, item) {
            Ok(checked) => handler(checked).to_string(),
            Err(err) => panic!("unexpected error: {err}"),
        }
    }

    #[test]
    fn without_scopes_only_the_guard_is_added() {
        let out = expand(
            quote!(),
            quote! {
                #[get("/me")]
                async fn me(user: AuthUser) -> String { user.name }
            },
        );
        let expected = quote! {
            #[get("/me")]
            async fn me(
                __auth_guard: ::auth_core::__private::Protected<::auth_core::__private::NoScopes>,
                user: AuthUser
            ) -> String { user.name }
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
        let expected = quote! {
            #[doc(hidden)]
            #[allow(non_camel_case_types, dead_code)]
            #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
            pub(crate) struct __auth_scopes_items;
            impl ::auth_core::__private::RequiredScopes for __auth_scopes_items {
                const SCOPES: &'static [&'static str] = &["read:items", "write:items"];
            }
            #[get("/items")]
            pub(crate) fn items(
                __auth_guard: ::auth_core::__private::Protected<__auth_scopes_items>
            ) -> &'static str { "" }
        }
        .to_string();
        assert_eq!(out, expected);
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
        let expected = quote! {
            #[doc = "items"]
            #[post("/items", data = "<body>")]
            #[allow(clippy::all)]
            pub async fn items<T>(
                __auth_guard: ::auth_core::__private::Protected<::auth_core::__private::NoScopes>,
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
    fn raw_identifiers_give_a_plain_struct_name() {
        let out = expand(
            quote!(scopes = "admin"),
            quote!(
                #[get("/")]
                fn r#match() {}
            ),
        );
        assert!(out.contains("struct __auth_scopes_match ;"), "{out}");
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
            out.contains("NoScopes > , (a , b) : (u8 , u8) , _ : u8"),
            "{out}"
        );
    }
}
