//! The setup link's identity check (SET-1, SET-2).

use super::{page, render, Frame};

page! {
    SetupPage "setup/setup.html" {
    csrf: &'a str,
    token: &'a str,
    error: Option<&'a str>,
    email: &'a str,
    name: &'a str,
    phone: &'a str,
    }
}

pub struct IdentityForm<'a> {
    pub token: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub phone: &'a str,
}

pub fn setup(f: &Frame<'_>, form: &IdentityForm<'_>, error: Option<&str>) -> String {
    render(&SetupPage {
        head: f.head("setup.title"),
        csrf: f.csrf,
        token: form.token,
        error,
        email: form.email,
        name: form.name,
        phone: form.phone,
    })
}
