//! Checks on the parsed arguments and on the annotated item.
//!
//! Every check runs even when an earlier one failed; the failures are joined
//! with `syn::Error::combine` so one build shows every mistake.

use proc_macro_crate::FoundCrate;
use proc_macro2::Span;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::{Attribute, FnArg, GenericArgument, Ident, Item, ItemFn, LitStr, PathArguments, Type};

use crate::parse::{Args, Value};

/// The one argument `#[protected]` knows.
const SCOPES: &str = "scopes";

/// Names of Rocket's route attributes, as the last path segment
/// (`get`, `rocket::get`, ...).
const ROUTE_ATTRIBUTES: &[&str] = &[
    "get", "put", "post", "delete", "patch", "head", "options", "route",
];

/// A handler that passed every check, ready for `expand`.
pub(crate) struct Handler {
    /// The name under which the user's crate depends on `auth-core`.
    pub(crate) krate: Ident,
    pub(crate) scopes: Option<Scopes>,
    pub(crate) func: ItemFn,
}

/// The validated `scopes = "..."` argument.
pub(crate) struct Scopes {
    /// The literal as written, for spans.
    pub(crate) lit: LitStr,
    /// The scope-tokens, in order, each once.
    pub(crate) tokens: Vec<String>,
}

/// Finds `auth-core` among the dependencies of the crate being compiled,
/// under whatever name it was given there
/// (`oauth = { package = "auth-core", .. }` gives `oauth`).
pub(crate) fn core_crate() -> syn::Result<Ident> {
    match proc_macro_crate::crate_name("auth-core") {
        // `Itself` is auth-core's own doctests, tests and examples: they
        // reach the library as `auth_core`, like any other crate.
        Ok(FoundCrate::Itself) => Ok(Ident::new("auth_core", Span::call_site())),
        Ok(FoundCrate::Name(name)) => Ok(Ident::new(&name, Span::call_site())),
        Err(_) => Err(missing_core_crate()),
    }
}

fn missing_core_crate() -> syn::Error {
    syn::Error::new(
        Span::call_site(),
        "#[protected] needs the `auth-core` crate; add `auth-core` to [dependencies] \
         in Cargo.toml and write `use auth_core::protected;` (`auth-macros` is not \
         meant to be used on its own)",
    )
}

/// Checks the arguments, the item and the crate setup together and reports
/// every failure.
pub(crate) fn handler(
    args: syn::Result<Args>,
    item: syn::Result<Item>,
    krate: syn::Result<Ident>,
) -> syn::Result<Handler> {
    let mut errors = Errors::default();

    let scopes = match args {
        Ok(args) => errors.keep(scopes(&args)).flatten(),
        Err(err) => {
            errors.push(err);
            None
        }
    };

    let func = match item {
        Ok(Item::Fn(func)) => func,
        Ok(other) => return Err(errors.with(not_a_function(&other))),
        Err(err) => return Err(errors.with(err)),
    };

    route_attribute(&func.attrs, &mut errors);
    for input in &func.sig.inputs {
        if let FnArg::Typed(typed) = input {
            reserved_name(&typed.pat, &mut errors);
            optional_auth(&typed.ty, &mut errors);
        }
    }

    match krate {
        Ok(krate) => {
            errors.finish()?;
            Ok(Handler {
                krate,
                scopes,
                func,
            })
        }
        Err(err) => Err(errors.with(err)),
    }
}

/// Collects errors into one `syn::Error`.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, err: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(err),
            None => self.0 = Some(err),
        }
    }

    /// Adds `err` and returns every error collected.
    fn with(self, err: syn::Error) -> syn::Error {
        match self.0 {
            Some(mut all) => {
                all.combine(err);
                all
            }
            None => err,
        }
    }

    fn keep<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|err| self.push(err)).ok()
    }

    fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// Checks argument names and the `scopes` value.
