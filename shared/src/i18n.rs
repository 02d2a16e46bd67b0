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

/// Text catalogue. Every key has both languages; a missing key shows itself.
pub fn t(lang: Lang, key: &str) -> &'static str {
    let (ja, en) = match key {
        "lang.name" => ("日本語", "English"),
        "lang.switch" => ("English", "日本語"),
        "login.title" => ("サインイン", "Sign in"),
        "login.login_id" => ("ログインID", "Login ID"),
        "login.password" => ("パスワード", "Password"),
        "login.submit" => ("サインイン", "Sign in"),
        "login.failed" => (
            "ログインIDまたはパスワードが正しくありません。",
            "The login ID or password is incorrect.",
        ),
        "login.setup_done" => (
            "パスワードを設定しました。新しいパスワードでサインインしてください。",
            "Your password is set. Sign in with it now.",
        ),
        "setup.title" => ("初期設定：ご本人確認", "First-time setup: confirm your identity"),
        "setup.intro" => (
            "登録されているメールアドレス、氏名、電話番号を入力してください。氏名の空白（全角・半角）も登録どおりに入力してください。",
            "Enter the e-mail address, name and phone number registered for you. Type the name exactly as registered, including full-width or half-width spaces.",
        ),
        "setup.email" => ("メールアドレス", "E-mail address"),
        "setup.name" => ("氏名", "Name"),
        "setup.phone" => ("電話番号", "Phone number"),
        "setup.phone_hint" => ("ハイフンはあってもなくても構いません", "Hyphens are optional"),
        "setup.submit" => ("確認する", "Confirm"),
        "setup.mismatch" => (
            "入力された情報が登録内容と一致しません。",
            "The information entered does not match our records.",
        ),
        "setup.blocked" => (
            "確認に続けて失敗したため、しばらくご利用いただけません。時間をおいてお試しください。",
            "Too many failed attempts. Please wait and try again later.",
        ),
        "setup.invalid_link" => (
            "このリンクは無効か、有効期限が切れています。初期設定メールの再送を依頼してください。",
            "This link is invalid or has expired. Please request a new setup e-mail.",
        ),
        "password.title" => ("パスワードの設定", "Set your password"),
        "password.new" => ("新しいパスワード", "New password"),
        "password.confirm" => ("新しいパスワード（確認）", "New password (again)"),
        "password.submit" => ("設定する", "Set password"),
        "password.rules" => ("パスワードの条件", "Password rules"),
        "password.mismatch" => ("確認用のパスワードが一致しません。", "The two passwords do not match."),
        "password.weak" => ("パスワードが条件を満たしていません。", "The password does not meet the rules."),
        "password.grant_expired" => (
            "ご本人確認の有効時間が過ぎました。メールのリンクからやり直してください。",
            "Your identity confirmation has expired. Open the link in the e-mail again.",
        ),
        "rule.length" => ("文字数", "Length"),
        "rule.lower" => ("英小文字を含む", "A lower-case letter"),
        "rule.upper" => ("英大文字を含む", "An upper-case letter"),
        "rule.digit" => ("数字を含む", "A digit"),
        "rule.symbol" => ("記号（!@#$%&*?+-=）を含む", "A symbol (!@#$%&*?+-=)"),
        "rule.characters" => ("使用できない文字を含まない", "Only allowed characters"),
        "enroll.title" => ("2段階認証の設定", "Set up two-step verification"),
        "enroll.intro" => (
            "サインインには2段階認証が必要です。使用する方法を選んでください。",
            "Two-step verification is required. Choose a method.",
        ),
        "enroll.totp" => ("認証アプリ（TOTP）", "Authenticator app (TOTP)"),
        "enroll.totp_hint" => (
            "Google Authenticator、Microsoft Authenticator など",
            "Google Authenticator, Microsoft Authenticator and others",
        ),
        "enroll.email" => ("メールワンタイムパスワード", "One-time code by e-mail"),
        "enroll.sms" => ("SMSワンタイムパスワード", "One-time code by SMS"),
        "enroll.signed_in_as" => ("サインイン中のID", "Signed in as"),
        "logout" => ("サインアウト", "Sign out"),
        "error.title" => ("エラー", "Error"),
        "error.not_found" => ("ページが見つかりません。", "Page not found."),
        "error.forbidden" => (
            "この操作はできません。ページを開き直してください。",
            "This action is not allowed. Reload the page and try again.",
        ),
        "error.unavailable" => (
            "ただいま処理できません。しばらくしてからお試しください。",
            "We cannot process this right now. Please try again shortly.",
        ),
        "error.signin_required" => ("サインインしてください。", "Please sign in."),
        "error.invalid" => ("入力内容を確認してください。", "Please check what you entered."),
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
