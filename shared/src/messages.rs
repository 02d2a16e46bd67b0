//! Mail texts (MSG-1, MSG-2): subjects and bodies in the user's language.
//! A message holds no secret but the one it exists to deliver.

use crate::clock::Timestamp;
use crate::delivery::Mail;
use crate::i18n::Lang;
use crate::web::escape;

/// SET-1: the first-time setup mail with its single-use link and its expiry.
pub fn setup_mail(
    brand: &str,
    lang: Lang,
    to: &str,
    name: &str,
    link: &str,
    expires: Timestamp,
) -> Mail {
    let (subject, greeting, body, until, ignore) = match lang {
        Lang::Ja => (
            format!("{brand} 初期設定のお知らせ"),
            format!("{name} 様"),
            format!("{brand} の初期設定をお願いします。次のリンクを開き、ご本人確認のうえパスワードを設定してください。"),
            format!("このリンクは一度だけ使用でき、{} まで有効です。", expires.jst()),
            "お心当たりのない場合は、このメールを破棄してください。".to_string(),
        ),
        Lang::En => (
            format!("{brand} initial setup"),
            format!("Dear {name},"),
            format!("Please complete your {brand} setup: open the link below, confirm your identity and set a password."),
            format!("The link works once and expires at {} ({}).", expires.jst(), expires.rfc3339()),
            "If you did not expect this e-mail, please ignore it.".to_string(),
        ),
    };
    let text = format!("{greeting}\n\n{body}\n\n{link}\n\n{until}\n\n{ignore}\n\n{brand}\n");
    let html = format!(
        "<p>{}</p><p>{}</p><p><a href=\"{}\">{}</a></p><p>{}</p><p>{}</p><p>{}</p>",
        escape(&greeting),
        escape(&body),
        escape(link),
        escape(link),
        escape(&until),
        escape(&ignore),
        escape(brand)
    );
    Mail {
        to: to.to_string(),
        subject,
        text,
        html,
    }
}
