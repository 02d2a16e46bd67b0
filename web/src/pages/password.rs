//! Password pages: the first password (SET-3), "forgot password" (RST-1,
//! RST-4), the reset link (RST-5) and the change (PW-5), with the rules
//! of the preset (PW-1..3).

use super::{page, render, Frame};
use tobira::password::Preset;

use crate::i18n::{t, Lang};

pub struct RuleLine {
    pub code: &'static str,
    pub label: String,
    pub unmet: bool,
}

page! {
    PasswordPage "password/password.html" {
    csrf: &'a str,
    error: Option<&'a str>,
    rules: Vec<RuleLine>,
    /// PW-1 / PW-2, for the live checklist (`static/tobira.js`).
    limits: tobira::password::Rules,
    /// Where the form posts: `/setup/password` or `/password/reset`.
    action: &'a str,
    /// The password link's token, carried in the form (`/password/reset`).
    token: Option<&'a str>,
    /// PW-5: the form asks for the current password too.
    current: bool,
    /// The login ID the password is for, shown (read-only, not sent) so
    /// that password managers store the pair.
    username: Option<&'a str>,
    }
}

/// The new-password form (SET-3, PW-1..3): after the identity check it
/// posts to `/setup/password`; for a password link (RST-4, CLM-2, RST-5)
/// to `/password/reset` with the link's token in a hidden field.
pub fn new_password(
    f: &Frame<'_>,
    preset: Preset,
    token: Option<&str>,
    username: Option<&str>,
    unmet: &[&str],
    error: Option<&str>,
) -> String {
    render(&PasswordPage {
        head: f.head("password.title"),
        csrf: f.csrf,
        error,
        rules: rule_lines(f.lang, preset, unmet),
        limits: preset.rules(),
        action: if token.is_some() {
            "/password/reset"
        } else {
            "/setup/password"
        },
        token,
        current: false,
        username,
    })
}

/// PW-5: the change-password form of a signed-in user.
pub fn password_change(
    f: &Frame<'_>,
    preset: Preset,
    username: &str,
    unmet: &[&str],
    error: Option<&str>,
) -> String {
    render(&PasswordPage {
        head: f.head("password.change_title"),
        csrf: f.csrf,
        error,
        rules: rule_lines(f.lang, preset, unmet),
        limits: preset.rules(),
        action: "/password/change",
        token: None,
        current: true,
        username: Some(username),
    })
}

fn rule_lines(lang: Lang, preset: Preset, unmet: &[&str]) -> Vec<RuleLine> {
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

page! {
    ForgotPage "password/forgot.html" {
    csrf: &'a str,
    error: Option<&'a str>,
    }
}

/// RST-4: the identity entry (login ID, e-mail, name, phone) that mails a
/// password link. Nothing entered is shown again: the answer is always the
/// same page.
pub fn forgot(f: &Frame<'_>, error: Option<&str>) -> String {
    render(&ForgotPage {
        head: f.head("forgot.title"),
        csrf: f.csrf,
        error,
    })
}
