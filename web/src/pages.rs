//! Pages (SES-3): server-rendered HTML, Japanese and English, no JavaScript,
//! forms that post. Templates are in `web/templates/` (askama: escaped
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
    } else if let Some(case) = case_page_of_post(req.uri().path()) {
        case
    } else {
        get_page_of_post(req.uri().path())
    };
    format!("{}?{q}", same_origin_path(path))
}

/// A request's path as a link that stays on this portal: exactly one `/`
/// followed by something other than `/` or `\`, and nothing a browser
/// strips or reads as a separator. `//host/` and `/\host/` would be read as
/// another origin (an open redirect); those, and anything odd, become `/`.
pub fn same_origin_path(path: &str) -> &str {
    let b = path.as_bytes();
    let odd =
        |c: &u8| *c == b'\\' || c.is_ascii_control() || c.is_ascii_whitespace() || !c.is_ascii();
    match b {
        [b'/'] => path,
        [b'/', second, ..] if *second != b'/' && !b.iter().any(odd) => path,
        _ => "/",
    }
}

/// The page a form post's answer page stands for, so that the language
/// switch on it stays on that step instead of leaving it: a page answered
/// to a POST cannot be fetched again with GET.
/// A case's form posts (`/cases/new`, `/cases/{id}/comments`, …) stand
/// for the case's page (or the new-case form).
fn case_page_of_post(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/cases/")?;
    Some(match rest.split_once('/') {
        Some((id, _)) => &path[.."/cases/".len() + id.len()],
        None => path,
    })
}

fn get_page_of_post(path: &str) -> &'static str {
    match path {
        // The key is shown only to the POST that made it: the choice of
        // method starts the set-up again (in the other language).
        "/enroll/totp" | "/enroll/totp/confirm" => "/enroll",
        "/enroll/email" => "/enroll/email",
        "/otp/sms" => "/enroll/sms",
        "/otp/sms/verify" => "/enroll/sms/verify",
        "/login/mfa" => "/login/mfa",
        "/terms" => "/terms",
        "/mfa/recovery/regenerate" | "/devices/forget" => "/",
        _ => "/login",
    }
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
    /// PW-5: the form asks for the current password too.
    current: bool,
}

/// The password form with the preset's rules as a checklist; `unmet` marks
/// the ones the last attempt missed (PW-3 shows every unmet rule).
pub fn password(
    lang: Lang,
    req: &Request,
    brand: &str,
    csrf: &str,
    preset: tobira::password::Preset,
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
        current: false,
    })
}

/// The same password form for a password link (RST-4, CLM-2): posts to
/// `/password/reset` with the link's token in a hidden field.
pub fn password_reset(
    lang: Lang,
    req: &Request,
    config: &tobira::config::Config,
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
        current: false,
    })
}

/// PW-5: the change-password form of a signed-in user.
pub fn password_change(
    f: &Frame<'_>,
    preset: tobira::password::Preset,
    unmet: &[&str],
    error: Option<&str>,
) -> String {
    render(&PasswordPage {
        tr: Tr(f.lang),
        brand: f.brand,
        title: t(f.lang, "password.change_title"),
        switch_href: switch_href(f.req, f.lang),
        csrf: f.csrf,
        error,
        rules: rule_lines(f.lang, preset, unmet),
        action: "/password/change",
        token: None,
        current: true,
    })
}

fn rule_lines(lang: Lang, preset: tobira::password::Preset, unmet: &[&str]) -> Vec<RuleLine> {
    let r = preset.rules();
    let mut rules = vec![RuleLine {
        code: "length",
        label: match lang {
            Lang::Ja => format!("{}〜{}文字", r.min, r.max),
            Lang::En => format!("{} to {} characters", r.min, r.max),
        },
        unmet: unmet.contains(&"length"),
    }];
    let codes = tobira::password::all_rules(preset);
    for c in codes.into_iter().skip(1) {
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

/// What every page of the two-step flow starts from.
pub struct Frame<'a> {
    pub lang: Lang,
    pub req: &'a Request,
    pub brand: &'a str,
    pub csrf: &'a str,
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
    /// Each method offered, and whether the user has it already.
    methods: Vec<(String, bool)>,
    adding: bool,
    ask_password: bool,
    error: Option<&'a str>,
}

/// What the choice of second factor shows (SET-4, MFA-2, MFA-8).
pub struct EnrollChoice<'a> {
    pub login_id: &'a str,
    /// The methods this user may enrol now.
    pub methods: &'a [tobira::mfa::Method],
    /// The user's methods: marked as in use, their button sets one up
    /// again (a new authenticator replaces the old one).
    pub enrolled: &'a [String],
    /// A signed-in user adding another method.
    pub adding: bool,
    /// MFA-8: each form asks the password (the last proof is not fresh).
    pub ask_password: bool,
    pub error: Option<&'a str>,
}

