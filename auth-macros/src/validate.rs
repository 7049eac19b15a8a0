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

/// The argument that lists required scopes.
const SCOPES: &str = "scopes";

/// The argument that lists alternatives: `any(scopes = "..", scopes = "..")`.
const ANY: &str = "any";

/// `#[protected]` on a `#[catch]` function.
const CATCHER: &str = "catchers cannot be protected: #[protected] works on routes \
                       (#[get], #[post], ...); remove it from this #[catch] function";

/// A second `#[protected]` on one item.
const DUPLICATE: &str = "duplicate #[protected]; use one attribute and list every scope in it, \
                         e.g. #[protected(scopes = \"read:items write:items\")]";

/// An example of `any(...)` for messages.
const ANY_EXAMPLE: &str = "any(scopes = \"admin\", scopes = \"write:items\")";

/// Names of Rocket's route attributes, as the last path segment
/// (`get`, `rocket::get`, ...).
const ROUTE_ATTRIBUTES: &[&str] = &[
    "get", "put", "post", "delete", "patch", "head", "options", "route",
];

/// A handler that passed every check, ready for `expand`.
pub(crate) struct Handler {
    /// The name under which the user's crate depends on `auth-core`.
    pub(crate) krate: Ident,
    /// Scopes every request needs.
    pub(crate) scopes: Option<Scopes>,
    /// Alternatives of `any(...)`: on top of `scopes`, a request needs every
    /// scope of one of them. Empty without `any`, never one alone.
    pub(crate) any: Vec<Scopes>,
    pub(crate) func: ItemFn,
    /// Whether `#[openapi]` is among the attributes below `#[protected]`
    /// (or the handler sits in a protected module, where the order does
    /// not matter).
    pub(crate) openapi_below: bool,
}

/// What the arguments of one `#[protected(...)]` require.
#[derive(Default)]
pub(crate) struct Requirement {
    pub(crate) scopes: Option<Scopes>,
    pub(crate) any: Vec<Scopes>,
}

/// A module under `#[protected]`, checked: its route handlers, at any
/// depth, carry the module's requirement combined with their own.
pub(crate) struct Module {
    /// The module, its items replaced by `members`.
    pub(crate) item: syn::ItemMod,
    pub(crate) members: Vec<Member>,
    /// The paths of the `#[protected]` attributes taken off its items, each
    /// once: `expand` keeps them in use, so the `use` that brought them
    /// into scope is not reported unused.
    pub(crate) paths: Vec<syn::Path>,
}

/// One item of a protected module.
pub(crate) enum Member {
    /// Left as written: helpers, types, catchers, `use`s.
    Keep(Item),
    Route(Handler),
    Module(Module),
}

/// The validated `scopes = "..."` argument.
#[derive(Clone)]
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

/// Whether the crate being compiled depends on `rocket_okapi`, whose
/// `#[openapi]` must come below `#[protected]`.
pub(crate) fn uses_rocket_okapi() -> bool {
    proc_macro_crate::crate_name("rocket_okapi").is_ok()
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

    let requirement = match args {
        Ok(args) => errors.keep(requirement(&args)).unwrap_or_default(),
        Err(err) => {
            errors.push(err);
            Requirement::default()
        }
    };

    let func = match item {
        Ok(Item::Fn(func)) => func,
        Ok(other) => return Err(errors.with(not_a_function(&other))),
        Err(err) => return Err(errors.with(err)),
    };

    let openapi_below = route_attribute(&func.attrs, &mut errors);
    parameters(&func, None, &mut errors);

    match krate {
        Ok(krate) => {
            errors.finish()?;
            Ok(Handler {
                krate,
                scopes: requirement.scopes,
                any: requirement.any,
                func,
                openapi_below,
            })
        }
        Err(err) => Err(errors.with(err)),
    }
}

/// Checks the parameters of a handler; `module` names the protected module
/// it sits in, if any.
fn parameters(func: &ItemFn, module: Option<&Ident>, errors: &mut Errors) {
    for input in &func.sig.inputs {
        if let FnArg::Typed(typed) = input {
            reserved_name(&typed.pat, errors);
            optional_auth(&typed.ty, module, errors);
        }
    }
}

