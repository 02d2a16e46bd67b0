//! Mail texts (MSG-1, MSG-2): subjects and bodies in the user's language.
//! A message holds no secret but the one it exists to deliver.

use crate::clock::Timestamp;
use crate::delivery::Mail;
use crate::i18n::Lang;

/// Plain text and HTML of a mail from its paragraphs; a paragraph that is
/// the link becomes an anchor in HTML.
pub(crate) fn compose(
    to: &str,
    subject: String,
    paragraphs: &[String],
    link: Option<&str>,
) -> Mail {
    let text = paragraphs.join("\n\n") + "\n";
    let html = paragraphs
        .iter()
        .map(|p| match link {
            Some(l) if p == l => format!("<p><a href=\"{}\">{}</a></p>", escape(l), escape(l)),
            _ => format!("<p>{}</p>", escape(p).replace('\n', "<br>")),
        })
        .collect::<String>();
    Mail {
        to: to.to_string(),
        subject,
        text,
        html,
    }
}

/// What a user needs after the window (MIG-12): name and phone as
/// registered, the ecid when the login ID was renamed, and where to go.
pub struct ClosureFacts<'a> {
    pub name: &'a str,
    pub login_id: &'a str,
    pub phone: &'a str,
    pub renamed_ecid: Option<&'a str>,
    pub entry_link: &'a str,
}

/// MIG-12: the notice sent to users still pending setup when the window closes.
pub fn closure_mail(brand: &str, lang: Lang, to: &str, f: &ClosureFacts<'_>) -> Mail {
    let (subject, greeting, body, facts, how, ignore) = match lang {
        Lang::Ja => (
            format!("{brand} 移行期間終了と初期設定のご案内"),
            format!("{} 様", f.name),
            format!("{brand} への移行期間は終了しました。初期設定がお済みでないため、今後はサインイン画面の「初めての方・パスワードをお忘れの方」から、ご本人確認のうえパスワードを設定してください。"),
            {
                let mut v = format!("ご本人確認に必要な情報:\nログインID: {}\nお名前: {}\n電話番号: {}", f.login_id, f.name, f.phone);
                if let Some(e) = f.renamed_ecid {
                    v.push_str(&format!("\n旧ユーザーID (ecid): {e}\n(ログインIDが他のお客さまと重複したため、末尾に旧ユーザーIDを付けています)"));
                }
                v
            },
            "これまでにお送りした初期設定のリンクは使用できなくなりました。".to_string(),
            "お心当たりのない場合は、このメールを破棄してください。".to_string(),
        ),
        Lang::En => (
            format!("{brand}: the migration period has ended"),
            format!("Dear {},", f.name),
            format!("The migration period to {brand} has ended and your account is not set up yet. From now on, use \"First time or forgot your password\" on the sign-in page: confirm your identity and set a password."),
            {
                let mut v = format!("What you will be asked for:\nLogin ID: {}\nName: {}\nPhone: {}", f.login_id, f.name, f.phone);
                if let Some(e) = f.renamed_ecid {
                    v.push_str(&format!("\nLegacy user ID (ecid): {e}\n(your login ID was shared with another user, so the legacy user ID was added to it)"));
                }
                v
            },
            "Setup links sent earlier no longer work.".to_string(),
            "If you did not expect this e-mail, please ignore it.".to_string(),
        ),
    };
    compose(
        to,
        subject,
        &[
            greeting,
            body,
            facts,
            f.entry_link.to_string(),
            how,
            ignore,
            brand.to_string(),
        ],
        Some(f.entry_link),
    )
}

/// What a password link is for: the subject and the opening line differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    /// RST-1: a forgotten password.
    Reset,
    /// RST-4 / ADM-1: the first password of an account an admin created
    /// (the mail names the login ID).
    Registration,
    /// RST-4 after an identity entry, CLM-2 after a claim: the first password.
    FirstPassword,
}

