//! HTTP tests through Rocket's local async client, in one binary:
//!
//! * `demo::*`: the demo app (contract §5 and §7), `demo_app::rocket_from`
//!   on a fresh SQLite file per test;
//! * `demo::toolkit::*`: a small app built only from the toolkit (in-memory
//!   users, `#[protected]` handlers, `MaybeUser`) for contract §3, §4 and
//!   §6.
//!
//! The tests that need the real binary (TCP, the `adduser` command) live in
//! `demo-app/tests/binary.rs`.

mod demo {
    mod support;

    mod api_keys;
    mod attacks;
    mod browser;
    mod clients;
    mod concurrency;
    mod discovery;
    mod errors;
    mod jwks;
    mod openapi;
    mod persistence;
    mod refresh;
    mod routes;
    mod sessions;
    mod throttle;
    mod token;

    mod toolkit {
        mod app;

        mod catchers;
        mod configuration;
        mod credentials;
        mod events;
        mod optional_auth;
        mod resource_server;
        mod scope_policies;
        mod scopes;
        mod tokens;
    }
}