/// The choice of second factor (SET-4, MFA-2, MFA-8).
pub fn enroll(f: &Frame<'_>, c: &EnrollChoice<'_>) -> String {
    render(&EnrollPage {
        tr: Tr(f.lang),
        brand: f.brand,
        title: t(f.lang, "enroll.title"),
        switch_href: switch_href(f.req, f.lang),
        csrf: f.csrf,
        login_id: c.login_id,
        methods: c
            .methods
            .iter()
            .map(|m| {
                (
                    m.as_str().to_string(),
                    c.enrolled.iter().any(|e| e == m.as_str()),
                )
            })
            .collect(),
        adding: c.adding,
        ask_password: c.ask_password,
        error: c.error,
    })
}

#[derive(Template)]
#[template(path = "mfa.html")]
struct MfaPage<'a> {
    tr: Tr,
    brand: &'a str,
    title: &'static str,
    switch_href: String,
    csrf: &'a str,
    method: &'a str,
    instruction: String,
    send_channel: Option<&'static str>,
    code_live: bool,
    resend_in_s: u64,
    remember_label: String,
    others: Vec<(&'static str, &'static str)>,
    error: Option<&'a str>,
    notice: Option<&'a str>,
}

/// What the challenge page shows.
pub struct Challenge<'a> {
    /// `totp`, `email`, `sms` or `recovery`.
    pub method: &'a str,
    /// Where an e-mail or SMS code goes (masked for SMS).
    pub destination: String,
    pub code_live: bool,
    pub resend_in_s: u64,
    pub enrolled: &'a [String],
    pub remember_hours: u64,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
}

fn method_label(lang: Lang, m: &str) -> &'static str {
    match m {
        "totp" => t(lang, "enroll.totp"),
        "email" => t(lang, "enroll.email"),
        "sms" => t(lang, "enroll.sms"),
        _ => t(lang, "mfa.recovery"),
    }
}

fn duration_text(lang: Lang, hours: u64) -> String {
    let whole_days = hours / 24 * 24 == hours;
    match (lang, whole_days) {
        (Lang::Ja, true) => format!("{}日間", hours / 24),
        (Lang::Ja, false) => format!("{hours}時間"),
        (Lang::En, true) => format!("{} days", hours / 24),
        (Lang::En, false) => format!("{hours} hours"),
    }
}

