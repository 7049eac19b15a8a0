//! HTTP tests of the demo app (contract §5 and §7) through Rocket's local
//! async client: `demo_app::rocket_from` on a fresh SQLite file per test.
//!
//! The tests that need the real binary (TCP, the `adduser` command) live in
//! `demo-app/tests/binary.rs`.

mod demo {
    mod support;

    mod concurrency;
    mod errors;
    mod openapi;
    mod persistence;
    mod refresh;
    mod routes;
    mod token;
}
