//! What the toolkit tells the operator: auth events for audit trails
//! ([`events`]), a logger that summarises instead of flooding
//! ([`logger`]), and the redaction that keeps secrets out of every line
//! ([`redact`]).

pub(crate) mod events;
pub(crate) mod logger;
pub(crate) mod redact;
