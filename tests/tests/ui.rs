//! Compile tests for `#[protected]`.
//!
//! `ui/pass/*.rs` must build; every `ui/*.rs` must fail with the message in
//! its `.stderr`. Regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p tests --test ui` and review the diff.
//! The `.stderr` files were made with rustc 1.95; other compilers may word
//! the surrounding notes differently.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/*.rs");
}
