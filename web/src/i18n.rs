//! The page strings, Japanese and English (SES-3, MSG-1). Keys the domain
//! owns for its mails (a case's kind and status, the factor labels) fall
//! through to `tobira::i18n::t`. The words of errors are in `errors.tsv`,
//! beside the one error mapping.

use std::sync::LazyLock;

use tobira::i18n::Catalogue;
pub use tobira::i18n::Lang;

/// The page strings (`i18n.tsv`, `key<TAB>ja<TAB>en`).
static PAGES: LazyLock<Catalogue> = LazyLock::new(|| Catalogue::compiled(include_str!("i18n.tsv")));

/// The text of `key` for a page: the page strings, then the domain's; a
/// missing key shows itself as "??".
pub fn t(lang: Lang, key: &str) -> &'static str {
    PAGES
        .get(lang, key)
        .unwrap_or_else(|| tobira::i18n::t(lang, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_catalogue_parses_and_falls_back_to_the_domain() {
        assert!(Catalogue::parse(include_str!("i18n.tsv")).is_ok());
        assert_eq!(t(Lang::Ja, "login.title"), "サインイン");
        assert_eq!(t(Lang::En, "enroll.totp"), "Authenticator app (TOTP)");
    }

    #[test]
    fn every_redirect_message_has_words() {
        for (word, key) in crate::views::FLASHES {
            for lang in [Lang::Ja, Lang::En] {
                assert_ne!(
                    t(lang, key),
                    "??",
                    "?notice/error={word}: {key} has no {lang:?} text"
                );
            }
        }
    }

    #[test]
    fn every_template_key_is_in_the_catalogue() {
        let templates = [
            include_str!("../templates/layout.html"),
            include_str!("../templates/signout.html"),
            include_str!("../templates/signin/login.html"),
            include_str!("../templates/setup/setup.html"),
            include_str!("../templates/password/password.html"),
            include_str!("../templates/enrol/enroll.html"),
            include_str!("../templates/message.html"),
            include_str!("../templates/claim/claim.html"),
            include_str!("../templates/claim/claim_register.html"),
            include_str!("../templates/password/forgot.html"),
            include_str!("../templates/signin/mfa.html"),
            include_str!("../templates/countdown.html"),
            include_str!("../templates/enrol/enroll_totp.html"),
            include_str!("../templates/enrol/enroll_phone.html"),
            include_str!("../templates/enrol/enroll_code.html"),
            include_str!("../templates/enrol/recovery.html"),
            include_str!("../templates/signin/terms.html"),
            include_str!("../templates/signin/dashboard.html"),
            include_str!("../templates/cases/cases.html"),
            include_str!("../templates/cases/case.html"),
            include_str!("../templates/cases/case_new.html"),
            include_str!("../templates/history/sign_ins.html"),
            include_str!("../templates/admin/users.html"),
            include_str!("../templates/admin/user.html"),
            include_str!("../templates/admin/user_form.html"),
        ];
        for text in templates {
            for part in text.split("tr.t(\"").skip(1) {
                let key = &part[..part.find('"').unwrap()];
                for lang in [Lang::Ja, Lang::En] {
                    assert_ne!(t(lang, key), "??", "{key} has no {lang:?} text");
                }
            }
        }
    }
}