/// LOG-4, MFA-3..8: the second-factor challenge with "try another method".
pub fn mfa(f: &Frame<'_>, c: &Challenge<'_>) -> String {
    let lang = f.lang;
    // An e-mail or SMS code is sent only by the button: until then the page
    // says so, instead of having the user wait for a code that never comes.
    let instruction = match (c.method, lang, c.code_live) {
        ("totp", _, _) => t(lang, "mfa.totp_instruction").to_string(),
        ("recovery", _, _) => t(lang, "mfa.recovery_instruction").to_string(),
        (_, Lang::Ja, true) => format!("{} にワンタイムパスワードを送りました。届いた6桁のコードを入力してください。", c.destination),
        (_, Lang::En, true) => format!("We sent a one-time code to {}. Enter the 6 digits it holds.", c.destination),
        (_, Lang::Ja, false) => format!("「{}」を押すと、{} にワンタイムパスワードを送ります。届いた6桁のコードを入力してください。", t(lang, "code.send"), c.destination),
        (_, Lang::En, false) => format!("Press “{}” and we send a one-time code to {}. Enter the 6 digits it holds.", t(lang, "code.send"), c.destination),
    };
    // The language switch of an answer to a refused code keeps the method.
    let switch_href = if f.req.method() == http::Method::GET {
        switch_href(f.req, lang)
    } else {
        format!(
            "/login/mfa?method={}&lang={}",
            c.method,
            lang.other().code()
        )
    };
    let remember_label = match lang {
        Lang::Ja => format!(
            "このデバイスを{}記憶する（2段階認証を省略。パスワードは毎回必要です）",
            duration_text(lang, c.remember_hours)
        ),
        Lang::En => format!(
            "Remember this device for {} (skips this step, never the password)",
            duration_text(lang, c.remember_hours)
        ),
    };
    let mut others: Vec<(&'static str, &'static str)> = ["totp", "email", "sms"]
        .into_iter()
        .filter(|m| *m != c.method && c.enrolled.iter().any(|e| e == m))
        .map(|m| (m, method_label(lang, m)))
        .collect();
    if c.method != "recovery" {
        others.push(("recovery", t(lang, "mfa.recovery")));
    }
    render(&MfaPage {
        tr: Tr(lang),
        brand: f.brand,
        title: t(lang, "mfa.title"),
        switch_href,
        csrf: f.csrf,
        method: c.method,
        instruction,
        send_channel: match c.method {
            "email" => Some("email"),
            "sms" => Some("sms"),
            _ => None,
        },
        code_live: c.code_live,
        resend_in_s: c.resend_in_s,
        remember_label,
        others,
        error: c.error,
        notice: c.notice,
    })
}

#[derive(Template)]
#[template(path = "enroll_totp.html")]
struct TotpPage<'a> {
    tr: Tr,
    brand: &'a str,
    title: &'static str,
    switch_href: String,
    csrf: &'a str,
    qr_svg: String,
    secret_grouped: String,
    error: Option<&'a str>,
}

/// MFA-4: the QR code (inline SVG), the key as text, and the confirming code.
pub fn enroll_totp(f: &Frame<'_>, setup: &tobira::mfa::TotpSetup, error: Option<&str>) -> String {
    let secret_grouped = setup
        .secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    render(&TotpPage {
        tr: Tr(f.lang),
        brand: f.brand,
        title: t(f.lang, "totp.title"),
        switch_href: switch_href(f.req, f.lang),
        csrf: f.csrf,
        qr_svg: crate::qr::qr_svg(&setup.otpauth_uri),
        secret_grouped,
        error,
    })
}

#[derive(Template)]
#[template(path = "enroll_sms.html")]
struct SmsPage<'a> {
    tr: Tr,
    brand: &'a str,
    title: &'static str,
    switch_href: String,
    csrf: &'a str,
    /// Code, name, selected.
    countries: Vec<(&'static str, &'static str, bool)>,
    phone: &'a str,
    ask_password: bool,
    error: Option<&'a str>,
}

/// Country codes offered on the SMS page (MFA-6), Japan first.
pub const COUNTRIES: &[(&str, &str, &str)] = &[
    ("81", "日本", "Japan"),
    ("1", "米国・カナダ", "United States / Canada"),
    ("44", "英国", "United Kingdom"),
    ("82", "韓国", "South Korea"),
    ("86", "中国", "China"),
    ("852", "香港", "Hong Kong"),
    ("886", "台湾", "Taiwan"),
    ("65", "シンガポール", "Singapore"),
    ("61", "オーストラリア", "Australia"),
    ("49", "ドイツ", "Germany"),
    ("33", "フランス", "France"),
];

/// MFA-6: the number, as country code and national number.
/// MFA-8: `ask_password` when a signed-in user's password is not fresh.
pub fn enroll_sms(
    f: &Frame<'_>,
    country: &str,
    phone: &str,
    ask_password: bool,
    error: Option<&str>,
) -> String {
    render(&SmsPage {
        tr: Tr(f.lang),
        brand: f.brand,
        title: t(f.lang, "sms.title"),
        switch_href: switch_href(f.req, f.lang),
        csrf: f.csrf,
        countries: COUNTRIES
            .iter()
            .map(|(c, ja, en)| {
                (
                    *c,
                    if f.lang == Lang::Ja { *ja } else { *en },
                    *c == country,
                )
            })
            .collect(),
        phone,
        ask_password,
        error,
    })
}