/// RST-1 / RST-4 / CLM-2: the link to set a password, with its expiry.
#[allow(clippy::too_many_arguments)]
pub fn password_link_mail(
    brand: &str,
    lang: Lang,
    to: &str,
    name: &str,
    login_id: &str,
    kind: LinkKind,
    link: &str,
    expires: Timestamp,
) -> Mail {
    let (subject, greeting, body, until, ignore) = match lang {
        Lang::Ja => (
            match kind {
                LinkKind::Reset => format!("{brand} パスワード再設定のご案内"),
                LinkKind::Registration => format!("{brand} アカウント登録のお知らせ"),
                LinkKind::FirstPassword => format!("{brand} パスワード設定のご案内"),
            },
            format!("{name} 様"),
            match kind {
                LinkKind::Reset => "パスワード再設定のご依頼を受け付けました。次のリンクを開き、新しいパスワードを設定してください。".to_string(),
                LinkKind::Registration => format!("管理者があなたのアカウントを登録しました。ログインIDは {login_id} です。次のリンクを開き、パスワードを設定してください。"),
                LinkKind::FirstPassword => "次のリンクを開き、パスワードを設定してください。".to_string(),
            },
            format!(
                "このリンクは一度だけ使用でき、{} まで有効です。",
                expires.jst()
            ),
            "お心当たりのない場合は、このメールを破棄してください。パスワードは変更されません。"
                .to_string(),
        ),
        Lang::En => (
            match kind {
                LinkKind::Reset => format!("{brand}: reset your password"),
                LinkKind::Registration => format!("{brand}: your account has been created"),
                LinkKind::FirstPassword => format!("{brand}: set your password"),
            },
            format!("Dear {name},"),
            match kind {
                LinkKind::Reset => "We received a request to reset your password. Open the link below to set a new one.".to_string(),
                LinkKind::Registration => format!("An administrator has created your account. Your login ID is {login_id}. Open the link below to set your password."),
                LinkKind::FirstPassword => "Open the link below to set your password.".to_string(),
            },
            format!(
                "The link works once and expires at {} ({}).",
                expires.jst(),
                expires.rfc3339()
            ),
            "If you did not ask for this, ignore this e-mail; nothing changes.".to_string(),
        ),
    };
    compose(
        to,
        subject,
        &[
            greeting,
            body,
            link.to_string(),
            until,
            ignore,
            brand.to_string(),
        ],
        Some(link),
    )
}

/// CLM-2: the address given is already an account's login ID.
pub fn already_registered_mail(brand: &str, lang: Lang, to: &str, login_link: &str) -> Mail {
    let (subject, body, how) = match lang {
        Lang::Ja => (
            format!("{brand} ご登録についてのお知らせ"),
            format!("このメールアドレスは、すでに {brand} のログインIDとして登録されています。"),
            "サインインのうえ、サービスIDの追加登録から旧アカウントを紐付けてください。お心当たりのない場合は、このメールを破棄してください。".to_string(),
        ),
        Lang::En => (
            format!("{brand}: about your registration"),
            format!("This e-mail address is already the login ID of a {brand} account."),
            "Sign in and link the legacy service ID from your account. If you did not expect this e-mail, please ignore it.".to_string(),
        ),
    };
    compose(
        to,
        subject,
        &[body, login_link.to_string(), how, brand.to_string()],
        Some(login_link),
    )
}

/// CLM-3 / CLM-4: a legacy account was merged into a portal account; the
/// notice goes to the legacy account's own address.
pub fn accounts_linked_mail(
    brand: &str,
    lang: Lang,
    to: &str,
    service_ids: &[String],
    into_login_id: &str,
    at: Timestamp,
) -> Mail {
    let ids = service_ids.join(", ");
    let (subject, body, not_you) = match lang {
        Lang::Ja => (
            format!("{brand} サービスIDの紐付けのお知らせ"),
            format!(
                "{} に、サービスID {ids} の旧アカウントが {brand} のアカウント {into_login_id} に紐付けられました。旧アカウントは今後ご利用いただけません。",
                at.jst()
            ),
            "お心当たりのない場合は、すぐに管理者にご連絡ください。".to_string(),
        ),
        Lang::En => (
            format!("{brand}: your legacy account was linked"),
            format!(
                "At {} ({}), the legacy account of service ID {ids} was linked to the {brand} account {into_login_id}. The legacy account can no longer be used on its own.",
                at.jst(),
                at.rfc3339()
            ),
            "If this was not you, contact your administrator now.".to_string(),
        ),
    };
    compose(to, subject, &[body, not_you, brand.to_string()], None)
}

