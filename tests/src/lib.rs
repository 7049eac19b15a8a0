//! The workspace's test crate: everything lives in `tests/` (HTTP tests of
//! the contract) and `ui/` (trybuild compile tests of `#[protected]`).