#[derive(Template)]
#[template(path = "enroll_code.html")]
struct CodePage<'a> {
    tr: Tr,
    brand: &'a str,
    title: &'static str,
    switch_href: String,
    csrf: &'a str,
    instruction: String,
    confirm_action: &'a str,
    resend_channel: Option<&'static str>,
    resend_fields: Vec<(&'static str, String)>,
    resend_in_s: u64,
    error: Option<&'a str>,
    notice: Option<&'a str>,
}

/// The code that proves a new e-mail or SMS method (MFA-3, MFA-6).
pub struct EnrolCode<'a> {
    pub channel: tobira::mfa::Channel,
    pub destination: String,
    pub resend_in_s: u64,
    /// SMS: the number's country and national part, to resend to it.
    pub resend_fields: Vec<(&'static str, String)>,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
}

pub fn enroll_code(f: &Frame<'_>, c: &EnrolCode<'_>) -> String {
    use tobira::mfa::Channel;
    let (title, action, ch) = match c.channel {
        Channel::Email => ("email.title", "/enroll/email", "email"),
        Channel::Sms => ("sms.verify_title", "/otp/sms/verify", "sms"),
    };
    let instruction = match f.lang {
        Lang::Ja => format!(
            "{} にワンタイムパスワードを送りました。届いた6桁のコードを入力してください。",
            c.destination
        ),
        Lang::En => format!(
            "We sent a one-time code to {}. Enter the 6 digits it holds.",
            c.destination
        ),
    };
    render(&CodePage {
        tr: Tr(f.lang),
        brand: f.brand,
        title: t(f.lang, title),
        switch_href: switch_href(f.req, f.lang),
        csrf: f.csrf,
        instruction,
        confirm_action: action,
        resend_channel: Some(ch),
        resend_fields: c.resend_fields.clone(),
        resend_in_s: c.resend_in_s,
        error: c.error,
        notice: c.notice,
    })
}

#[derive(Template)]
#[template(path = "recovery.html")]
struct RecoveryPage<'a> {
    tr: Tr,
    brand: &'a str,
    title: &'static str,
    switch_href: String,
    csrf: &'a str,
    codes: &'a [String],
    ack_method: &'static str,
    ack_action: &'static str,
    ack_label: &'static str,
    notice: Option<&'a str>,
}

/// MFA-5: the codes, shown once, and "I have recorded these". After the
/// first enrolment the confirmation ends the session (sign in again,
/// SET-4); after a regeneration it leads back to the dashboard.
pub fn recovery(f: &Frame<'_>, codes: &[String], first: bool, notice: Option<&str>) -> String {
    render(&RecoveryPage {
        tr: Tr(f.lang),
        brand: f.brand,
        title: t(f.lang, "recovery.title"),
        // No language switch: the codes are shown once, and leaving this
        // page (to see it in the other language) would lose them (MFA-5).
        switch_href: String::new(),
        csrf: f.csrf,
        codes,
        ack_method: if first { "post" } else { "get" },
        ack_action: if first { "/enroll/recovery/ack" } else { "/" },
        ack_label: t(
            f.lang,
            if first {
                "recovery.ack_signin"
            } else {
                "recovery.ack"
            },
        ),
        notice,
    })
}

#[derive(Template)]
#[template(path = "terms.html")]
struct TermsPage<'a> {
    tr: Tr,
    brand: &'a str,
    title: &'static str,
    switch_href: String,
    csrf: &'a str,
    version: &'a str,
    error: Option<&'a str>,
}

/// TOS-1: the terms of the current version, to accept.
pub fn terms(f: &Frame<'_>, version: &str, error: Option<&str>) -> String {
    render(&TermsPage {
        tr: Tr(f.lang),
        brand: f.brand,
        title: t(f.lang, "terms.title"),
        switch_href: switch_href(f.req, f.lang),
        csrf: f.csrf,
        version,
        error,
    })
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage<'a> {
    tr: Tr,
    brand: &'a str,
    title: &'static str,
    switch_href: String,
    csrf: &'a str,
    name: &'a str,
    login_id: &'a str,
    tenant_id: &'a str,
    methods: Vec<(&'a str, &'static str)>,
    recovery_left: usize,
    error: Option<&'a str>,
    notice: Option<&'a str>,
}

