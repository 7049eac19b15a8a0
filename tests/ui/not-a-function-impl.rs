use auth_core::protected;

pub struct Items;

#[protected(scopes = "read:items")]
impl Items {
    pub fn list(&self) {}
}

fn main() {}