fn scopes(args: &Args) -> syn::Result<Option<Scopes>> {
    let mut errors = Errors::default();
    let mut found: Option<Scopes> = None;
    let mut seen = false;

    for entry in &args.entries {
        let name = entry.name.unraw().to_string();
        if name != SCOPES {
            errors.push(unknown_argument(&entry.name, &name));
            continue;
        }
        if seen {
            errors.push(syn::Error::new(
                entry.name.span(),
                "duplicate argument `scopes`; list every scope in one string, \
                 e.g. scopes = \"read:items write:items\"",
            ));
            continue;
        }
        seen = true;
        match &entry.value {
            Value::Str(lit) => found = errors.keep(scope_tokens(lit)),
            Value::List(tokens, items) => errors.push(scope_list(tokens, items)),
            Value::Other(tokens) => errors.push(syn::Error::new_spanned(
                tokens,
                "expected a string literal, e.g. scopes = \"read:items\"",
            )),
            Value::Missing(span) => errors.push(syn::Error::new(
                *span,
                "missing value for `scopes`; write scopes = \"read:items\"",
            )),
        }
    }

    errors.finish()?;
    Ok(found)
}

/// `scopes = ["a", "b"]`: shows the one-string form.
fn scope_list(tokens: &proc_macro2::TokenStream, items: &[LitStr]) -> syn::Error {
    let joined: Vec<String> = items
        .iter()
        .map(LitStr::value)
        .filter(|item| !item.trim().is_empty())
        .collect();
    let example = if joined.is_empty() {
        "read:items write:items".to_owned()
    } else {
        joined.join(" ")
    };
    syn::Error::new_spanned(
        tokens,
        format!("scopes are one space-separated string, not a list; write scopes = {example:?}"),
    )
}

fn unknown_argument(ident: &syn::Ident, name: &str) -> syn::Error {
    let message = if edit_distance(&name.to_lowercase(), SCOPES) <= 2 {
        format!("unknown argument `{name}`; did you mean `scopes`?")
    } else {
        format!(
            "unknown argument `{name}`; the only argument is `scopes`, \
             e.g. #[protected(scopes = \"read:items\")]"
        )
    };
    syn::Error::new(ident.span(), message)
}

/// Splits a scopes string into RFC 6749 §3.3 scope-tokens and checks each.
fn scope_tokens(lit: &LitStr) -> syn::Result<Scopes> {
    if !lit.suffix().is_empty() {
        return Err(syn::Error::new(
            lit.span(),
            format!(
                "unexpected suffix `{}` on the scopes string; remove it",
                lit.suffix()
            ),
        ));
    }

    let value = lit.value();
    if value.contains(',') {
        return Err(comma_separated(lit, &value));
    }
    let mut errors = Errors::default();
    let mut tokens: Vec<String> = Vec::new();

    // scope = scope-token *( SP scope-token ); repeated spaces are tolerated.
    for token in value.split(' ').filter(|token| !token.is_empty()) {
        if let Some(bad) = token.chars().find(|&c| !is_scope_char(c)) {
            errors.push(syn::Error::new(
                lit.span(),
                format!(
                    "invalid scope `{}`; remove {} (RFC 6749 §3.3)",
                    printable(token),
                    describe(bad)
                ),
            ));
        } else if tokens.iter().any(|seen| seen == token) {
            errors.push(syn::Error::new(
                lit.span(),
                format!("duplicate scope `{token}`; list each scope once"),
            ));
        } else {
            tokens.push(token.to_owned());
        }
    }

    if tokens.is_empty() && errors.0.is_none() {
        errors.push(syn::Error::new(
            lit.span(),
            "empty scopes; name at least one scope, e.g. scopes = \"read:items\", \
             or write #[protected] to accept any valid token",
        ));
    }

    errors.finish()?;
    Ok(Scopes {
        lit: lit.clone(),
        tokens,
    })
}

/// A comma is a valid scope character (RFC 6749 §3.3), but in
/// `"read:items, write:items"` it is a separator written by mistake: the
/// route would require the scope `read:items,`, which no token holds.
fn comma_separated(lit: &LitStr, value: &str) -> syn::Error {
    let fixed: Vec<&str> = value
        .split([',', ' '])
        .filter(|token| !token.is_empty())
        .collect();
    syn::Error::new(
        lit.span(),
        format!(
            "scopes are separated by spaces, not commas; write scopes = {:?}",
            fixed.join(" ")
        ),
    )
}

