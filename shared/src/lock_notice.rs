//! LOG-5: the owner of an account hears about its lock. The answer to the
//! attempt that locked stays what LOG-3 demands; the mail goes to the
//! registered address, once per lock (only the one attempt whose
//! conditional write reached the limit sends it), and says when the lock
//! lifts and how to reset the password. RST-2's reset block likewise.

use std::time::Duration;

use crate::app::{App, Ctx};
use crate::clock::Timestamp;
use crate::delivery::Mail;
use crate::i18n::Lang;
use crate::messages::compose;
use crate::model::{User, UserState};

/// What locked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Locked {
    /// LOG-2: sign-in (passwords or second-factor codes).
    SignIn,
    /// RST-2: "forgot password" entries for the login ID.
    Reset,
}

impl App {
    // home of LOG-5
    /// LOG-5: mail `user` (the holder of the login ID, if any) that `what`
    /// locked until `until`. Only an active account is mailed: no one else
    /// can sign in or reset anyway.
    ///
    /// The mail is an outbox item (`outbox.rs`: sent after the attempt,
    /// retried through a mail service fault), written in one transaction
    /// of two items with its record — or, when no one is mailed, the record
    /// and a condition that always holds — so an attempt that locks makes
    /// the same store requests whether or not the login ID is held (LOG-3).
    /// `floor` (a fixed time the attempt takes, when the edge does not pace
    /// the answer itself) hides that write's time as it once hid the mail
    /// service's. The lock stands whatever the mail does.
    pub(crate) async fn notify_lock(
        &self,
        user: Option<&User>,
        what: Locked,
        until: Timestamp,
        floor: Duration,
        ctx: &Ctx,
    ) {
        let mail = user
            .filter(|u| u.state == UserState::Active)
            .map(|u| lock_mail(self, u, what, until));
        let who = user.map(|u| (u.id.as_str(), &u.tenant_id));
        let outcome = if mail.is_some() { "queued" } else { "none" };
        let writes = vec![
            self.audit(ctx, "account.lock_notice", who, Some(outcome.into())),
            match mail {
                Some(m) => self.notice("account.lock_notice", m, who),
                None => self.no_notice(),
            },
        ];
        let record = async {
            if let Err(e) = self.store.write(writes, self.now()).await {
                tracing::error!(error = %e, "lock notice not recorded");
            }
        };
        tokio::join!(record, tokio::time::sleep(floor));
    }
}

/// LOG-5 / RST-2: the lock notice, in the user's language, with the time
/// in the user's zone (ADM-1; Japan's by default).
fn lock_mail(app: &App, user: &User, what: Locked, until: Timestamp) -> Mail {
    let brand = &app.config.brand;
    let zone = user.profile.time_zone.as_deref().unwrap_or("Asia/Tokyo");
    let at = until.in_zone(zone);
    let forgot = format!("{}/password/forgot", app.config.base_url);
    let name = user.name.as_str();
    let (subject, greeting, body, how, not_you) = match (user.lang, what) {
        (Lang::Ja, Locked::SignIn) => (
            format!("{brand} サインインの一時停止のお知らせ"),
            format!("{name} 様"),
            format!("パスワードまたは確認コードの誤りが続いたため、{brand} へのサインインを {at} まで停止しました。この時刻を過ぎると、自動的に再びサインインできます。"),
            "パスワードをお忘れの場合は、ロックが解除された後に次のページからパスワードを再設定してください。".to_string(),
            "お心当たりのない場合は、第三者がサインインを試みた可能性があります。ロックの解除後にパスワードを変更し、管理者にご連絡ください。".to_string(),
        ),
        (Lang::En, Locked::SignIn) => (
            format!("{brand}: sign-in paused"),
            format!("Dear {name},"),
            format!("After repeated wrong passwords or codes, sign-in to {brand} is paused until {at}. After that time you can sign in again; nothing else is needed."),
            "If you have forgotten your password, reset it on this page once the pause has ended:".to_string(),
            "If this was not you, someone may be trying to sign in as you: change your password once the pause has ended and tell your administrator.".to_string(),
        ),
        (Lang::Ja, Locked::Reset) => (
            format!("{brand} パスワード再設定の一時停止のお知らせ"),
            format!("{name} 様"),
            format!("パスワード再設定の申請で登録内容と一致しない入力が続いたため、{at} までパスワード再設定の申請を受け付けません。"),
            "この時刻を過ぎると、次のページから再度申請できます。ログインIDと登録メールアドレスを入力してください。".to_string(),
            "お心当たりのない場合は、第三者が申請した可能性があります。パスワードは変更されていません。".to_string(),
        ),
        (Lang::En, Locked::Reset) => (
            format!("{brand}: password reset paused"),
            format!("Dear {name},"),
            format!("After repeated password reset requests that did not match your account, password resets are paused until {at}."),
            "After that time, ask again on this page with your login ID and registered e-mail address:".to_string(),
            "If this was not you, someone else made the requests. Your password has not been changed.".to_string(),
        ),
    };
    compose(
        user.email.as_str(),
        subject,
        &[
            greeting,
            body,
            how,
            forgot.clone(),
            not_you,
            brand.to_string(),
        ],
        Some(&forgot),
    )
}
