//! Everything that touches Rocket: the fairing that builds [`Auth`](crate::Auth),
//! the request and data guards, launch-time sentinels, the responders and the
//! catcher, the OpenAPI pieces and the JWKS route.
//!
//! The layers below (`bearer`, `token`, `scopes`, `password`, `grant`,
//! `store`) know nothing of this folder.

pub(crate) mod client_address;
pub(crate) mod cookies;
pub(crate) mod cors;
pub mod discovery;
pub(crate) mod fairing;
pub(crate) mod form;
pub(crate) mod guard;
pub mod jwks;
#[cfg(feature = "openapi")]
pub mod openapi;
pub(crate) mod openapi_order;
pub(crate) mod respond;
pub(crate) mod sentinel;
pub(crate) mod session;
pub mod testing;
