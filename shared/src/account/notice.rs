//! The notices of account changes (MSG-1 in the user's language, MSG-2 no
//! secret): composed here from the [`Notice`](super::Notice) the policy
//! chose, from texts of `messages` and `mfa::notice`, and the one text of
//! its own, ADM-7's.

use super::{Change, Notice};
use crate::account::factor_notice::factor_notice_mail;
use crate::app::App;
use crate::clock::Timestamp;
use crate::delivery::Mail;
use crate::i18n::Lang;
use crate::messages::{
    accounts_linked_mail, closure_mail, compose, password_notice_mail, ClosureFacts,
};
use crate::model::Method;
use crate::model::User;

impl App {
    /// The notice of `change` to `user` (as changed), if the policy mails
    /// one: addressed, in the user's language, ready to send.
    pub fn change_notice(&self, user: &User, change: &Change<'_>) -> Option<Mail> {
        let brand = &self.config.brand;
        let (lang, to, name) = (user.lang, user.email.as_str(), user.name.as_str());
        let now = self.now();
        Some(match (super::effects(change).notice, change) {
            (Notice::None, _) => return None,
            (Notice::Password { reset }, _) => {
                password_notice_mail(brand, lang, to, name, reset, now)
            }
            (
                Notice::Factor(how),
                Change::FactorEnrolled(m)
                | Change::FactorAdded(m)
                | Change::FactorReplaced(m)
                | Change::FactorRemoved(m),
            ) => {
                let phone = match m {
                    Method::Sms => user.sms_phone.as_deref().map(crate::ids::Phone::masked),
                    Method::Voice => user.voice_phone.as_deref().map(crate::ids::Phone::masked),
                    _ => None,
                };
                factor_notice_mail(brand, lang, to, name, *m, how, phone.as_deref(), now)
            }
            (Notice::Factor(_), _) => return None,
            (Notice::FactorsReset, _) => factors_reset_mail(brand, lang, to, name, now),
            // A pending user learns the new login ID from the new link.
            (Notice::LoginIdChanged, _) if user.state == crate::model::UserState::PendingSetup => {
                return None
            }
            (Notice::LoginIdChanged, _) => {
                login_id_mail(brand, lang, to, name, user.login_id.as_str(), now)
            }
            (Notice::Merged, Change::Merged { into }) => accounts_linked_mail(
                brand,
                lang,
                to,
                &user.service_ids,
                into.login_id.as_str(),
                now,
            ),
            (Notice::Merged, _) => return None,
            (Notice::WindowClosed, _) => {
                let entry = format!("{}/password/forgot", self.config.base_url);
                let ecid = user.ecid.as_ref().map(|e| e.as_str());
                closure_mail(
                    brand,
                    lang,
                    to,
                    &ClosureFacts {
                        name,
                        login_id: user.login_id.as_str(),
                        phone: &user.phone,
                        renamed_ecid: ecid.filter(|_| user.is_renamed()),
                        entry_link: &entry,
                    },
                )
            }
        })
    }
}

/// ADM-7: the user's factors were reset; the next sign-in enrols again.
fn factors_reset_mail(brand: &str, lang: Lang, to: &str, name: &str, at: Timestamp) -> Mail {
    let (subject, paragraphs) = match lang {
        Lang::Ja => (
            format!("{brand} 2段階認証のリセットのお知らせ"),
            vec![
                format!("{name} 様"),
                format!(
                    "{} に、あなたのアカウントの2段階認証の設定がリセットされました。次回のサインインで、2段階認証の方法を設定し直してください。",
                    at.jst()
                ),
                "これまでの回復コードは使えません。すべての端末でサインアウトされ、「この端末を記憶する」も解除されました。".to_string(),
                "お心当たりのない場合は、すぐに管理者にご連絡ください。".to_string(),
            ],
        ),
        Lang::En => (
            format!("{brand}: your two-step verification was reset"),
            vec![
                format!("Dear {name},"),
                format!(
                    "The two-step verification of your account was reset at {} ({}). Set up a method again at your next sign-in.",
                    at.jst(),
                    at.rfc3339()
                ),
                "Your earlier recovery codes no longer work. You have been signed out everywhere and remembered devices were forgotten.".to_string(),
                "If you did not ask for this, contact your administrator now.".to_string(),
            ],
        ),
    };
    let mut paragraphs = paragraphs;
    paragraphs.push(brand.to_string());
    compose(to, subject, &paragraphs, None)
}

/// ADM-2: an admin changed the user's login ID; the password stays.
fn login_id_mail(
    brand: &str,
    lang: Lang,
    to: &str,
    name: &str,
    login_id: &str,
    at: Timestamp,
) -> Mail {
    let paragraphs = match lang {
        Lang::Ja => vec![
            format!("{name} 様"),
            format!("{} に、管理者があなたのログインIDを変更しました。", at.jst()),
            format!("新しいログインID: {login_id}"),
            "パスワードと2段階認証の設定は変わりません。次回から新しいログインIDでサインインしてください。お心当たりのない場合は、管理者にご連絡ください。".to_string(),
        ],
        Lang::En => vec![
            format!("Dear {name},"),
            format!(
                "An administrator changed your login ID at {} ({}).",
                at.jst(),
                at.rfc3339()
            ),
            format!("Your new login ID: {login_id}"),
            "Your password and two-step verification stay as they were. Sign in with the new login ID from now on. If you did not expect this, contact your administrator.".to_string(),
        ],
    };
    let subject = match lang {
        Lang::Ja => format!("{brand} ログインID変更のお知らせ"),
        Lang::En => format!("{brand}: your login ID has changed"),
    };
    let mut paragraphs = paragraphs;
    paragraphs.push(brand.to_string());
    compose(to, subject, &paragraphs, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    // ADM-7, MSG-1, MSG-2
    #[test]
    fn the_factors_reset_notice_comes_in_both_languages_and_holds_no_code() {
        let at = Timestamp::from_secs(1_795_262_400);
        let ja = factors_reset_mail("tobira", Lang::Ja, "u@example.com", "山田", at);
        assert!(ja.subject.starts_with("tobira") && ja.subject.contains("リセット"));
        assert!(ja.text.contains("山田 様") && ja.text.contains("回復コード"));
        let en = factors_reset_mail("tobira", Lang::En, "u@example.com", "Yamada", at);
        assert!(en.subject.contains("reset") && en.text.contains("recovery codes"));
        for m in [&ja, &en] {
            assert_eq!(m.to, "u@example.com");
            let digits = m
                .text
                .split(|c: char| !c.is_ascii_digit())
                .filter(|w| w.len() >= 6)
                .count();
            assert_eq!(digits, 0, "{}", m.text);
        }
    }
}