/// Checks `#[protected(...)]` on an inline module and every route handler
/// in it, at any depth.
pub(crate) fn module(
    args: syn::Result<Args>,
    item: syn::ItemMod,
    krate: syn::Result<Ident>,
) -> syn::Result<Module> {
    let mut errors = Errors::default();
    let requirement = match args {
        Ok(args) => errors.keep(requirement(&args)).unwrap_or_default(),
        Err(err) => {
            errors.push(err);
            Requirement::default()
        }
    };
    let krate = match krate {
        Ok(krate) => krate,
        Err(err) => return Err(errors.with(err)),
    };
    let module = members(&krate, &requirement, item, &mut errors);
    errors.finish()?;
    Ok(module)
}

/// Checks the items of `module` under `outer`, the requirement of the
/// modules around them.
fn members(
    krate: &Ident,
    outer: &Requirement,
    mut module: syn::ItemMod,
    errors: &mut Errors,
) -> Module {
    let Some((_, items)) = module.content.take() else {
        errors.push(syn::Error::new_spanned(
            &module,
            "#[protected] cannot see into a module in another file; write the module \
             inline (`mod name { ... }`) or protect its routes one by one",
        ));
        return Module {
            item: module,
            members: Vec::new(),
            paths: Vec::new(),
        };
    };
    module.content = Some((syn::token::Brace::default(), Vec::new()));
    let mut checked = Vec::new();
    let mut paths = Vec::new();
    for item in items {
        match item {
            Item::Fn(func) => checked.push(member_fn(
                krate,
                outer,
                &module.ident,
                func,
                &mut paths,
                errors,
            )),
            Item::Mod(mut inner) => {
                let own = take_protected(&mut inner.attrs, &mut paths, errors);
                let combined = combine(outer, &own);
                if inner.content.is_none() {
                    errors.push(syn::Error::new_spanned(
                        &inner,
                        format!(
                            "`mod {};` is in another file, where the #[protected] of `mod {}` \
                             cannot reach; write it inline (`mod {} {{ ... }}`) or move it out \
                             of the protected module",
                            inner.ident, module.ident, inner.ident
                        ),
                    ));
                    checked.push(Member::Keep(Item::Mod(inner)));
                } else {
                    checked.push(Member::Module(members(krate, &combined, inner, errors)));
                }
            }
            Item::Macro(mac) if mac.ident.is_none() => {
                errors.push(syn::Error::new_spanned(
                    &mac.mac.path,
                    format!(
                        "#[protected] on `mod {}` cannot see the routes a macro call generates; \
                         move this call out of the module, or protect the routes it makes \
                         one by one",
                        module.ident
                    ),
                ));
                checked.push(Member::Keep(Item::Macro(mac)));
            }
            other => checked.push(Member::Keep(other)),
        }
    }
    Module {
        item: module,
        members: checked,
        paths,
    }
}

