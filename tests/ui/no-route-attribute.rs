use auth_core::protected;

#[protected]
fn items() {}

fn main() {
    items();
}