/// `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )` (RFC 6749 §3.3).
fn is_scope_char(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
}

/// Names a character that is not allowed in a scope-token.
fn describe(c: char) -> String {
    match c {
        '\t' => "the tab".to_owned(),
        c if c.is_control() => format!("the control character `{}`", c.escape_default()),
        c if !c.is_ascii() => format!("the non-ASCII `{c}`"),
        c => format!("the `{c}`"),
    }
}

/// The scope as written, with control characters escaped so the message
/// stays on one line.
fn printable(scope: &str) -> String {
    scope
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Optimal string alignment distance: insertions, deletions, substitutions
/// and swaps of two neighbours each cost one.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j] = distance between a[..i] and b[..j]
    let mut rows = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// The attribute was given something other than a function.
fn not_a_function(item: &Item) -> syn::Error {
    let (kind, head) = match item {
        Item::Const(i) => ("a const", i.const_token.to_token_stream()),
        Item::Enum(i) => ("an enum", i.enum_token.to_token_stream()),
        Item::ExternCrate(i) => ("an extern crate", i.extern_token.to_token_stream()),
        Item::ForeignMod(i) => ("an extern block", i.abi.to_token_stream()),
        Item::Impl(i) => ("an impl block", i.impl_token.to_token_stream()),
        Item::Macro(i) => ("a macro", i.mac.path.to_token_stream()),
        Item::Mod(i) => ("a module", i.mod_token.to_token_stream()),
        Item::Static(i) => ("a static", i.static_token.to_token_stream()),
        Item::Struct(i) => ("a struct", i.struct_token.to_token_stream()),
        Item::Trait(i) => ("a trait", i.trait_token.to_token_stream()),
        Item::TraitAlias(i) => ("a trait alias", i.trait_token.to_token_stream()),
        Item::Type(i) => ("a type alias", i.type_token.to_token_stream()),
        Item::Union(i) => ("a union", i.union_token.to_token_stream()),
        Item::Use(i) => ("a use declaration", i.use_token.to_token_stream()),
        other => ("this item", other.to_token_stream()),
    };
    syn::Error::new_spanned(
        head,
        format!(
            "#[protected] can only be used on a route handler function, not on {kind}; \
             put it on a `fn`, above its route attribute"
        ),
    )
}

/// The last path segment of an attribute, e.g. `get` for `#[rocket::get]`.
fn attribute_name(attr: &Attribute) -> Option<String> {
    attr.path()
        .segments
        .last()
        .map(|segment| segment.ident.to_string())
}

/// Requires a route attribute below `#[protected]` and no second
/// `#[protected]`.
fn route_attribute(attrs: &[Attribute], errors: &mut Errors) {
    let mut has_route = false;
    for attr in attrs {
        match attribute_name(attr).as_deref() {
            Some(name) if ROUTE_ATTRIBUTES.contains(&name) => has_route = true,
            Some("catch") => {
                // A catcher runs after a route failed; Rocket gives it no
                // request guards, so there is nothing to check a token with.
                errors.push(syn::Error::new_spanned(
                    attr,
                    "catchers cannot be protected: #[protected] works on routes \
                     (#[get], #[post], ...); remove it from this #[catch] function",
                ));
                return;
            }
            Some("protected") => errors.push(syn::Error::new_spanned(
                attr,
                "duplicate #[protected]; use one attribute and list every scope in it, \
                 e.g. #[protected(scopes = \"read:items write:items\")]",
            )),
            _ => {}
        }
    }
    if !has_route {
        // Below `#[get]`, Rocket has already consumed the route attribute, so
        // both mistakes look the same from here.
        errors.push(syn::Error::new(
            Span::call_site(),
            "#[protected] must be placed above the route attribute (#[get], #[post], ...); \
             no route attribute follows it",
        ));
    }
}

/// The name of the parameter `expand` adds.
pub(crate) const GUARD_PARAM: &str = "__auth_guard";

/// Rejects a parameter named like the injected guard. Rocket matches
/// parameters by name, so even a hygienic injected name would clash.
fn reserved_name(pat: &syn::Pat, errors: &mut Errors) {
    if let syn::Pat::Ident(binding) = pat
        && binding.ident.unraw() == GUARD_PARAM
    {
        errors.push(syn::Error::new(
            binding.ident.span(),
            format!(
                "`{GUARD_PARAM}` is the name of the guard #[protected] adds; \
                 rename this parameter"
            ),
        ));
    }
}

/// Rejects `Option<AuthUser>` and `MaybeUser` parameters.
fn optional_auth(ty: &Type, errors: &mut Errors) {
    let Some(segment) = last_segment(ty) else {
        return;
    };
    let name = if segment.ident == "MaybeUser" {
        "`MaybeUser`"
    } else if segment.ident == "Option" && option_of_user(&segment.arguments) {
        "`Option<AuthUser>`"
    } else {
        return;
    };
    errors.push(syn::Error::new_spanned(
        ty,
        format!(
            "{name} makes authentication optional, but #[protected] rejects anonymous \
             requests; take `AuthUser` instead, or remove this parameter"
        ),
    ));
}

/// `true` for the arguments of `Option<AuthUser>` or `Option<MaybeUser>`.
fn option_of_user(arguments: &PathArguments) -> bool {
    let PathArguments::AngleBracketed(generics) = arguments else {
        return false;
    };
    generics.args.iter().any(|arg| match arg {
        GenericArgument::Type(inner) => last_segment(inner)
            .is_some_and(|inner| inner.ident == "AuthUser" || inner.ident == "MaybeUser"),
        _ => false,
    })
}

/// The last segment of a plain path type, looking through parentheses and
/// the invisible groups macros leave around types.
fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Group(group) => last_segment(&group.elem),
        Type::Paren(paren) => last_segment(&paren.elem),
        Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{edit_distance, handler};
    use crate::parse::Args;
    use proc_macro2::{Span, TokenStream};
    use quote::quote;

    fn krate() -> syn::Ident {
        syn::Ident::new("auth_core", Span::call_site())
    }

    /// Runs every check and returns the error messages, in order.
    fn errors(args: TokenStream, item: TokenStream) -> Vec<String> {
        let args = syn::parse2::<Args>(args);
        let item = syn::parse2::<syn::Item>(item);
        match handler(args, item, Ok(krate())) {
            Ok(_) => Vec::new(),
            Err(err) => err.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    fn route() -> TokenStream {
        quote! {
            #[get("/items")]
            async fn items(user: AuthUser) -> &'static str { "" }
        }
    }

    fn scopes_of(args: TokenStream) -> Option<Vec<String>> {
        let args = syn::parse2::<Args>(args).ok()?;
        let item = syn::parse2::<syn::Item>(route()).ok()?;
        let handler = handler(Ok(args), Ok(item), Ok(krate())).ok()?;
        Some(handler.scopes.map(|s| s.tokens).unwrap_or_default())
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("scopes", "scopes"), 0);
        assert_eq!(edit_distance("scope", "scopes"), 1);
        assert_eq!(edit_distance("scops", "scopes"), 1);
        assert_eq!(edit_distance("scoeps", "scopes"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("roles", "scopes"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn valid_arguments_pass() {
        assert_eq!(scopes_of(quote!()), Some(vec![]));
        assert_eq!(
            scopes_of(quote!(scopes = "read:items  write:items ")),
            Some(vec!["read:items".to_owned(), "write:items".to_owned()])
        );
        assert_eq!(
            scopes_of(quote!(scopes = "!#[]^~")),
            Some(vec!["!#[]^~".to_owned()])
        );
    }

    #[test]
    fn near_miss_suggests_scopes() {
        for name in [quote!(scope), quote!(scops), quote!(Scopes)] {
            let errs = errors(quote!(#name = "read"), route());
            assert_eq!(errs.len(), 1);
            assert!(errs[0].ends_with("did you mean `scopes`?"), "{}", errs[0]);
        }
    }

    #[test]
    fn far_miss_names_the_argument() {
        let errs = errors(quote!(roles = "admin"), route());
        assert_eq!(
            errs,
            ["unknown argument `roles`; the only argument is `scopes`, \
              e.g. #[protected(scopes = \"read:items\")]"]
        );
    }

    #[test]
    fn duplicate_argument_is_reported_once() {
        let errs = errors(quote!(scopes = "a", scopes = "b", scopes = "c"), route());
        assert_eq!(errs.len(), 2);
        assert!(errs[0].starts_with("duplicate argument `scopes`"));
    }

    #[test]
    fn non_string_values_are_rejected() {
        for value in [quote!(1), quote!(read), quote!(read:items), quote!(b"read")] {
            let errs = errors(quote!(scopes = #value), route());
            assert_eq!(
                errs,
                ["expected a string literal, e.g. scopes = \"read:items\""]
            );
        }
        let errs = errors(quote!(scopes), route());
        assert!(errs[0].starts_with("missing value for `scopes`"));
    }

    #[test]
    fn empty_scopes_are_rejected() {
        for value in ["", "   "] {
            let errs = errors(quote!(scopes = #value), route());
            assert_eq!(errs.len(), 1);
            assert!(errs[0].starts_with("empty scopes;"), "{}", errs[0]);
        }
    }

    #[test]
    fn invalid_scope_tokens_name_the_character() {
        let cases = [
            (
                "read\"items",
                "invalid scope `read\"items`; remove the `\"` (RFC 6749 §3.3)",
            ),
            (
                "a\\b",
                "invalid scope `a\\b`; remove the `\\` (RFC 6749 §3.3)",
            ),
            (
                "read\titems",
                "invalid scope `read\\titems`; remove the tab (RFC 6749 §3.3)",
            ),
            (
                "lecture:élément",
                "invalid scope `lecture:élément`; remove the non-ASCII `é` (RFC 6749 §3.3)",
            ),
            (
                "a\nb",
                "invalid scope `a\\nb`; remove the control character `\\n` (RFC 6749 §3.3)",
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(errors(quote!(scopes = #value), route()), [expected]);
        }
    }

    #[test]
    fn every_bad_scope_is_reported() {
        let errs = errors(quote!(scopes = "ok a\"b ok c\\d"), route());
        assert_eq!(errs.len(), 3);
        assert_eq!(errs[1], "duplicate scope `ok`; list each scope once");
    }

    #[test]
    fn list_of_scopes_shows_the_one_string_form() {
        let errs = errors(quote!(scopes = ["read:items", "write:items"]), route());
        assert_eq!(
            errs,
            ["scopes are one space-separated string, not a list; \
              write scopes = \"read:items write:items\""]
        );
        let errs = errors(quote!(scopes = []), route());
        assert!(errs[0].ends_with("write scopes = \"read:items write:items\""));
    }

    #[test]
    fn commas_are_taken_for_separators() {
        for value in [
            "read:items, write:items",
            "read:items,write:items",
            "read:items,",
        ] {
            let errs = errors(quote!(scopes = #value), route());
            assert_eq!(errs.len(), 1, "{value}");
            assert!(
                errs[0].starts_with("scopes are separated by spaces, not commas; write scopes = "),
                "{}",
                errs[0]
            );
        }
        let errs = errors(quote!(scopes = "read:items, write:items"), route());
        assert!(
            errs[0].ends_with("scopes = \"read:items write:items\""),
            "{}",
            errs[0]
        );
    }

    #[test]
    fn the_guard_name_is_reserved() {
        let errs = errors(
            quote!(),
            quote!(
                #[get("/")]
                fn items(__auth_guard: u8) {}
            ),
        );
        assert_eq!(
            errs,
            ["`__auth_guard` is the name of the guard #[protected] adds; rename this parameter"]
        );
        assert!(
            errors(
                quote!(),
                quote!(
                    #[get("/")]
                    fn items(__auth_guard2: u8) {}
                )
            )
            .is_empty()
        );
    }

    #[test]
    fn catchers_are_rejected() {
        let errs = errors(
            quote!(),
            quote!(
                #[catch(404)]
                fn not_found() {}
            ),
        );
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].starts_with("catchers cannot be protected"),
            "{}",
            errs[0]
        );
    }

    #[test]
    fn missing_core_crate_is_reported_with_the_other_errors() {
        let args = syn::parse2::<Args>(quote!(scope = "a"));
        let item = syn::parse2::<syn::Item>(route());
        let Err(err) = handler(args, item, Err(super::missing_core_crate())) else {
            panic!("expected errors");
        };
        let errs: Vec<String> = err.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(errs.len(), 2);
        assert!(errs[1].starts_with("#[protected] needs the `auth-core` crate"));
    }

    #[test]
    fn string_suffix_is_rejected() {
        let errs = errors(quote!(scopes = "read"x), route());
        assert_eq!(errs.len(), 1);
        assert!(errs[0].starts_with("unexpected suffix `x`"));
    }

    #[test]
    fn non_functions_are_rejected() {
        let errs = errors(
            quote!(),
            quote!(
                struct Items;
            ),
        );
        assert_eq!(errs.len(), 1);
        assert!(errs[0].contains("not on a struct"), "{}", errs[0]);
        let errs = errors(quote!(), quote!(impl Items {}));
        assert!(errs[0].contains("not on an impl block"), "{}", errs[0]);
    }

    #[test]
    fn route_attribute_is_required() {
        let errs = errors(
            quote!(),
            quote!(
                fn items() {}
            ),
        );
        assert_eq!(errs.len(), 1);
        assert!(errs[0].starts_with("#[protected] must be placed above the route attribute"));

        let errs = errors(
            quote!(),
            quote!(
                #[doc = "x"]
                #[allow(unused)]
                fn items() {}
            ),
        );
        assert_eq!(errs.len(), 1);
    }

    #[test]
    fn route_attributes_are_recognised() {
        for attr in [
            quote!(#[get("/")]),
            quote!(#[rocket::post("/", data = "<b>")]),
            quote!(#[::rocket::delete("/")]),
            quote!(#[route(GET, uri = "/")]),
            quote!(#[options("/")]),
        ] {
            assert!(errors(quote!(), quote!(#attr fn items() {})).is_empty());
        }
    }

    #[test]
    fn second_protected_is_rejected() {
        let errs = errors(
            quote!(),
            quote!(
                #[protected]
                #[get("/")]
                fn items() {}
            ),
        );
        assert_eq!(errs.len(), 1);
        assert!(errs[0].starts_with("duplicate #[protected]"));
    }

    #[test]
    fn optional_auth_parameters_are_rejected() {
        for ty in [
            quote!(Option<AuthUser>),
            quote!(std::option::Option<auth_core::AuthUser>),
            quote!(MaybeUser),
            quote!(::auth_core::MaybeUser),
            quote!((MaybeUser)),
        ] {
            let errs = errors(quote!(), quote!(#[get("/")] fn items(u: #ty) {}));
            assert_eq!(errs.len(), 1, "{ty}");
            assert!(errs[0].contains("makes authentication optional"));
        }
        for ty in [
            quote!(AuthUser),
            quote!(Option<String>),
            quote!(&CookieJar<'_>),
        ] {
            assert!(errors(quote!(), quote!(#[get("/")] fn items(u: #ty) {})).is_empty());
        }
    }

    #[test]
    fn all_errors_are_collected() {
        let errs = errors(
            quote!(scope = "a", scopes = 1),
            quote!(
                fn items(a: Option<AuthUser>, b: MaybeUser) {}
            ),
        );
        assert_eq!(errs.len(), 5);
    }

    #[test]
    fn odd_parameters_do_not_crash() {
        let item = quote! {
            #[get("/")]
            fn items(&self, (a, b): (u8, u8), _: u8) {}
        };
        assert!(errors(quote!(), item).is_empty());
    }
}
