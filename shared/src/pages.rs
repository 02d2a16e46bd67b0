//! Pages (SES-3): server-rendered HTML, Japanese and English, no JavaScript,
//! forms that post. Templates are in `shared/templates/` (askama: escaped
//! by default, checked at compile time).

use askama::Template;

use crate::i18n::{t, Lang};
use crate::web::Request;

/// The translation helper templates call as `tr.t("key")`.
pub struct Tr(pub Lang);

impl Tr {
    pub fn t(&self, key: &str) -> &'static str {
        t(self.0, key)
    }
    pub fn code(&self) -> &'static str {
        self.0.code()
    }
    pub fn other_code(&self) -> &'static str {
        self.0.other().code()
    }
}

/// The same page in the other language, keeping the query (e.g. a token).
pub fn switch_href(req: &Request, lang: Lang) -> String {
    let mut pairs: Vec<(String, String)> = req
        .uri()
        .query()
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k != "lang")
        .collect();
    pairs.push(("lang".into(), lang.other().code().into()));
    let q = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    let path = if req.method() == http::Method::GET {
        req.uri().path()
    } else {
        "/login"
    };
    format!("{path}?{q}")
}

fn render(t: &impl Template) -> String {
    t.render().expect("templates render")
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    tr: Tr,
    brand: &'a str,
    title: &'static str,
    switch_href: String,
    csrf: &'a str,
    error: Option<&'a str>,
    notice: Option<&'a str>,
    login_id: &'a str,
}

pub fn login(
    lang: Lang,
    req: &Request,
    brand: &str,
    csrf: &str,
    error: Option<&str>,
    notice: Option<&str>,
    login_id: &str,
) -> String {
    render(&LoginPage {
        tr: Tr(lang),
        brand,
        title: t(lang, "login.title"),
        switch_href: switch_href(req, lang),
        csrf,
        error,
        notice,
        login_id,
    })
}

#[derive(Template)]
#[template(path = "setup.html")]
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

pub struct RuleLine {
    pub code: &'static str,
    pub label: String,
    pub unmet: bool,
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage<'a> {
    tr: Tr,
    brand: &'a str,
    title: &'static str,
    switch_href: String,
    csrf: &'a str,
    error: Option<&'a str>,
    rules: Vec<RuleLine>,
    /// Where the form posts: `/setup/password` or `/password/reset`.
    action: &'a str,
    /// The password link's token, carried in the form (`/password/reset`).
    token: Option<&'a str>,
}

/// The password form with the preset's rules as a checklist; `unmet` marks
/// the ones the last attempt missed (PW-3 shows every unmet rule).
pub fn password(
    lang: Lang,
    req: &Request,
    brand: &str,
    csrf: &str,
    preset: crate::password::Preset,
    unmet: &[&str],
    error: Option<&str>,
) -> String {
    render(&PasswordPage {
        tr: Tr(lang),
        brand,
        title: t(lang, "password.title"),
        switch_href: switch_href(req, lang),
        csrf,
        error,
        rules: rule_lines(lang, preset, unmet),
        action: "/setup/password",
        token: None,
    })
}

/// The same password form for a password link (RST-4, CLM-2): posts to
/// `/password/reset` with the link's token in a hidden field.
pub fn password_reset(
    lang: Lang,
    req: &Request,
    config: &crate::config::Config,
    csrf: &str,
    token: &str,
    unmet: &[&str],
    error: Option<&str>,
) -> String {
    render(&PasswordPage {
        tr: Tr(lang),
        brand: &config.brand,
        title: t(lang, "password.title"),
        switch_href: switch_href(req, lang),
        csrf,
        error,
        rules: rule_lines(lang, config.password_preset, unmet),
        action: "/password/reset",
        token: Some(token),
    })
}

fn rule_lines(lang: Lang, preset: crate::password::Preset, unmet: &[&str]) -> Vec<RuleLine> {
    let r = preset.rules();
    let mut rules = vec![RuleLine {
        code: "length",
        label: match lang {
            Lang::Ja => format!("{}〜{}文字", r.min, r.max),
            Lang::En => format!("{} to {} characters", r.min, r.max),
        },
        unmet: unmet.contains(&"length"),
    }];
    let mut codes = vec!["lower", "upper", "digit"];
    if r.symbol_required {
        codes.push("symbol");
    }
    codes.push("characters");
    for c in codes {
        rules.push(RuleLine {
            code: c,
            label: t(lang, &format!("rule.{c}")).to_string(),
            unmet: unmet.contains(&c),
        });
    }
    rules
}

