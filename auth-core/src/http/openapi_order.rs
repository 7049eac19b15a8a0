//! The check `#[protected]` emits against `#[openapi]` written above it
//! (see the comment on `openapi_order_check` in `auth-macros`).
//!
//! `rocket_okapi`'s `#[openapi]` leaves a function `okapi_add_operation_for_<fn>_`
//! beside the handler. `#[protected]` imports [`OPENAPI_ORDER`] under that
//! name and glob-imports it; when `#[openapi]` ran first, its
//! function shadows the constant, and [`openapi_below_protected`] gets a
//! function instead, which fails with the message below.

/// Implemented only by [`OpenApiOrder`].
#[diagnostic::on_unimplemented(
    message = "#[openapi] must be placed below #[protected], not above it: rocket_okapi \
               would document the route without its scopes",
    label = "#[openapi] is above this #[protected]",
    note = "write #[protected(..)], then #[openapi], then the route attribute (#[get], ...)"
)]
pub trait BelowProtected {}

/// What `#[protected]` names after `rocket_okapi`'s function when that
/// function does not exist.
#[derive(Clone, Copy)]
pub struct OpenApiOrder;

impl BelowProtected for OpenApiOrder {}

/// The value every `#[protected]` imports under `rocket_okapi`'s name.
pub const OPENAPI_ORDER: OpenApiOrder = OpenApiOrder;

/// Compiles only for an [`OpenApiOrder`].
pub const fn openapi_below_protected<T: BelowProtected>(_: &T) {}
