//! Japanese and English (SES-3, MSG-1).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Ja,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ja" | "ja-jp" => Some(Self::Ja),
            "en" | "en-us" | "en-gb" => Some(Self::En),
            _ => None,
        }
    }
    /// The first of ja/en in an `Accept-Language` header, by weight; Japanese by default.
    pub fn from_accept_language(h: &str) -> Self {
        let mut best: Option<(f32, Self)> = None;
        for part in h.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = it
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|v| v.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let lang = match tag.split('-').next() {
                Some("ja") => Self::Ja,
                Some("en") => Self::En,
                _ => continue,
            };
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map_or(Self::Ja, |(_, l)| l)
    }
    pub fn code(self) -> &'static str {
        match self {
            Self::Ja => "ja",
            Self::En => "en",
        }
    }
    pub fn other(self) -> Self {
        match self {
            Self::Ja => Self::En,
            Self::En => Self::Ja,
        }
    }
}

/// The domain's own texts: what a domain refusal says (cases) and the
/// labels a notice mail names. Page strings live in the web edge
/// (`tobira_web::i18n`). Every key has both languages; a missing key shows
/// itself.
pub fn t(lang: Lang, key: &str) -> &'static str {
    let (ja, en) = match key {
        "enroll.totp" => ("認証アプリ（TOTP）", "Authenticator app (TOTP)"),
        "enroll.email" => ("メールワンタイムパスワード", "One-time code by e-mail"),
        "enroll.sms" => ("SMSワンタイムパスワード", "One-time code by SMS"),
        "mfa.reauth_required" => (
            "2段階認証の方法を変更するには、パスワードをもう一度入力してください。",
            "Enter your password again to change your verification methods.",
        ),
        "case.kind.inquiry" => ("お問い合わせ", "Inquiry"),
        "case.kind.work_request" => ("作業依頼", "Work request"),
        "case.status.new" => ("新規", "New"),
        "case.status.in_progress" => ("対応中", "In progress"),
        "case.status.awaiting_customer" => ("お客様確認待ち", "Awaiting your reply"),
        "case.status.resolved" => ("解決済み（クローズ待ち）", "Resolved (awaiting close)"),
        "case.status.closed" => ("クローズ", "Closed"),
        "case.legacy_place" => ("旧ポータルのお問い合わせ窓口", "the legacy portal's support page"),
        "case.err.file_in_legacy_system" => (
            "移行元のシステムからご利用のお客さまは、移行期間中はケースを「{place}」からお送りください。このポータルでは、これまでのケースの確認とコメントができます。",
            "During the migration period, customers who came from the legacy system file cases at {place}. Here you can follow existing cases and comment on them.",
        ),
        "case.err.kind" => ("種別（お問い合わせ・作業依頼）を選んでください。", "Choose a type: inquiry or work request."),
        "case.err.filter" => ("絞り込みの指定が正しくありません。", "Unknown filter: use action_needed or leave it out."),
        "case.err.unknown_category" => ("カテゴリを一覧から選んでください。", "Choose a category from the list."),
        "case.err.empty.subject" => ("件名を入力してください。", "Enter a subject."),
        "case.err.empty.body" => ("内容を入力してください。", "Enter what the case is about."),
        "case.err.empty.comment" => ("コメントを入力してください。", "Enter a comment."),
        "case.err.too_long.subject" => ("件名は {max} 文字以内で入力してください。", "A subject has at most {max} characters."),
        "case.err.too_long.body" => ("内容は {max} 文字以内で入力してください。", "The text has at most {max} characters."),
        "case.err.too_long.comment" => ("コメントは {max} 文字以内で入力してください。", "A comment has at most {max} characters."),
        "case.err.control_characters.subject" => ("件名に使えない文字が含まれています。", "The subject holds characters that cannot be used."),
        "case.err.control_characters.body" => ("内容に使えない文字が含まれています。", "The text holds characters that cannot be used."),
        "case.err.control_characters.comment" => ("コメントに使えない文字が含まれています。", "The comment holds characters that cannot be used."),
        "case.err.query" => ("キーワードは100文字以内で入力してください。", "A keyword search has at most 100 characters."),
        "case.err.cursor" => ("ページの指定が正しくありません。一覧の最初から開き直してください。", "The page cursor is not valid; start again from the first page."),
        "case.err.case_closed" => (
            "クローズしたケースは再オープンできません。新しいケースを作成してください。",
            "A closed case cannot be reopened. Please file a new case.",
        ),
        "case.err.case_resolved" => (
            "解決済みのケースは「承認」または「却下」してください。",
            "A resolved case is accepted or rejected, not closed.",
        ),
        "case.err.case_not_resolved" => (
            "承認・却下は解決済みのケースにのみできます。",
            "Only a resolved case can be accepted or rejected.",
        ),
        "case.err.case_status_invalid" => ("その状況には変更できません。", "A case cannot be set to that status."),
        "case.err.case_status_unchanged" => ("ケースはすでにその状況です。", "The case already has that status."),
        "case.err.case_comments_full" => (
            "このケースにはこれ以上コメントできません。新しいケースを作成してください。",
            "This case cannot take more comments. Please file a new case.",
        ),
        _ => ("??", "??"),
    };
    match lang {
        Lang::Ja => ja,
        Lang::En => en,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_by_weight() {
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,ja;q=0.8"),
            Lang::En
        );
        assert_eq!(Lang::from_accept_language("ja,en;q=0.5"), Lang::Ja);
        assert_eq!(Lang::from_accept_language("fr"), Lang::Ja);
        assert_eq!(Lang::from_accept_language("fr,en;q=0.1"), Lang::En);
    }
}