#[derive(Template)]
#[template(path = "claim.html")]
struct ClaimPage<'a> {
    tr: Tr,
    brand: &'a str,
    title: &'static str,
    switch_href: String,
    csrf: &'a str,
    error: Option<&'a str>,
    service_id: &'a str,
}

/// CLM-1 (and CLM-3 when signed in): a legacy service ID and its password.
pub fn claim(
    lang: Lang,
    req: &Request,
    brand: &str,
    csrf: &str,
    error: Option<&str>,
    service_id: &str,
) -> String {
    render(&ClaimPage {
        tr: Tr(lang),
        brand,
        title: t(lang, "claim.title"),
        switch_href: switch_href(req, lang),
        csrf,
        error,
        service_id,
    })
}

#[derive(Template)]
#[template(path = "claim_register.html")]
struct ClaimRegisterPage<'a> {
    tr: Tr,
    brand: &'a str,
    title: &'static str,
    switch_href: String,
    csrf: &'a str,
    error: Option<&'a str>,
    email: &'a str,
    accept_terms: bool,
    accept_privacy: bool,
}

/// What the CLM-2 registration form shows again after a refusal.
pub struct ClaimRegisterForm<'a> {
    pub email: &'a str,
    pub accept_terms: bool,
    pub accept_privacy: bool,
}

/// CLM-2: the e-mail that becomes the login ID, the terms and the privacy policy.
pub fn claim_register(
    lang: Lang,
    req: &Request,
    brand: &str,
    csrf: &str,
    form: &ClaimRegisterForm<'_>,
    error: Option<&str>,
) -> String {
    render(&ClaimRegisterPage {
        tr: Tr(lang),
        brand,
        title: t(lang, "claim_register.title"),
        switch_href: switch_href(req, lang),
        csrf,
        error,
        email: form.email,
        accept_terms: form.accept_terms,
        accept_privacy: form.accept_privacy,
    })
}

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage<'a> {
    tr: Tr,
    brand: &'a str,
    title: &'static str,
    switch_href: String,
    csrf: &'a str,
    error: Option<&'a str>,
}

/// RST-4: the identity entry (login ID, e-mail, name, phone) that mails a
/// password link. Nothing entered is shown again: the answer is always the
/// same page.
pub fn forgot(lang: Lang, req: &Request, brand: &str, csrf: &str, error: Option<&str>) -> String {
    render(&ForgotPage {
        tr: Tr(lang),
        brand,
        title: t(lang, "forgot.title"),
        switch_href: switch_href(req, lang),
        csrf,
        error,
    })
}

#[derive(Template)]
#[template(path = "enroll.html")]
struct EnrollPage<'a> {
    tr: Tr,
    brand: &'a str,
    title: &'static str,
    switch_href: String,
    csrf: &'a str,
    login_id: &'a str,
}

/// The choice of second factor after the first password sign-in (SET-4, LOG-4).
pub fn enroll(lang: Lang, req: &Request, brand: &str, csrf: &str, login_id: &str) -> String {
    render(&EnrollPage {
        tr: Tr(lang),
        brand,
        title: t(lang, "enroll.title"),
        switch_href: switch_href(req, lang),
        csrf,
        login_id,
    })
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    tr: Tr,
    brand: &'a str,
    title: &'a str,
    switch_href: String,
    text: &'a str,
}

pub fn message(lang: Lang, req: &Request, brand: &str, title: &str, text: &str) -> String {
    render(&MessagePage {
        tr: Tr(lang),
        brand,
        title,
        switch_href: switch_href(req, lang),
        text,
    })
}

pub struct OutboxLine {
    pub channel: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub sent_at: String,
    pub links: Vec<String>,
}

#[derive(Template)]
#[template(path = "outbox.html")]
struct OutboxPage<'a> {
    tr: Tr,
    brand: &'a str,
    title: &'a str,
    switch_href: String,
    entries: Vec<OutboxLine>,
}

/// `/_dev/outbox` (local mode).
pub fn outbox(req: &Request, brand: &str, entries: Vec<OutboxLine>) -> String {
    let lang = Lang::En;
    render(&OutboxPage {
        tr: Tr(lang),
        brand,
        title: "Outbox",
        switch_href: switch_href(req, lang),
        entries,
    })
}
