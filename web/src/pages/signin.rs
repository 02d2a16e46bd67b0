//! Sign-in pages: the password step, the second factor (MFA-3..7), the
//! terms (TOS-1) and the dashboard.

use super::{page, render, switch_href, Frame, Head};
use crate::i18n::{t, Lang};

page! {
    LoginPage "signin/login.html" {
    csrf: &'a str,
    error: Option<&'a str>,
    notice: Option<&'a str>,
    login_id: &'a str,
    lock_rule: String,
    /// MFA-10: the passkey button (the portal's script shows it where the
    /// browser has WebAuthn).
    passwordless: bool,
    }
}

/// The password step; `lock` is LOG-2's rule (failures, minutes), stated in
/// general words (LOG-5): never whether this account is locked.
pub fn login(
    f: &Frame<'_>,
    error: Option<&str>,
    notice: Option<&str>,
    login_id: &str,
    lock: (u32, u64),
    passwordless: bool,
) -> String {
    let lock_rule = t(f.lang, "login.lock_rule")
        .replace("{n}", &lock.0.to_string())
        .replace("{minutes}", &lock.1.to_string());
    render(&LoginPage {
        head: f.head("login.title"),
        csrf: f.csrf,
        error,
        notice,
        login_id,
        lock_rule,
        passwordless,
    })
}

page! {
    MfaPage "signin/mfa.html" {
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
}

/// What the challenge page shows.
pub struct Challenge<'a> {
    /// `totp`, `email`, `sms`, `voice` or `recovery`.
    pub method: &'a str,
    /// Where an e-mail, SMS or voice code goes (numbers masked).
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
        "voice" => t(lang, "enroll.voice"),
        "passkey" => t(lang, "enroll.passkey"),
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
        ("passkey", _, _) => t(lang, "passkey.instruction").to_string(),
        // MFA-9: a call, read out.
        ("voice", Lang::Ja, true) => format!("{} に電話をかけ、ワンタイムパスワードを読み上げます。聞き取った6桁のコードを入力してください。", c.destination),
        ("voice", Lang::En, true) => format!("We call {} and read out a one-time code. Enter the 6 digits you hear.", c.destination),
        ("voice", Lang::Ja, false) => format!("「{}」を押すと、{} に電話をかけ、ワンタイムパスワードを読み上げます。聞き取った6桁のコードを入力してください。", t(lang, "voice.call"), c.destination),
        ("voice", Lang::En, false) => format!("Press “{}” and we call {} to read out a one-time code. Enter the 6 digits you hear.", t(lang, "voice.call"), c.destination),
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
    let mut others: Vec<(&'static str, &'static str)> =
        ["totp", "email", "sms", "voice", "passkey"]
            .into_iter()
            .filter(|m| *m != c.method && c.enrolled.iter().any(|e| e == m))
            .map(|m| (m, method_label(lang, m)))
            .collect();
    if c.method != "recovery" {
        others.push(("recovery", t(lang, "mfa.recovery")));
    }
    render(&MfaPage {
        head: Head {
            switch_href,
            ..Head::new(lang, f.req, f.brand, t(lang, "mfa.title"))
        },
        csrf: f.csrf,
        method: c.method,
        instruction,
        send_channel: match c.method {
            "email" => Some("email"),
            "sms" => Some("sms"),
            "voice" => Some("voice"),
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

page! {
    TermsPage "signin/terms.html" {
    csrf: &'a str,
    version: &'a str,
    privacy_version: &'a str,
    docs: Vec<super::DocLink>,
    error: Option<&'a str>,
    }
}

/// TOS-1: the terms and the privacy policy of the current versions, linked
/// in the page's language, to accept.
pub fn terms(f: &Frame<'_>, error: Option<&str>) -> String {
    render(&TermsPage {
        head: f.head("terms.title"),
        csrf: f.csrf,
        version: &f.documents.terms_version,
        privacy_version: &f.documents.privacy_version,
        docs: super::doc_links(f),
        error,
    })
}

page! {
    DashboardPage "signin/dashboard.html" {
    csrf: &'a str,
    name: &'a str,
    login_id: &'a str,
    tenant_id: &'a str,
    methods: Vec<(&'a str, &'static str)>,
    recovery_left: usize,
    /// ADM: an admin's links to the users and the tenant's sign-ins.
    admin: bool,
    /// MFA-10: the user's passkeys, to rename or remove.
    passkeys: Vec<PasskeyRow>,
    /// MFA-8: removing one asks the password when the last proof is stale.
    ask_password: bool,
    error: Option<&'a str>,
    notice: Option<&'a str>,
    }
}

/// MFA-10: a passkey on the dashboard.
pub struct PasskeyRow {
    pub id: String,
    pub name: String,
    pub added: String,
    pub last_used: String,
    pub synced: bool,
    pub passwordless: bool,
}

/// The signed-in home page.
pub struct Dashboard<'a> {
    pub user: &'a tobira::model::User,
    pub recovery_left: usize,
    /// MFA-8: a factor change would ask the password again.
    pub ask_password: bool,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
}

pub fn dashboard(f: &Frame<'_>, d: &Dashboard<'_>) -> String {
    render(&DashboardPage {
        head: f.head("dashboard.title"),
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
        admin: d.user.role == tobira::model::Role::Admin,
        passkeys: d
            .user
            .passkeys
            .iter()
            .map(|p| PasskeyRow {
                id: p.id.clone(),
                name: p.name.clone(),
                added: p.created_at.jst(),
                last_used: p.last_used_at.map_or_else(
                    || t(f.lang, "passkey.never_used").to_string(),
                    |at| at.jst(),
                ),
                synced: p.backed_up,
                passwordless: p.discoverable == Some(true),
            })
            .collect(),
        ask_password: d.ask_password,
        error: d.error,
        notice: d.notice,
    })
}
