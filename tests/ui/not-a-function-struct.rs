use auth_core::protected;

#[protected]
pub struct Items;

fn main() {}
