//! `sqlx::migrate!` embeds `migrations/` at compile time; rebuild when a
//! migration is added, not only when an existing one changes.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