/// SET-1: the first-time setup mail with its single-use link and its expiry.
pub fn setup_mail(brand: &str, user: &crate::model::User, link: &str, expires: Timestamp) -> Mail {
    let (lang, name, login_id) = (user.lang, user.name.as_str(), user.login_id.as_str());
    // The login ID to sign in with later: renamed ones (MIG-3) are new to
    // the user, and two contracts of one person get one mail each.
    let (subject, greeting, body, until, ignore, id_line) = match lang {
        Lang::Ja => (
            format!("{brand} 初期設定のお知らせ"),
            format!("{name} 様"),
            format!("{brand} の初期設定をお願いします。次のリンクを開き、ご本人確認のうえパスワードを設定してください。"),
            format!("このリンクは一度だけ使用でき、{} まで有効です。", expires.jst()),
            "お心当たりのない場合は、このメールを破棄してください。".to_string(),
            format!("ログインID: {login_id}"),
        ),
        Lang::En => (
            format!("{brand} initial setup"),
            format!("Dear {name},"),
            format!("Please complete your {brand} setup: open the link below, confirm your identity and set a password."),
            format!("The link works once and expires at {} ({}).", expires.jst(), expires.rfc3339()),
            "If you did not expect this e-mail, please ignore it.".to_string(),
            format!("Login ID: {login_id}"),
        ),
    };
    // SET-2: the phone on record is the default MIG-5 put in place of an
    // unusable legacy one; the user knows only the legacy one.
    let phone_line = user.legacy_phone.is_some().then(|| match lang {
        Lang::Ja => "旧システムに登録されていた電話番号は使用できない形式だったため、登録上の電話番号は変更されています。ご本人確認の電話番号には、旧システムに登録していた番号を入力してください(登録がなかった場合は空欄のままで構いません)。".to_string(),
        Lang::En => "The phone number in the former system could not be used, so the phone number on record was changed. In the identity check, enter the phone number you gave the former system (leave it empty if you gave none).".to_string(),
    });
    let parts: Vec<String> = [
        Some(greeting),
        Some(body),
        Some(link.to_string()),
        Some(until),
        Some(id_line),
        phone_line,
        Some(ignore),
        Some(brand.to_string()),
    ]
    .into_iter()
    .flatten()
    .collect();
    compose(user.email.as_str(), subject, &parts, Some(link))
}

// home of MSG-1
/// MFA-3 / MSG-1: the e-mail one-time password. The code is the one secret
/// this mail exists to deliver.
pub fn otp_mail(brand: &str, lang: Lang, to: &str, code: &str, minutes: u64) -> Mail {
    let (subject, body, until, ignore) = match lang {
        Lang::Ja => (
            format!("{brand} メールワンタイムパスワード"),
            format!("ワンタイムパスワード: {code}"),
            format!("{minutes}分間、一度だけ有効です。このコードを他の人に教えないでください。"),
            "お心当たりのない場合は、パスワードを変更してください。".to_string(),
        ),
        Lang::En => (
            format!("{brand} one-time password"),
            format!("Your one-time password: {code}"),
            format!("It works once within {minutes} minutes. Never share it with anyone."),
            "If you did not try to sign in, change your password.".to_string(),
        ),
    };
    compose(to, subject, &[body, until, ignore, brand.to_string()], None)
}

/// MFA-3 / MFA-6: the SMS code. ASCII only, well within one 160-character
/// segment; the brand is left out when it is not ASCII.
pub fn otp_sms(brand: &str, code: &str, minutes: u64) -> String {
    let brand: String = if brand.is_ascii() {
        brand.chars().take(40).collect()
    } else {
        "Sign-in".into()
    };
    format!("{brand} code: {code}. Valid {minutes} min, once. Never share it.")
}

/// RST-5 / PW-5: the notice that the password was reset or changed, and
/// that every other session was signed out.
pub fn password_notice_mail(
    brand: &str,
    lang: Lang,
    to: &str,
    name: &str,
    reset: bool,
    at: Timestamp,
) -> Mail {
    let (subject, greeting, body, ended, not_you) = match lang {
        Lang::Ja => (
            if reset {
                format!("{brand} パスワード再設定完了のお知らせ")
            } else {
                format!("{brand} パスワード変更のお知らせ")
            },
            format!("{name} 様"),
            format!(
                "{} にあなたのアカウントのパスワードが{}されました。",
                at.jst(),
                if reset { "再設定" } else { "変更" }
            ),
            if reset {
                "すべての端末でサインアウトされ、「この端末を記憶する」も解除されました。次回のサインインでは2段階認証が必要です。".to_string()
            } else {
                "この操作をした画面以外のすべての端末でサインアウトされ、「この端末を記憶する」も解除されました。".to_string()
            },
            "お心当たりのない場合は、すぐにパスワードを再設定し、管理者にご連絡ください。"
                .to_string(),
        ),
        Lang::En => (
            if reset {
                format!("{brand}: your password was reset")
            } else {
                format!("{brand}: your password was changed")
            },
            format!("Dear {name},"),
            format!(
                "The password of your account was {} at {} ({}).",
                if reset { "reset" } else { "changed" },
                at.jst(),
                at.rfc3339()
            ),
            if reset {
                "You have been signed out everywhere and remembered devices were forgotten; your next sign-in asks for your second factor.".to_string()
            } else {
                "You have been signed out everywhere except where you made the change, and remembered devices were forgotten.".to_string()
            },
            "If this was not you, reset your password now and contact your administrator."
                .to_string(),
        ),
    };
    compose(
        to,
        subject,
        &[greeting, body, ended, not_you, brand.to_string()],
        None,
    )
}

