//! The setup link's identity check (SET-1, SET-2).

use askama::Template;

use super::{render, switch_href, Tr};
use crate::i18n::{t, Lang};
use crate::web::Request;

#[derive(Template)]
#[template(path = "setup/setup.html")]
struct SetupPage<'a> {
    tr: Tr,
    brand: &'a str,
    title: &'static str,
    switch_href: String,
    csrf: &'a str,
    token: &'a str,
    error: Option<&'a str>,
    email: &'a str,
    name: &'a str,
    phone: &'a str,
}

pub struct IdentityForm<'a> {
    pub token: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub phone: &'a str,
}

pub fn setup(
    lang: Lang,
    req: &Request,
    brand: &str,
    csrf: &str,
    form: &IdentityForm<'_>,
    error: Option<&str>,
) -> String {
    render(&SetupPage {
        tr: Tr(lang),
        brand,
        title: t(lang, "setup.title"),
        switch_href: switch_href(req, lang),
        csrf,
        token: form.token,
        error,
        email: form.email,
        name: form.name,
        phone: form.phone,
    })
}
