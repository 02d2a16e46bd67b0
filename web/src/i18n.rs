//! The page strings, Japanese and English (SES-3, MSG-1). Keys the domain
//! owns (a case's kind and status, its refusals, the factor labels) fall
//! through to `tobira::i18n::t`.

pub use tobira::i18n::Lang;

/// Text catalogue of the pages. Every key has both languages; a missing key
/// shows itself as "??".
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
        "login.forgot" => ("初めての方・パスワードをお忘れの方", "First time or forgot your password"),
        "login.claim" => (
            "旧サービスIDをお持ちの方（アカウントの登録・追加）",
            "Have a legacy service ID? Register or link it",
        ),
        "forgot.title" => ("初めての方・パスワードをお忘れの方", "First time or forgot your password"),
        "forgot.intro" => (
            "登録されているログインIDとメールアドレスを入力してください。登録内容と一致した場合、パスワードを設定するためのリンクをメールでお送りします。",
            "Enter the login ID and the e-mail address registered for you. If they match, we e-mail you a link to set your password.",
        ),
        "forgot.identity_legend" => (
            "移行期間の終了後に初めてご利用になる方のみ",
            "Only if you are using the portal for the first time after the migration period",
        ),
        "forgot.identity_hint" => (
            "移行期間終了のお知らせに記載された氏名と電話番号も入力してください。",
            "Also enter the name and phone number given in the notice about the end of the migration period.",
        ),
        "forgot.name_hint" => (
            "空白（全角・半角）も登録どおりに入力してください",
            "Exactly as registered, including full-width or half-width spaces",
        ),
        "forgot.submit" => ("送信する", "Send"),
        "forgot.sent_title" => ("メールをご確認ください", "Check your e-mail"),
        "forgot.sent" => (
            "入力された情報が登録内容と一致した場合は、パスワードを設定するためのリンクをメールでお送りしました。リンクの有効期限はメールに記載しています。メールが届かない場合は、入力内容をご確認のうえ、もう一度お試しください。なお、入力を5回間違えると20分間、パスワードの再設定を完了してから24時間は、再設定のご依頼を受け付けません。",
            "If the details match our records, we have e-mailed you a link to set your password; the mail says until when it works. If no e-mail arrives, check what you entered and try again. After 5 wrong entries, requests are paused for 20 minutes, and a password can be reset once every 24 hours.",
        ),
        "reset.invalid_link" => (
            "このリンクは無効か、有効期限が切れています。「初めての方・パスワードをお忘れの方」からもう一度お手続きください。",
            "This link is invalid or has expired. Start again from \"First time or forgot your password\".",
        ),
        "claim.title" => ("旧サービスIDでの登録", "Register with a legacy service ID"),
        "claim.intro" => (
            "旧システムのサービスIDとパスワードを入力してください。サインイン中の場合は、そのサービスIDがご利用中のアカウントに追加されます。",
            "Enter the service ID and password of your legacy account. If you are signed in, the service ID is linked to your current account.",
        ),
        "claim.service_id" => ("サービスID", "Service ID"),
        "claim.password" => ("旧システムのパスワード", "Legacy password"),
        "claim.submit" => ("確認する", "Continue"),
        "claim.failed" => (
            "サービスIDまたはパスワードが正しくありません。",
            "The service ID or password is incorrect.",
        ),
        "claim.blocked" => (
            "続けて失敗したため、このサービスIDはしばらくご利用いただけません。時間をおいてお試しください。",
            "Too many failed attempts for this service ID. Please wait and try again later.",
        ),
        "claim.linked_title" => ("サービスIDを追加しました", "Service ID linked"),
        "claim.linked" => (
            "ご利用中のアカウントに紐付いているサービスID：",
            "Service IDs linked to your account: ",
        ),
        "claim_register.title" => ("ログインIDの登録", "Register your login ID"),
        "claim_register.intro" => (
            "新しいログインIDとして使うメールアドレスを入力し、利用規約とプライバシーポリシーに同意してください。パスワードを設定するためのリンクをメールでお送りします。",
            "Enter the e-mail address that becomes your new login ID and accept the terms of use and the privacy policy. We e-mail you a link to set your password.",
        ),
        "claim_register.email" => ("メールアドレス（新しいログインID）", "E-mail address (your new login ID)"),
        "claim_register.accept_terms" => ("利用規約に同意します", "I accept the terms of use"),
        "claim_register.accept_privacy" => ("プライバシーポリシーに同意します", "I accept the privacy policy"),
        "claim_register.submit" => ("登録する", "Register"),
        "claim_register.terms_required" => (
            "利用規約とプライバシーポリシーの両方への同意が必要です。",
            "Please accept both the terms of use and the privacy policy.",
        ),
        "claim_register.invalid_email" => (
            "メールアドレスの形式が正しくありません。",
            "Please enter a valid e-mail address.",
        ),
        "claim_register.expired" => (
            "確認の有効時間が過ぎました。サービスIDの入力からやり直してください。",
            "Your confirmation has expired. Start again with your service ID.",
        ),
        "claim_register.sent" => (
            "パスワードを設定するためのリンクをメールでお送りしました。メールのリンクからパスワードを設定してください。",
            "We have e-mailed you a link to set your password. Open it to set your password.",
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
        "password.change_title" => ("パスワードの変更", "Change your password"),
        "password.current" => ("現在のパスワード", "Current password"),
        "password.back" => ("ホームに戻る", "Back to home"),
        "password.wrong_current" => (
            "現在のパスワードが正しくありません。繰り返し間違えるとアカウントがロックされます。",
            "The current password is not right. Repeated mistakes lock the account.",
        ),
        "password.changed" => (
            "パスワードを変更しました。ほかの端末ではサインアウトされました。",
            "Your password has been changed. You have been signed out on other devices.",
        ),
        "login.reset_done" => (
            "パスワードを再設定しました。新しいパスワードでサインインしてください（2段階認証も必要です）。",
            "Your password has been reset. Sign in with the new password (your second factor is asked for too).",
        ),
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
        "rule.repeated" => ("同じ文字や並びの繰り返しでない", "Not one character or block repeated"),
        "rule.sequence" => ("連続した文字やキーの並び（abcd、1234、qwerty）でない", "Not a simple sequence or keyboard row (abcd, 1234, qwerty)"),
        "rule.common" => ("よく使われるパスワードでない", "Not a commonly used password"),
        "rule.dictionary" => ("辞書の単語や名前だけでない", "Not a dictionary word or name alone"),
        "rule.personal" => ("ログインID、メールアドレス、氏名を含まない", "Does not contain your login ID, e-mail address or name"),
        "rule.guessable" => ("推測されにくい", "Hard to guess"),
        "enroll.title" => ("2段階認証の設定", "Set up two-step verification"),
        "enroll.intro" => (
            "サインインには2段階認証が必要です。使用する方法を選んでください。",
            "Two-step verification is required. Choose a method.",
        ),
        "enroll.totp_hint" => (
            "Google Authenticator、Microsoft Authenticator など",
            "Google Authenticator, Microsoft Authenticator and others",
        ),
        "enroll.signed_in_as" => ("サインイン中のID", "Signed in as"),
        "enroll.intro_more" => (
            "追加する2段階認証の方法を選んでください。複数の方法を登録すると、サインイン時に選べます。",
            "Choose a method to add. With several methods you can pick one at each sign-in.",
        ),
        "enroll.choose" => ("この方法を設定する", "Set up this method"),
        "enroll.email_hint" => (
            "登録済みのメールアドレスにコードを送ります",
            "A code is sent to your registered e-mail address",
        ),
        "enroll.sms_hint" => (
            "携帯電話番号にコードを送ります",
            "A code is sent to your mobile phone",
        ),
        "enroll.enrolled" => ("登録済み", "In use"),
        "enroll.choose_again" => ("設定し直す", "Set up again"),
        "enroll.totp_again_hint" => (
            "設定し直すと、これまでの認証アプリのコードは使えなくなります",
            "Setting it up again replaces your current authenticator",
        ),
        "enroll.sms_again_hint" => (
            "新しい番号を確認すると、これまでの番号と置き換わります",
            "A newly confirmed number replaces the current one",
        ),
        "enroll.reauth_hint" => (
            "2段階認証の方法を変更するため、パスワードをもう一度入力してください。",
            "To change your verification methods, enter your password again.",
        ),
        "enroll.reauth_password" => ("パスワード（確認のため）", "Your password (to confirm it is you)"),
        "mfa.reauth_wrong" => (
            "パスワードが正しくありません。繰り返し間違えるとアカウントがロックされます。",
            "The password is not right. Repeated mistakes lock the account.",
        ),
        "enroll.other_method" => ("別の方法を選ぶ", "Choose another method"),
        "code.label" => ("ワンタイムパスワード（6桁）", "One-time code (6 digits)"),
        "code.verify" => ("送信", "Verify"),
        "code.send" => ("コードを送信", "Send a code"),
        "code.resend" => ("コードを再送信", "Send a new code"),
        "code.resend_wait" => ("再送信できるまで", "You can ask for a new code in"),
        "code.seconds" => ("秒", " s"),
        "code.sent" => (
            "コードを送信しました。5分間有効です。",
            "A code is on its way. It is valid for 5 minutes.",
        ),
        "code.too_soon" => (
            "少し待ってから再送信してください。",
            "Please wait a moment before asking for a new code.",
        ),
        "code.expired" => (
            "コードの有効期限が切れたか、無効になりました。もう一度コードを送信してください。",
            "The code has expired or is no longer valid. Please ask for a new one.",
        ),
        "code.cap" => (
            "送信回数の上限に達しました。しばらくしてからお試しください。",
            "Too many codes were sent. Please try again later.",
        ),
        "mfa.title" => ("2段階認証", "Two-step verification"),
        "mfa.totp_instruction" => (
            "認証アプリに表示されている6桁のワンタイムパスワードを入力してください。",
            "Enter the 6-digit code your authenticator app shows.",
        ),
        "mfa.recovery_instruction" => (
            "保管しているリカバリーコードを1つ入力してください。使ったコードは再び使えません。",
            "Enter one of your recovery codes. A code works only once.",
        ),
        "mfa.recovery" => ("リカバリーコード", "Recovery code"),
        "mfa.recovery_code" => ("リカバリーコード", "Recovery code"),
        "mfa.other" => ("別の方法で認証する", "Try another method"),
        "mfa.invalid_code" => (
            "コードが正しくないか、有効期限が切れています。",
            "The code is wrong or has expired.",
        ),
        "mfa.locked" => (
            "続けて失敗したため、しばらくサインインできません。時間をおいてお試しください。",
            "Too many failed attempts. Please wait and sign in again later.",
        ),
        "totp.title" => ("認証アプリの設定", "Set up your authenticator app"),
        "totp.step_install" => (
            "認証アプリ（Google Authenticator、Microsoft Authenticator など）をご用意ください。",
            "Open an authenticator app (Google Authenticator, Microsoft Authenticator or similar).",
        ),
        "totp.step_scan" => (
            "アプリで次のQRコードを読み取ってください。",
            "Scan this QR code with the app.",
        ),
        "totp.cannot_scan" => (
            "読み取れない場合は、次のキーを手入力してください（時間ベース）。",
            "Cannot scan? Enter this key by hand (time-based).",
        ),
        "totp.step_code" => (
            "アプリに表示された6桁の数字",
            "The 6-digit code the app shows",
        ),
        "totp.confirm" => ("登録", "Confirm"),
        "email.title" => ("メールワンタイムパスワードの設定", "Set up e-mail codes"),
        "sms.title" => ("SMSワンタイムパスワードの設定", "Set up SMS codes"),
        "sms.verify_title" => ("携帯電話番号の確認", "Confirm your mobile number"),
        "sms.intro" => (
            "コードを受け取る携帯電話番号を入力してください。",
            "Enter the mobile number that receives the codes.",
        ),
        "sms.country" => ("国番号", "Country code"),
        "sms.number" => ("携帯電話番号", "Mobile number"),
        "sms.number_hint" => (
            "ハイフンと先頭の0を除いて入力してください（090-1234-5678 → 9012345678）。",
            "Without hyphens or the leading 0 (090-1234-5678 → 9012345678).",
        ),
        "recovery.title" => ("リカバリーコード", "Recovery codes"),
        "recovery.intro" => (
            "認証アプリや携帯電話が使えなくなったときは、これらのコードでサインインできます。安全な場所に保管してください。この画面は一度しか表示されません。",
            "If you lose your authenticator or phone, these codes let you sign in. Keep them somewhere safe: this page is shown only once.",
        ),
        "recovery.once" => (
            "各コードは一度だけ使えます。新しいコードを発行すると、これまでのコードは使えなくなります。",
            "Each code works once. Issuing new codes voids these.",
        ),
        "recovery.recorded" => ("リカバリーコードを控えました", "I have recorded these codes"),
        "recovery.ack_signin" => ("再ログイン", "Sign in again"),
        "recovery.ack" => ("完了", "Done"),
        "terms.title" => ("カスタマーポータル規約", "Customer portal terms"),
        "terms.version" => ("版", "Version"),
        "terms.body" => (
            "規約は、本サービスをご利用の皆さまの権利を保護し、本サービスの健全な運営を確保し、お客様の安全と安心を確保することを目的として制定されています。本規約は、本サービスをご利用の皆さまと当社との間の権利義務関係を定めるものであり、本規約に同意してご利用いただくこととなります。",
            "These terms protect the rights of everyone who uses the service, keep it running soundly and keep our customers safe. They set out the rights and obligations between you and us; you use the service by accepting them.",
        ),
        "terms.agree" => ("規約に同意します", "I accept the terms"),
        "terms.accept" => ("同意", "Accept"),
        "terms.changed" => (
            "規約が更新されました。最新の規約をご確認ください。",
            "The terms have changed. Please read the current version.",
        ),
        "login.enrolled" => (
            "2段階認証を設定しました。新しい方法でもう一度サインインしてください。",
            "Two-step verification is set up. Sign in again with your new method.",
        ),
        "dashboard.title" => ("ダッシュボード", "Dashboard"),
        "dashboard.welcome" => ("ようこそ", "Welcome,"),
        "dashboard.tenant" => ("契約", "Contract"),
        "dashboard.methods" => ("2段階認証", "Two-step verification"),
        "dashboard.recovery_left" => ("未使用のリカバリーコード", "Unused recovery codes"),
        "dashboard.add_method" => ("2段階認証の方法を追加", "Add a verification method"),
        "dashboard.back" => ("ダッシュボードへ戻る", "Back to the dashboard"),
        "dashboard.regenerate" => ("リカバリーコードの再発行", "New recovery codes"),
        "dashboard.regenerate_submit" => ("再発行する", "Issue new codes"),
        "dashboard.devices" => ("記憶したデバイス", "Remembered devices"),
        "dashboard.forget_devices" => (
            "記憶したすべてのデバイスを解除",
            "Forget every remembered device",
        ),
        "dashboard.devices_forgotten" => (
            "記憶したデバイスをすべて解除しました。次回から2段階認証が必要です。",
            "Every remembered device is forgotten; they will be asked for the second step again.",
        ),
        "dashboard.method_added" => ("2段階認証の方法を追加しました。", "The method is added."),
        "logout" => ("サインアウト", "Sign out"),
        "error.title" => ("エラー", "Error"),
        "error.not_found" => ("ページが見つかりません。", "Page not found."),
        "error.method_not_allowed" => (
            "このURLはこのメソッドを受け付けません。",
            "This URL does not accept this method.",
        ),
        "error.invalid_lang" => (
            "lang には ja か en を指定してください。",
            "lang must be ja or en.",
        ),
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
        "cases.title" => ("ケース一覧", "Cases"),
        "cases.new" => ("ケースを作成", "New case"),
        "cases.all" => ("すべて", "All"),
        "cases.action_needed" => ("アクションが必要", "Action needed"),
        "cases.keyword" => ("キーワード", "Keyword"),
        "cases.search" => ("検索", "Search"),
        "cases.none" => ("該当するケースはありません。", "No cases found."),
        "cases.next" => ("次のページ", "Next page"),
        "cases.first" => ("最初のページ", "First page"),
        "case.number" => ("ケース番号", "Case number"),
        "case.status" => ("状況", "Status"),
        "case.kind" => ("種別", "Type"),
        "case.category" => ("カテゴリ", "Category"),
        "case.subject" => ("件名", "Subject"),
        "case.body" => ("内容", "Description"),
        "case.created_by" => ("お客様担当者名", "Filed by"),
        "case.created_at" => ("作成日時", "Created"),
        "case.updated_at" => ("更新日時", "Updated"),
        "case.submit" => ("送信", "Submit"),
        "case.choose" => ("選択してください", "Choose one"),
        "case.comments" => ("アクティビティ", "Activity"),
        "case.no_comments" => ("コメントはまだありません。", "No comments yet."),
        "case.comment" => ("コメント", "Comment"),
        "case.comment_submit" => ("コメントを送信", "Send comment"),
        "case.support" => ("サポート窓口", "Support desk"),
        "case.actions" => ("アクション", "Actions"),
        "case.close" => ("ケースをクローズ", "Close case"),
        "case.close_warning" => (
            "クローズしたケースは再オープンできません。",
            "A closed case cannot be reopened.",
        ),
        "case.accept" => ("ソリューションを承認", "Accept solution"),
        "case.accept_warning" => (
            "承認するとケースはクローズし、再オープンできません。解決していない場合は却下してください。",
            "Accepting closes the case for good. If the problem is not solved, reject the solution instead.",
        ),
        "case.reject" => ("ソリューションを却下", "Reject solution"),
        "case.closed_note" => (
            "このケースはクローズしました。追加のお問い合わせは新しいケースを作成してください。",
            "This case is closed. For anything more, please file a new case.",
        ),
        "case.back" => ("ケース一覧へ", "Back to cases"),
        "case.limits" => ("件名 {subject} 文字以内、内容 {body} 文字以内", "Subject up to {subject} characters, text up to {body}"),
        "notice.case_created" => ("ケースを作成しました。確認のメールをお送りしました。", "Your case is filed; we have sent you a confirmation e-mail."),
        "notice.case_commented" => ("コメントを送信しました。", "Your comment is sent."),
        "notice.case_closed" => ("ケースをクローズしました。", "The case is closed."),
        "notice.case_accepted" => ("ソリューションを承認し、ケースをクローズしました。", "You accepted the solution; the case is closed."),
        "notice.case_rejected" => ("ソリューションを却下しました。担当者が対応を続けます。", "You rejected the solution; the support desk works on."),
        "dashboard.cases" => ("ケース一覧・お問い合わせ", "Support cases"),
        _ => return tobira::i18n::t(lang, key),
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
    fn every_template_key_is_in_the_catalogue() {
        let templates = [
            include_str!("../templates/layout.html"),
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
            include_str!("../templates/enrol/enroll_sms.html"),
            include_str!("../templates/enrol/enroll_code.html"),
            include_str!("../templates/enrol/recovery.html"),
            include_str!("../templates/signin/terms.html"),
            include_str!("../templates/signin/dashboard.html"),
            include_str!("../templates/cases/cases.html"),
            include_str!("../templates/cases/case.html"),
            include_str!("../templates/cases/case_new.html"),
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