/// The signed-in home page.
pub struct Dashboard<'a> {
    pub user: &'a tobira::model::User,
    pub recovery_left: usize,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
}

pub fn dashboard(f: &Frame<'_>, d: &Dashboard<'_>) -> String {
    render(&DashboardPage {
        tr: Tr(f.lang),
        brand: f.brand,
        title: t(f.lang, "dashboard.title"),
        switch_href: switch_href(f.req, f.lang),
        csrf: f.csrf,
        name: d.user.name.as_str(),
        login_id: d.user.login_id.as_str(),
        tenant_id: d.user.tenant_id.as_str(),
        methods: d
            .user
            .methods
            .iter()
            .map(|m| (m.as_str(), method_label(f.lang, m)))
            .collect(),
        recovery_left: d.recovery_left,
        error: d.error,
        notice: d.notice,
    })
}

// ------------------------------------------------------------ support cases

/// A case as a line of the list.
struct CaseLine<'a> {
    id: &'a str,
    number: &'a str,
    subject: &'a str,
    status: &'static str,
    status_label: &'static str,
    action: bool,
    category: &'a str,
    kind_label: &'static str,
    updated: String,
    created_by: &'a str,
}

#[derive(Template)]
#[template(path = "cases.html")]
struct CasesPage<'a> {
    tr: Tr,
    brand: &'a str,
    title: &'static str,
    switch_href: String,
    items: Vec<CaseLine<'a>>,
    action_needed: bool,
    q: &'a str,
    next_href: Option<String>,
    paged: bool,
    first_href: String,
    refused: Option<&'a str>,
    notice: Option<&'a str>,
    error: Option<&'a str>,
}

/// CASE-4: what the list page shows and how it was asked for.
pub struct CaseList<'a> {
    pub page: &'a tobira::cases::CasePage,
    pub action_needed: bool,
    pub q: &'a str,
    pub paged: bool,
    /// MIG-13: why this user files elsewhere (instead of "new case").
    pub refused: Option<&'a str>,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// `/cases` with the filter, keyword and (optionally) a cursor.
pub fn cases_href(action_needed: bool, q: &str, cursor: Option<&str>) -> String {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    if action_needed {
        pairs.push(("filter", "action_needed"));
    }
    if !q.is_empty() {
        pairs.push(("q", q));
    }
    if let Some(c) = cursor {
        pairs.push(("cursor", c));
    }
    match serde_urlencoded::to_string(&pairs) {
        Ok(qs) if !qs.is_empty() => format!("/cases?{qs}"),
        _ => "/cases".into(),
    }
}

pub fn cases(f: &Frame<'_>, l: &CaseList<'_>) -> String {
    let lang = f.lang;
    render(&CasesPage {
        tr: Tr(lang),
        brand: f.brand,
        title: t(lang, "cases.title"),
        switch_href: switch_href(f.req, lang),
        items: l
            .page
            .items
            .iter()
            .map(|c| CaseLine {
                id: &c.id,
                number: &c.number,
                subject: &c.subject,
                status: c.status.as_str(),
                status_label: c.status.label(lang),
                action: c.status.action_needed(),
                category: &c.category,
                kind_label: c.kind.label(lang),
                updated: c.updated_at.jst(),
                created_by: &c.created_by_name,
            })
            .collect(),
        action_needed: l.action_needed,
        q: l.q,
        next_href: l
            .page
            .next_cursor
            .as_deref()
            .map(|c| cases_href(l.action_needed, l.q, Some(c))),
        paged: l.paged,
        first_href: cases_href(l.action_needed, l.q, None),
        refused: l.refused,
        notice: l.notice,
        error: l.error,
    })
}

