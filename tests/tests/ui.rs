//! Compile tests for `#[protected]`.
//!
//! `ui/pass/*.rs` must build; every `ui/*.rs` must fail with the message in
//! its `.stderr`.
//!
//! # Which compiler
//!
//! The `.stderr` snapshots hold rustc's wording around our messages (notes,
//! spans, the `help` of type errors), which changes between releases. They
//! are compared only when `rustc -V` names [`SNAPSHOT_RUSTC`], the compiler
//! they were made with. With any other compiler the pass cases still run,
//! and the test prints why the snapshots were skipped; it does not fail.
//! The project's MSRV is older, so this is a gate rather than a
//! `rust-toolchain.toml`, which would make every build on a machine without
//! that toolchain try to download it.
//!
//! To move to a new compiler: change [`SNAPSHOT_RUSTC`], run
//! `TRYBUILD=overwrite cargo test -p tests --test ui`, and review the
//! `.stderr` diff like code.

use std::io::Write as _;
use std::process::Command;

/// The compiler version the `.stderr` files were made with.
const SNAPSHOT_RUSTC: &str = "1.95.0";

/// The version of the rustc Cargo builds with, e.g. `1.95.0`.
fn rustc_version() -> Option<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let output = Command::new(rustc).arg("-V").output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    // "rustc 1.95.0 (59807616e 2026-04-14)"
    text.split_whitespace().nth(1).map(str::to_owned)
}

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    match rustc_version() {
        Some(version) if version == SNAPSHOT_RUSTC => t.compile_fail("ui/*.rs"),
        // Straight to stderr: the test harness hides `eprintln!` output of
        // a passing test.
        other => {
            let _ = writeln!(
                std::io::stderr(),
                "\n\
             ################################################################\n\
             # UI SNAPSHOTS SKIPPED: the .stderr files come from rustc\n\
             # {SNAPSHOT_RUSTC}, this is rustc {}. Only ui/pass ran.\n\
             # Run the compile_fail cases with rustc {SNAPSHOT_RUSTC}.\n\
             ################################################################\n",
                other.as_deref().unwrap_or("<unknown version>")
            );
        }
    }
}