/// One function of a protected module: a route handler gets the module's
/// requirement and its own; other functions are left alone.
fn member_fn(
    krate: &Ident,
    outer: &Requirement,
    module: &Ident,
    mut func: ItemFn,
    paths: &mut Vec<syn::Path>,
    errors: &mut Errors,
) -> Member {
    let route = func.attrs.iter().position(|attr| {
        attribute_name(attr).is_some_and(|n| ROUTE_ATTRIBUTES.contains(&n.as_str()))
    });
    let protected = func
        .attrs
        .iter()
        .position(|attr| attribute_name(attr).as_deref() == Some("protected"));
    // A route attribute behind `cfg_attr` would escape the module's
    // protection when the condition holds: refuse it rather than guess.
    if let Some(attr) = func.attrs.iter().find(|attr| hides_route(attr)) {
        errors.push(syn::Error::new_spanned(
            attr,
            format!(
                "#[protected] on `mod {module}` cannot see a route attribute inside \
                 #[cfg_attr(..)]; put #[cfg(..)] on the whole function instead, or move \
                 it out of the module"
            ),
        ));
        return Member::Keep(Item::Fn(func));
    }
    match (route, protected) {
        (None, None) => return Member::Keep(Item::Fn(func)),
        (None, Some(at)) => {
            let message = if func
                .attrs
                .iter()
                .any(|a| attribute_name(a).as_deref() == Some("catch"))
            {
                CATCHER
            } else {
                "#[protected] on a function without a route attribute; in a protected \
                 module only routes (#[get], #[post], ...) are protected and other \
                 functions are left alone: remove this attribute"
            };
            errors.push(syn::Error::new_spanned(&func.attrs[at], message));
            return Member::Keep(Item::Fn(func));
        }
        (Some(route), Some(at)) if at > route => {
            errors.push(syn::Error::new_spanned(
                &func.attrs[at],
                "#[protected] must be placed above the route attribute (#[get], #[post], ...)",
            ));
        }
        _ => {}
    }
    let own = take_protected(&mut func.attrs, paths, errors);
    let requirement = combine(outer, &own);
    parameters(&func, Some(module), errors);
    Member::Route(Handler {
        krate: krate.clone(),
        scopes: requirement.scopes,
        any: requirement.any,
        func,
        openapi_below: true,
    })
}

/// `module` with every `#[protected]` inside it removed, at any depth.
pub(crate) fn without_protected(mut module: syn::ItemMod) -> syn::ItemMod {
    let not_protected = |attr: &Attribute| attribute_name(attr).as_deref() != Some("protected");
    if let Some((_, items)) = &mut module.content {
        for item in items.iter_mut() {
            match item {
                Item::Fn(func) => func.attrs.retain(not_protected),
                Item::Mod(inner) => {
                    inner.attrs.retain(not_protected);
                    *inner = without_protected(inner.clone());
                }
                _ => {}
            }
        }
    }
    module
}

/// Whether `attr` is a `#[cfg_attr(..)]` that names a route attribute.
fn hides_route(attr: &Attribute) -> bool {
    fn names_route(tokens: proc_macro2::TokenStream) -> bool {
        tokens.into_iter().any(|tree| match tree {
            proc_macro2::TokenTree::Ident(ident) => {
                ROUTE_ATTRIBUTES.contains(&ident.to_string().as_str())
            }
            proc_macro2::TokenTree::Group(group) => names_route(group.stream()),
            _ => false,
        })
    }
    match &attr.meta {
        syn::Meta::List(list) if attribute_name(attr).as_deref() == Some("cfg_attr") => {
            // Skip the condition: `cfg_attr(feature = "get", ..)` names no route.
            let mut tokens = list.tokens.clone().into_iter();
            let rest: proc_macro2::TokenStream = tokens
                .by_ref()
                .skip_while(
                    |tree| !matches!(tree, proc_macro2::TokenTree::Punct(p) if p.as_char() == ','),
                )
                .collect();
            names_route(rest)
        }
        _ => false,
    }
}

/// Removes the `#[protected(...)]` attributes from `attrs` and returns what
/// they require.
fn take_protected(
    attrs: &mut Vec<Attribute>,
    paths: &mut Vec<syn::Path>,
    errors: &mut Errors,
) -> Requirement {
    let mut found: Option<Requirement> = None;
    let mut kept = Vec::with_capacity(attrs.len());
    for attr in attrs.drain(..) {
        if attribute_name(&attr).as_deref() != Some("protected") {
            kept.push(attr);
            continue;
        }
        if !paths.contains(attr.path()) {
            paths.push(attr.path().clone());
        }
        if found.is_some() {
            errors.push(syn::Error::new_spanned(&attr, DUPLICATE));
            continue;
        }
        let args = match &attr.meta {
            syn::Meta::Path(_) => Ok(Args {
                entries: Vec::new(),
            }),
            syn::Meta::List(list) => syn::parse2::<Args>(list.tokens.clone()),
            syn::Meta::NameValue(value) => Err(syn::Error::new_spanned(
                value,
                "expected #[protected] or #[protected(scopes = \"...\")]",
            )),
        };
        let requirement = match args {
            Ok(args) => errors.keep(requirement(&args)).unwrap_or_default(),
            Err(err) => {
                errors.push(err);
                Requirement::default()
            }
        };
        found = Some(requirement);
    }
    *attrs = kept;
    found.unwrap_or_default()
}

