//! Placeholder: the forgot-password timing benchmark is being written.
fn main() {}