/// What a case notice is about (CASE-5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseEvent<'a> {
    Created,
    /// The new status's label in the mail's language.
    Status(&'a str),
    /// CASE-7: the desk accepted the work request (it is a case in progress).
    Accepted,
    /// CASE-7: the desk declined it; the reason is on the case's page.
    Declined,
}

/// What a case notice says about the case.
pub struct CaseFacts<'a> {
    pub name: &'a str,
    pub number: &'a str,
    pub subject: &'a str,
    pub category: &'a str,
    pub link: &'a str,
}

/// CASE-5: the notice of a new case or of a case's new status, in the
/// language of the user who filed it. It holds no body text or comment:
/// the link leads to them, behind sign-in.
pub fn case_mail(
    brand: &str,
    lang: Lang,
    to: &str,
    event: CaseEvent<'_>,
    f: &CaseFacts<'_>,
) -> Mail {
    let (subject, greeting, what, facts, footer) = match lang {
        Lang::Ja => (
            match event {
                CaseEvent::Created => format!("{brand} [{}] ケースを受け付けました", f.number),
                CaseEvent::Status(s) => {
                    format!("{brand} [{}] ケースの状況が「{s}」になりました", f.number)
                }
                CaseEvent::Accepted => format!("{brand} [{}] 作業依頼を受理しました", f.number),
                CaseEvent::Declined => {
                    format!("{brand} [{}] 作業依頼を受理できませんでした", f.number)
                }
            },
            format!("{} 様", f.name),
            match event {
                CaseEvent::Created => {
                    "次のケースを受け付けました。担当者が確認しご連絡します。".to_string()
                }
                CaseEvent::Status(s) => format!("次のケースの状況が「{s}」に変わりました。"),
                CaseEvent::Accepted => {
                    "次の作業依頼を受理しました。ケースとして対応を始めます。".to_string()
                }
                CaseEvent::Declined => {
                    "次の作業依頼は受理できませんでした。理由はポータルのケースでご確認ください。"
                        .to_string()
                }
            },
            format!(
                "ケース番号: {}\nカテゴリ: {}\n件名: {}",
                f.number, f.category, f.subject
            ),
            "内容とコメントはポータルにサインインしてご確認ください。".to_string(),
        ),
        Lang::En => (
            match event {
                CaseEvent::Created => format!("{brand} [{}] We have received your case", f.number),
                CaseEvent::Status(s) => format!("{brand} [{}] Your case is now \"{s}\"", f.number),
                CaseEvent::Accepted => {
                    format!("{brand} [{}] We have accepted your work request", f.number)
                }
                CaseEvent::Declined => {
                    format!("{brand} [{}] We could not accept your work request", f.number)
                }
            },
            format!("Dear {},", f.name),
            match event {
                CaseEvent::Created => {
                    "We have received the following case and will get back to you.".to_string()
                }
                CaseEvent::Status(s) => {
                    format!("The status of the following case changed to \"{s}\".")
                }
                CaseEvent::Accepted => {
                    "We have accepted the following work request and are working on it as a case."
                        .to_string()
                }
                CaseEvent::Declined => {
                    "We could not accept the following work request. Sign in to the portal to read why."
                        .to_string()
                }
            },
            format!(
                "Case number: {}\nCategory: {}\nSubject: {}",
                f.number, f.category, f.subject
            ),
            "Sign in to the portal to read the case and its comments.".to_string(),
        ),
    };
    compose(
        to,
        subject,
        &[
            greeting,
            what,
            facts,
            f.link.to_string(),
            footer,
            brand.to_string(),
        ],
        Some(f.link),
    )
}

/// HTML escaping for text built outside templates (mail bodies).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod otp_tests {
    use super::*;

    // MFA-6, MSG-1
    #[test]
    fn mfa_6_sms_text_is_ascii_and_one_segment_msg_1_otp_subject() {
        for brand in ["tobira", "扉ポータル", &"x".repeat(100)] {
            let t = otp_sms(brand, "123456", 5);
            assert!(t.is_ascii() && t.len() <= 160, "{t}");
            assert!(t.contains("123456"));
        }
        let m = otp_mail("tobira", Lang::Ja, "a@example.com", "654321", 5);
        assert_eq!(m.subject, "tobira メールワンタイムパスワード");
        assert!(m.text.contains("654321") && m.html.contains("654321"));
    }

    #[test]
    fn escapes_html() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
