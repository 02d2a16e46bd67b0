//! Claiming a legacy account (CLM-1..3).

use super::{page, render, Frame};

page! {
    ClaimPage "claim/claim.html" {
    csrf: &'a str,
    error: Option<&'a str>,
    service_id: &'a str,
    }
}

/// CLM-1 (and CLM-3 when signed in): a legacy service ID and its password.
pub fn claim(f: &Frame<'_>, error: Option<&str>, service_id: &str) -> String {
    render(&ClaimPage {
        head: f.head("claim.title"),
        csrf: f.csrf,
        error,
        service_id,
    })
}

page! {
    ClaimRegisterPage "claim/claim_register.html" {
    csrf: &'a str,
    error: Option<&'a str>,
    email: &'a str,
    accept_terms: bool,
    accept_privacy: bool,
    docs: Vec<super::DocLink>,
    }
}

/// What the CLM-2 registration form shows again after a refusal.
pub struct ClaimRegisterForm<'a> {
    pub email: &'a str,
    pub accept_terms: bool,
    pub accept_privacy: bool,
}

/// CLM-2: the e-mail that becomes the login ID, the terms and the privacy policy.
pub fn claim_register(f: &Frame<'_>, form: &ClaimRegisterForm<'_>, error: Option<&str>) -> String {
    render(&ClaimRegisterPage {
        head: f.head("claim_register.title"),
        csrf: f.csrf,
        error,
        email: form.email,
        accept_terms: form.accept_terms,
        accept_privacy: form.accept_privacy,
        docs: super::doc_links(f),
    })
}