#[derive(Template)]
#[template(path = "case_new.html")]
struct CaseNewPage<'a> {
    tr: Tr,
    brand: &'a str,
    title: &'static str,
    switch_href: String,
    csrf: &'a str,
    /// value, label, checked
    kinds: Vec<(&'static str, &'static str, bool)>,
    /// category, selected
    categories: Vec<(&'a str, bool)>,
    subject: &'a str,
    body: &'a str,
    subject_max: usize,
    body_max: usize,
    limits: String,
    refused: Option<&'a str>,
    /// Only a link when the refusal names one (MIG-13).
    legacy_url: Option<&'a str>,
    error: Option<&'a str>,
}

/// CASE-1: what the new-case form holds (empty, or as sent when refused).
#[derive(Default)]
pub struct CaseForm<'a> {
    pub kind: &'a str,
    pub category: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

pub fn case_new(
    f: &Frame<'_>,
    policy: &tobira::config::CasePolicy,
    form: &CaseForm<'_>,
    refused: Option<&str>,
    error: Option<&str>,
) -> String {
    use tobira::cases::Kind;
    let lang = f.lang;
    let kind = if form.kind.is_empty() {
        Kind::Inquiry.as_str()
    } else {
        form.kind
    };
    render(&CaseNewPage {
        tr: Tr(lang),
        brand: f.brand,
        title: t(lang, "cases.new"),
        switch_href: switch_href(f.req, lang),
        csrf: f.csrf,
        kinds: Kind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label(lang), k.as_str() == kind))
            .collect(),
        categories: policy
            .categories
            .iter()
            .map(|c| (c.as_str(), c == form.category))
            .collect(),
        subject: form.subject,
        body: form.body,
        subject_max: policy.subject_max,
        body_max: policy.body_max,
        limits: t(lang, "case.limits")
            .replace("{subject}", &policy.subject_max.to_string())
            .replace("{body}", &policy.body_max.to_string()),
        legacy_url: refused
            .and(policy.legacy_url.as_deref())
            .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
        refused,
        error,
    })
}

struct CommentLine<'a> {
    by: &'static str,
    who: &'a str,
    at: String,
    body: &'a str,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage<'a> {
    tr: Tr,
    brand: &'a str,
    title: &'a str,
    switch_href: String,
    csrf: &'a str,
    id: &'a str,
    number: &'a str,
    subject: &'a str,
    status: &'static str,
    status_label: &'static str,
    action: bool,
    kind_label: &'static str,
    category: &'a str,
    created_by: &'a str,
    created: String,
    updated: String,
    body: &'a str,
    thread: Vec<CommentLine<'a>>,
    body_max: usize,
    can_comment: bool,
    can_close: bool,
    can_resolve: bool,
    notice: Option<&'a str>,
    error: Option<&'a str>,
}

/// CASE-3 / CASE-5: a case with its comments and what the customer may do.
pub fn case(
    f: &Frame<'_>,
    d: &tobira::cases::CaseDetail,
    body_max: usize,
    notice: Option<&str>,
    error: Option<&str>,
) -> String {
    use tobira::cases::{transition, Author, Move};
    let lang = f.lang;
    let c = &d.case;
    render(&CasePage {
        tr: Tr(lang),
        brand: f.brand,
        title: &c.number,
        switch_href: switch_href(f.req, lang),
        csrf: f.csrf,
        id: &c.id,
        number: &c.number,
        subject: &c.subject,
        status: c.status.as_str(),
        status_label: c.status.label(lang),
        action: c.status.action_needed(),
        kind_label: c.kind.label(lang),
        category: &c.category,
        created_by: &c.created_by_name,
        created: c.created_at.jst(),
        updated: c.updated_at.jst(),
        body: &c.body,
        thread: d
            .thread
            .iter()
            .map(|m| CommentLine {
                by: match m.by {
                    Author::Customer => "customer",
                    Author::Support => "support",
                },
                who: match m.by {
                    Author::Customer => &m.name,
                    Author::Support => t(lang, "case.support"),
                },
                at: m.created_at.jst(),
                body: &m.body,
            })
            .collect(),
        body_max,
        can_comment: transition(c.status, Move::Comment).is_ok(),
        can_close: transition(c.status, Move::Close).is_ok(),
        can_resolve: transition(c.status, Move::Accept).is_ok(),
        notice,
        error,
    })
}
