//! MFA-8: the notice mailed when a second factor is added, replaced or
//! removed, in
//! the user's language (MSG-1). It names the method and, for SMS, the
//! number masked; it never holds a code, a TOTP secret or a recovery code
//! (MSG-2).

use crate::clock::Timestamp;
use crate::delivery::Mail;
use crate::i18n::{t, Lang};
use crate::messages::compose;
use crate::model::Method;

/// What happened to the method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactorChange {
    Added,
    /// Set up again: a new authenticator, a new SMS number, the address re-proved.
    Replaced,
    /// MFA-10: one passkey of several removed.
    Removed,
}

/// The notice of a factor change. `phone` is the masked SMS or voice number.
#[allow(clippy::too_many_arguments)]
pub fn factor_notice_mail(
    brand: &str,
    lang: Lang,
    to: &str,
    name: &str,
    method: Method,
    change: FactorChange,
    phone: Option<&str>,
    at: Timestamp,
) -> Mail {
    let label = t(
        lang,
        match method {
            Method::Totp => "enroll.totp",
            Method::Email => "enroll.email",
            Method::Sms => "enroll.sms",
            Method::Voice => "enroll.voice",
            Method::Passkey => "enroll.passkey",
        },
    );
    let label = match phone {
        Some(p) => format!("{label} ({p})"),
        None => label.to_string(),
    };
    let added = change == FactorChange::Added;
    let (ja_what, en_what) = match change {
        FactorChange::Added => ("追加されました", "added"),
        FactorChange::Replaced => (
            "設定し直されました（以前の設定は使えません）",
            "set up again (the previous set-up no longer works)",
        ),
        FactorChange::Removed => (
            "削除されました（もう使えません）",
            "removed (it no longer works)",
        ),
    };
    let paragraphs = match lang {
        Lang::Ja => vec![
            format!("{name} 様"),
            format!(
                "{} に、あなたのアカウントの2段階認証の方法「{label}」が{ja_what}。",
                at.jst()
            ),
            if added {
                "「この端末を記憶する」で記憶した端末は解除されました。"
            } else {
                "この操作をした画面以外のすべての端末でサインアウトされ、「この端末を記憶する」で記憶した端末も解除されました。"
            }
            .to_string(),
            "お心当たりのない場合は、すぐにパスワードを再設定し、管理者にご連絡ください。"
                .to_string(),
            brand.to_string(),
        ],
        Lang::En => vec![
            format!("Dear {name},"),
            format!(
                "The two-step verification method \"{label}\" was {en_what} for your account at {} ({}).",
                at.jst(),
                at.rfc3339()
            ),
            if added {
                "Devices remembered with \"remember this device\" were forgotten."
            } else {
                "You have been signed out everywhere except where you made the change, and devices remembered with \"remember this device\" were forgotten."
            }
            .to_string(),
            "If this was not you, reset your password now and contact your administrator."
                .to_string(),
            brand.to_string(),
        ],
    };
    let subject = match (lang, change) {
        (Lang::Ja, FactorChange::Added) => format!("{brand} 2段階認証の方法追加のお知らせ"),
        (Lang::Ja, FactorChange::Replaced) => format!("{brand} 2段階認証の方法変更のお知らせ"),
        (Lang::Ja, FactorChange::Removed) => format!("{brand} 2段階認証の方法削除のお知らせ"),
        (Lang::En, FactorChange::Added) => {
            format!("{brand}: a two-step verification method was added")
        }
        (Lang::En, FactorChange::Replaced) => {
            format!("{brand}: a two-step verification method was changed")
        }
        (Lang::En, FactorChange::Removed) => {
            format!("{brand}: a two-step verification method was removed")
        }
    };
    compose(to, subject, &paragraphs, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    // MFA-8, MSG-1, MSG-2
    #[test]
    fn mfa_8_the_notice_names_the_method_in_both_languages_and_holds_no_number() {
        let at = Timestamp::from_secs(1_795_262_400);
        let ja = factor_notice_mail(
            "tobira",
            Lang::Ja,
            "u@example.com",
            "山田",
            Method::Sms,
            FactorChange::Added,
            Some("+81****0000"),
            at,
        );
        assert!(ja.subject.contains("追加"), "{}", ja.subject);
        assert!(ja.text.contains("SMS") && ja.text.contains("+81****0000"));
        let en = factor_notice_mail(
            "tobira",
            Lang::En,
            "u@example.com",
            "Yamada",
            Method::Totp,
            FactorChange::Replaced,
            None,
            at,
        );
        assert!(en.subject.contains("changed"), "{}", en.subject);
        assert!(en.text.contains("Authenticator app"), "{}", en.text);
        // No six digits in a row: nothing that reads as a code.
        for m in [&ja, &en] {
            let digits: Vec<&str> = m
                .text
                .split(|c: char| !c.is_ascii_digit())
                .filter(|w| w.len() >= 6)
                .collect();
            assert!(digits.is_empty(), "{digits:?} in {}", m.text);
        }
    }
}