/// `outer` AND `inner`: every scope of both, and one alternative of each
/// (the pairs of alternatives, each pair's scopes united). Alternatives
/// that another implies are dropped: they change nothing.
fn combine(outer: &Requirement, inner: &Requirement) -> Requirement {
    let mut all: Vec<String> = Vec::new();
    let mut lit: Option<LitStr> = None;
    for scopes in [outer.scopes.as_ref(), inner.scopes.as_ref()]
        .into_iter()
        .flatten()
    {
        lit = Some(scopes.lit.clone());
        for token in &scopes.tokens {
            if !all.contains(token) {
                all.push(token.clone());
            }
        }
    }
    let sides = |any: &[Scopes]| -> Vec<Option<Scopes>> {
        if any.is_empty() {
            vec![None]
        } else {
            any.iter().cloned().map(Some).collect()
        }
    };
    let mut alternatives: Vec<Scopes> = Vec::new();
    for left in sides(&outer.any) {
        for right in sides(&inner.any) {
            let parts: Vec<&Scopes> = [left.as_ref(), right.as_ref()]
                .into_iter()
                .flatten()
                .collect();
            let Some(last) = parts.last() else { continue };
            let mut tokens: Vec<String> = Vec::new();
            for token in parts.iter().flat_map(|p| &p.tokens) {
                if !all.contains(token) && !tokens.contains(token) {
                    tokens.push(token.clone());
                }
            }
            alternatives.push(Scopes {
                lit: last.lit.clone(),
                tokens,
            });
        }
    }
    // Absorption: an alternative that holds all of another is implied by it.
    let mut kept: Vec<Scopes> = Vec::new();
    for (i, alternative) in alternatives.iter().enumerate() {
        let implied = alternatives.iter().enumerate().any(|(j, other)| {
            j != i
                && other.tokens.iter().all(|t| alternative.tokens.contains(t))
                && (other.tokens.len() < alternative.tokens.len() || j < i)
        });
        if !implied {
            kept.push(alternative.clone());
        }
    }
    if kept.len() == 1 {
        // One alternative left is a plain requirement (an empty one, always
        // held, implies every other and is left alone).
        for alternative in kept.drain(..) {
            for token in alternative.tokens {
                lit.get_or_insert_with(|| alternative.lit.clone());
                if !all.contains(&token) {
                    all.push(token);
                }
            }
        }
    }
    let scopes = lit
        .filter(|_| !all.is_empty())
        .map(|lit| Scopes { lit, tokens: all });
    Requirement { scopes, any: kept }
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

/// Checks argument names, the `scopes` value and the alternatives of
/// `any(...)`.
fn requirement(args: &Args) -> syn::Result<Requirement> {
    let mut errors = Errors::default();
    let mut found = Requirement::default();
    let mut scopes_name: Option<&Ident> = None;
    let mut any_name: Option<&Ident> = None;
    // Which of the two was written second.
    let mut second: Option<&Ident> = None;

    for entry in &args.entries {
        let name = entry.name.unraw().to_string();
        if name == ANY {
            if any_name.is_some() {
                errors.push(syn::Error::new(
                    entry.name.span(),
                    format!(
                        "duplicate argument `any`; list every alternative in one {ANY_EXAMPLE}"
                    ),
                ));
                continue;
            }
            any_name = Some(&entry.name);
            second = scopes_name.map(|_| &entry.name);
            if let Some(alternatives) = alternatives(&entry.name, &entry.value, &mut errors) {
                found.any = alternatives;
            }
            continue;
        }
        if name != SCOPES {
            errors.push(unknown_argument(&entry.name, &name));
            continue;
        }
        if scopes_name.is_some() {
            errors.push(syn::Error::new(
                entry.name.span(),
                "duplicate argument `scopes`; list every scope in one string, \
                 e.g. scopes = \"read:items write:items\"",
            ));
            continue;
        }
        scopes_name = Some(&entry.name);
        second = any_name.map(|_| &entry.name);
        found.scopes = scope_value(&entry.value, &mut errors);
    }

    if let Some(second) = second {
        errors.push(syn::Error::new(second.span(), mixed(&found)));
    }

    errors.finish()?;
    Ok(found)
}

/// The value of one `scopes` argument, checked.
fn scope_value(value: &Value, errors: &mut Errors) -> Option<Scopes> {
    match value {
        Value::Str(lit) => return errors.keep(scope_tokens(lit)),
        Value::List(tokens, items) => errors.push(scope_list(tokens, items)),
        Value::Other(tokens) => errors.push(syn::Error::new_spanned(
            tokens,
            "expected a string literal, e.g. scopes = \"read:items\"",
        )),
        Value::Nested(_) | Value::Missing(_) => {
            let span = match value {
                Value::Missing(span) => *span,
                _ => Span::call_site(),
            };
            errors.push(syn::Error::new(
                span,
                "missing value for `scopes`; write scopes = \"read:items\"",
            ));
        }
    }
    None
}

/// `scopes = ".."` beside `any(..)`: whether the scopes join every
/// alternative or form one more is unclear, so the message shows the
/// unambiguous spelling.
fn mixed(found: &Requirement) -> String {
    let example = match &found.scopes {
        Some(scopes) if !found.any.is_empty() => {
            let alternatives: Vec<String> = found
                .any
                .iter()
                .map(|alternative| {
                    let joined: Vec<&str> = scopes
                        .tokens
                        .iter()
                        .chain(&alternative.tokens)
                        .map(String::as_str)
                        .collect();
                    format!("scopes = {:?}", joined.join(" "))
                })
                .collect();
            format!("any({})", alternatives.join(", "))
        }
        _ => "any(scopes = \"read:items admin\", scopes = \"read:items write:items\")".to_owned(),
    };
    format!(
        "`scopes` beside `any(...)` is ambiguous; put the scopes every alternative needs \
         into each alternative: {example}"
    )
}

/// Checks `any(scopes = "..", scopes = "..")`: two or more alternatives, none
/// repeated or implied by another.
fn alternatives(name: &Ident, value: &Value, errors: &mut Errors) -> Option<Vec<Scopes>> {
    let Value::Nested(inner) = value else {
        let span = match value {
            Value::Missing(span) => *span,
            Value::Str(lit) => lit.span(),
            Value::List(tokens, _) | Value::Other(tokens) => {
                errors.push(syn::Error::new_spanned(
                    tokens,
                    format!("`any` takes its alternatives in parentheses: {ANY_EXAMPLE}"),
                ));
                return None;
            }
            Value::Nested(_) => name.span(),
        };
        errors.push(syn::Error::new(
            span,
            format!("`any` takes its alternatives in parentheses: {ANY_EXAMPLE}"),
        ));
        return None;
    };
    if inner.entries.is_empty() {
        errors.push(syn::Error::new(
            name.span(),
            format!("empty `any()`; list two or more alternatives, e.g. {ANY_EXAMPLE}"),
        ));
        return None;
    }
    let mut local = Errors::default();
    let mut found: Vec<Scopes> = Vec::new();
    for entry in &inner.entries {
        let entry_name = entry.name.unraw().to_string();
        if entry_name == ANY {
            local.push(syn::Error::new(
                entry.name.span(),
                format!("`any(...)` cannot be nested; list every alternative in one {ANY_EXAMPLE}"),
            ));
        } else if entry_name != SCOPES {
            let message = if edit_distance(&entry_name.to_lowercase(), SCOPES) <= 2 {
                format!("unknown argument `{entry_name}` in `any(...)`; did you mean `scopes`?")
            } else {
                format!(
                    "unknown argument `{entry_name}` in `any(...)`; each alternative is \
                     scopes = \"...\", e.g. {ANY_EXAMPLE}"
                )
            };
            local.push(syn::Error::new(entry.name.span(), message));
        } else if let Some(scopes) = scope_value(&entry.value, &mut local) {
            found.push(scopes);
        }
    }
    if let Some(err) = local.0 {
        errors.push(err);
        return None;
    }
    if found.len() == 1 {
        let only = &found[0];
        errors.push(syn::Error::new(
            name.span(),
            format!(
                "`any(...)` with one alternative; write scopes = {:?} instead",
                only.tokens.join(" ")
            ),
        ));
        return None;
    }
    let mut ok = true;
    for (j, later) in found.iter().enumerate() {
        for earlier in &found[..j] {
            let subset = |a: &Scopes, b: &Scopes| a.tokens.iter().all(|t| b.tokens.contains(t));
            if subset(earlier, later) && subset(later, earlier) {
                errors.push(syn::Error::new(
                    later.lit.span(),
                    format!(
                        "duplicate alternative `{}`; remove it",
                        later.tokens.join(" ")
                    ),
                ));
            } else if subset(earlier, later) || subset(later, earlier) {
                let (wider, narrower) = if subset(earlier, later) {
                    (later, earlier)
                } else {
                    (earlier, later)
                };
                errors.push(syn::Error::new(
                    wider.lit.span(),
                    format!(
                        "alternative `{}` is redundant: a token that holds it also holds `{}`, \
                         which already suffices; remove `{}`",
                        wider.tokens.join(" "),
                        narrower.tokens.join(" "),
                        wider.tokens.join(" ")
                    ),
                ));
            } else {
                continue;
            }
            ok = false;
            break;
        }
    }
    ok.then_some(found)
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
    let lower = name.to_lowercase();
    let message = if [
        "any_of",
        "anyof",
        "one_of",
        "oneof",
        "either",
        "or",
        "any_scopes",
    ]
    .contains(&lower.as_str())
        || edit_distance(&lower, ANY) == 1
    {
        format!("unknown argument `{name}`; did you mean {ANY_EXAMPLE}?")
    } else if edit_distance(&lower, SCOPES) <= 2 {
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
/// `#[protected]`; returns whether `#[openapi]` is below too.
fn route_attribute(attrs: &[Attribute], errors: &mut Errors) -> bool {
    let mut has_route = false;
    let mut openapi = false;
    for attr in attrs {
        match attribute_name(attr).as_deref() {
            Some(name) if ROUTE_ATTRIBUTES.contains(&name) => has_route = true,
            Some("openapi") => openapi = true,
            Some("catch") => {
                // A catcher runs after a route failed; Rocket gives it no
                // request guards, so there is nothing to check a token with.
                errors.push(syn::Error::new_spanned(attr, CATCHER));
                return openapi;
            }
            Some("protected") => errors.push(syn::Error::new_spanned(attr, DUPLICATE)),
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
    openapi
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
fn optional_auth(ty: &Type, module: Option<&Ident>, errors: &mut Errors) {
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
    let message = match module {
        None => format!(
            "{name} makes authentication optional, but #[protected] rejects anonymous \
             requests; take `AuthUser` instead, or remove this parameter"
        ),
        Some(module) => format!(
            "{name} makes authentication optional, but this route is in `mod {module}`, \
             whose #[protected] rejects anonymous requests; take `AuthUser` instead, or \
             move the route out of the module"
        ),
    };
    errors.push(syn::Error::new_spanned(ty, message));
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

    /// The alternatives of a valid argument list, each as a string.
    fn alternatives_of(args: TokenStream) -> Vec<String> {
        let args = syn::parse2::<Args>(args).expect("valid syntax");
        let item = syn::parse2::<syn::Item>(route()).expect("an item");
        let Ok(handler) = handler(Ok(args), Ok(item), Ok(krate())) else {
            panic!("valid arguments");
        };
        handler.any.iter().map(|a| a.tokens.join(" ")).collect()
    }

    #[test]
    fn alternatives_are_kept_in_order() {
        assert_eq!(
            alternatives_of(quote!(any(scopes = "write:items", scopes = "admin ops"))),
            ["write:items", "admin ops"]
        );
    }

    #[test]
    fn alternative_misuse_is_reported() {
        let cases = [
            (quote!(any()), "empty `any()`"),
            (quote!(any(scopes = "a")), "`any(...)` with one alternative"),
            (
                quote!(any(scopes = "a b", scopes = "b a")),
                "duplicate alternative `b a`",
            ),
            (
                quote!(any(scopes = "a b", scopes = "a")),
                "alternative `a b` is redundant",
            ),
            (
                quote!(any(scopes = "a", any(scopes = "b"))),
                "`any(...)` cannot be nested",
            ),
            (
                quote!(any = "a"),
                "`any` takes its alternatives in parentheses",
            ),
            (quote!(any), "`any` takes its alternatives in parentheses"),
            (
                quote!(any(roles = "a", scopes = "b")),
                "unknown argument `roles` in `any(...)`",
            ),
            (
                quote!(oneof(scopes = "a")),
                "unknown argument `oneof`; did you mean any(",
            ),
            (
                quote!(any(scopes = "a"), any(scopes = "b")),
                "duplicate argument `any`",
            ),
            (
                quote!(any(scopes = "a", scopes)),
                "missing value for `scopes`",
            ),
        ];
        for (args, expected) in cases {
            let errs = errors(args.clone(), route());
            assert!(
                errs.iter().any(|e| e.starts_with(expected)),
                "{args}: {errs:?}"
            );
        }
    }

    #[test]
    fn scopes_beside_any_show_the_combined_alternatives() {
        for args in [
            quote!(scopes = "read", any(scopes = "a", scopes = "b c")),
            quote!(any(scopes = "a", scopes = "b c"), scopes = "read"),
        ] {
            let errs = errors(args, route());
            assert_eq!(errs.len(), 1, "{errs:?}");
            assert!(
                errs[0].ends_with("any(scopes = \"read a\", scopes = \"read b c\")"),
                "{}",
                errs[0]
            );
        }
    }

    /// The requirement of `outer` AND `inner`, as `(scopes, alternatives)`.
    fn combined(outer: TokenStream, inner: TokenStream) -> (String, Vec<String>) {
        let outer = super::requirement(&syn::parse2::<Args>(outer).unwrap())
            .ok()
            .unwrap();
        let inner = super::requirement(&syn::parse2::<Args>(inner).unwrap())
            .ok()
            .unwrap();
        let both = super::combine(&outer, &inner);
        (
            both.scopes.map(|s| s.tokens.join(" ")).unwrap_or_default(),
            both.any.iter().map(|a| a.tokens.join(" ")).collect(),
        )
    }

    #[test]
    fn module_and_route_requirements_combine_with_and() {
        let none: Vec<String> = Vec::new();
        assert_eq!(combined(quote!(), quote!()), (String::new(), none.clone()));
        assert_eq!(
            combined(quote!(scopes = "admin"), quote!(scopes = "write admin")),
            ("admin write".to_owned(), none.clone())
        );
        assert_eq!(
            combined(
                quote!(scopes = "admin"),
                quote!(any(scopes = "a", scopes = "b"))
            ),
            ("admin".to_owned(), vec!["a".to_owned(), "b".to_owned()])
        );
        // An alternative the module already requires is always held.
        assert_eq!(
            combined(
                quote!(scopes = "admin"),
                quote!(any(scopes = "admin", scopes = "b"))
            ),
            ("admin".to_owned(), none.clone())
        );
        // Two lists of alternatives: every pair; implied pairs dropped.
        assert_eq!(
            combined(
                quote!(any(scopes = "a", scopes = "b")),
                quote!(any(scopes = "a", scopes = "c"))
            ),
            (String::new(), vec!["a".to_owned(), "b c".to_owned()])
        );
        // A route scope that is one of the module's alternatives.
        assert_eq!(
            combined(
                quote!(any(scopes = "a", scopes = "b")),
                quote!(scopes = "a")
            ),
            ("a".to_owned(), none)
        );
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
