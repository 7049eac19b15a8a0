//! Syntax of the argument list: `#[protected(name = value, ...)]`, where an
//! argument may also be a parenthesized list, `any(name = value, ...)`.
//!
//! This stage only reads the shape `name [= value | (list)], ...` and keeps every
//! original token. Whether a name is known, a value is a string or a scope is
//! well formed is decided by `validate`, so that one build reports every
//! mistake instead of stopping at the first.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, LitStr, Token, bracketed};

/// The arguments of one `#[protected(...)]`, in source order.
pub(crate) struct Args {
    pub(crate) entries: Vec<Entry>,
}

/// One `name = value` pair.
pub(crate) struct Entry {
    /// The argument name as written, e.g. `scopes` or a misspelling of it.
    pub(crate) name: Ident,
    pub(crate) value: Value,
}

/// What follows the argument name.
pub(crate) enum Value {
    /// `name` alone, or `name =` with nothing after it. The span points at
    /// the last token written (the name or the `=`).
    Missing(Span),
    /// `name = "..."`.
    Str(LitStr),
    /// `name = ["...", "..."]`: a list of string literals, the way other
    /// frameworks spell scopes; kept so `validate` can show the one-string
    /// form.
    List(TokenStream, Vec<LitStr>),
    /// `name = <anything else>`, e.g. `1` or `read:items` without quotes;
    /// kept so an error can cover exactly those tokens.
    Other(TokenStream),
    /// `name(...)`: a nested argument list, e.g.
    /// `any(scopes = "admin", scopes = "write:items")`.
    Nested(Args),
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut entries = Vec::new();
        while !input.is_empty() {
            entries.push(input.parse()?);
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(Self { entries })
    }
}

impl Parse for Entry {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if !input.peek(Ident::peek_any) {
            return Err(if input.peek(LitStr) {
                input.error("missing argument name; write scopes = \"read:items\"")
            } else {
                input.error("expected an argument such as scopes = \"read:items\"")
            });
        }
        let name = input.call(Ident::parse_any)?;

        if input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            let value = Value::Nested(content.parse()?);
            return Ok(Self { name, value });
        }

        if input.is_empty() || input.peek(Token![,]) {
            let value = Value::Missing(name.span());
            return Ok(Self { name, value });
        }

        let eq = input.parse::<Token![=]>()?;
        let mut tokens = TokenStream::new();
        while !input.is_empty() && !input.peek(Token![,]) {
            tokens.extend([input.parse::<TokenTree>()?]);
        }

        let value = if tokens.is_empty() {
            Value::Missing(eq.span)
        } else {
            // `parse2` also looks through the invisible groups that
            // `macro_rules!` wraps around a `$lit:literal`.
            if let Ok(lit) = syn::parse2::<LitStr>(tokens.clone()) {
                Value::Str(lit)
            } else if let Ok(list) = syn::parse2::<StrList>(tokens.clone()) {
                Value::List(tokens, list.0)
            } else {
                Value::Other(tokens)
            }
        };
        Ok(Self { name, value })
    }
}

/// `["a", "b"]`: a bracketed, comma-separated list of string literals.
struct StrList(Vec<LitStr>);

impl Parse for StrList {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let content;
        bracketed!(content in input);
        let list = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
        Ok(Self(list.into_iter().collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::{Args, Value};
    use quote::quote;

    fn parse(tokens: proc_macro2::TokenStream) -> Args {
        match syn::parse2::<Args>(tokens) {
            Ok(args) => args,
            Err(err) => panic!("unexpected parse error: {err}"),
        }
    }

    #[test]
    fn empty_list_has_no_entries() {
        assert!(parse(quote!()).entries.is_empty());
    }

    #[test]
    fn string_value_is_kept_with_its_name() {
        let args = parse(quote!(scopes = "read:items write:items"));
        assert_eq!(args.entries.len(), 1);
        assert_eq!(args.entries[0].name, "scopes");
        match &args.entries[0].value {
            Value::Str(lit) => assert_eq!(lit.value(), "read:items write:items"),
            _ => panic!("expected a string value"),
        }
    }

    #[test]
    fn trailing_comma_is_accepted() {
        assert_eq!(parse(quote!(scopes = "a",)).entries.len(), 1);
    }

    #[test]
    fn raw_string_is_a_string() {
        let args = parse(quote!(scopes = r"admin"));
        assert!(matches!(&args.entries[0].value, Value::Str(lit) if lit.value() == "admin"));
    }

    #[test]
    fn non_string_values_are_kept_as_tokens() {
        let args = parse(quote!(scopes = 1, scopes = read:items, scopes = -1));
        assert_eq!(args.entries.len(), 3);
        for entry in &args.entries {
            assert!(matches!(entry.value, Value::Other(_)));
        }
        if let Value::Other(tokens) = &args.entries[1].value {
            assert_eq!(tokens.to_string(), "read : items");
        }
    }

    #[test]
    fn list_of_strings_is_kept_as_a_list() {
        let args = parse(quote!(
            scopes = ["read:items", "write:items"],
            scopes = ["a", 1]
        ));
        match &args.entries[0].value {
            Value::List(_, items) => {
                let items: Vec<String> = items.iter().map(syn::LitStr::value).collect();
                assert_eq!(items, ["read:items", "write:items"]);
            }
            _ => panic!("expected a list"),
        }
        assert!(matches!(args.entries[1].value, Value::Other(_)));
    }

    #[test]
    fn name_without_value_is_missing() {
        let args = parse(quote!(scopes, other =));
        assert!(matches!(args.entries[0].value, Value::Missing(_)));
        assert!(matches!(args.entries[1].value, Value::Missing(_)));
    }

    #[test]
    fn keywords_are_read_as_names() {
        let args = parse(quote!(type = "x"));
        assert_eq!(args.entries[0].name, "type");
    }

    #[test]
    fn bare_string_asks_for_a_name() {
        let Err(err) = syn::parse2::<Args>(quote!("read:items")) else {
            panic!("expected an error");
        };
        assert!(err.to_string().starts_with("missing argument name"));
    }

    #[test]
    fn parenthesized_lists_nest() {
        let args = parse(quote!(any(scopes = "admin", scopes = "a b"), any()));
        assert_eq!(args.entries.len(), 2);
        let Value::Nested(inner) = &args.entries[0].value else {
            panic!("expected a nested list");
        };
        assert_eq!(inner.entries.len(), 2);
        assert!(matches!(&inner.entries[1].value, Value::Str(lit) if lit.value() == "a b"));
        assert!(matches!(&args.entries[1].value, Value::Nested(inner) if inner.entries.is_empty()));
        assert!(syn::parse2::<Args>(quote!(any(scopes "a"))).is_err());
    }

    #[test]
    fn missing_comma_is_a_syntax_error() {
        assert!(syn::parse2::<Args>(quote!(scopes "read")).is_err());
    }
}
