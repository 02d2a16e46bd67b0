//! Pages (SES-3): server-rendered HTML, Japanese and English, no JavaScript,
//! forms that post, by journey: one module each, and its templates in
//! `web/templates/<journey>/` (askama: escaped by default, checked at
//! compile time). The layout, the message page and the outbox are shared.

use askama::Template;

use crate::i18n::{t, Lang};
use crate::web::Request;

mod admin;
mod admin_form;
mod cases;
mod claim;
mod enrol;
mod history;
mod legal;
mod password;
mod setup;
mod signin;

pub use admin::*;
pub use admin_form::*;
pub use cases::*;
pub use claim::*;
pub use enrol::*;
pub use history::*;
pub use legal::*;
pub use password::*;
pub use setup::*;
pub use signin::*;

/// What every page's layout shows: the language, the brand, the title and
/// the link to the same page in the other language (empty: no link).
pub struct Head<'a> {
    pub tr: Tr,
    pub brand: &'a str,
    pub title: &'a str,
    pub switch_href: String,
}

impl<'a> Head<'a> {
    pub fn new(lang: Lang, req: &Request, brand: &'a str, title: &'a str) -> Self {
        Self {
            tr: Tr(lang),
            brand,
            title,
            switch_href: switch_href(req, lang),
        }
    }
}

/// A page's template struct: its [`Head`] (which the layout and the page
/// read through `Deref`, as `tr`, `brand`, `title`, `switch_href`) and its
/// own fields.
macro_rules! page {
    ($(#[$doc:meta])* $name:ident $path:tt { $($(#[$fdoc:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(askama::Template)]
        #[template(path = $path)]
        struct $name<'a> {
            head: $crate::pages::Head<'a>,
            $($(#[$fdoc])* $field: $ty),*
        }

        impl<'a> std::ops::Deref for $name<'a> {
            type Target = $crate::pages::Head<'a>;
            fn deref(&self) -> &Self::Target {
                &self.head
            }
        }
    };
}
pub(crate) use page;

/// The translation helper templates call as `tr.t("key")`.
pub struct Tr(pub Lang);

impl Tr {
    pub fn t(&self, key: &str) -> &'static str {
        t(self.0, key)
    }
    pub fn code(&self) -> &'static str {
        self.0.code()
    }
    pub fn other_code(&self) -> &'static str {
        self.0.other().code()
    }
}

/// The same page in the other language, keeping the query (e.g. a token).
pub fn switch_href(req: &Request, lang: Lang) -> String {
    let mut pairs: Vec<(String, String)> = req
        .uri()
        .query()
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k != "lang")
        .collect();
    pairs.push(("lang".into(), lang.other().code().into()));
    let q = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    let path = if req.method() == http::Method::GET {
        req.uri().path()
    } else if let Some(case) = case_page_of_post(req.uri().path()) {
        case
    } else if let Some(admin) = admin_page_of_post(req.uri().path()) {
        admin
    } else {
        get_page_of_post(req.uri().path())
    };
    format!("{}?{q}", same_origin_path(path))
}

/// A request's path as a link that stays on this portal: exactly one `/`
/// followed by something other than `/` or `\`, and nothing a browser
/// strips or reads as a separator. `//host/` and `/\host/` would be read as
/// another origin (an open redirect); those, and anything odd, become `/`.
pub fn same_origin_path(path: &str) -> &str {
    let b = path.as_bytes();
    let odd =
        |c: &u8| *c == b'\\' || c.is_ascii_control() || c.is_ascii_whitespace() || !c.is_ascii();
    match b {
        [b'/'] => path,
        [b'/', second, ..] if *second != b'/' && !b.iter().any(odd) => path,
        _ => "/",
    }
}

/// The page a form post's answer page stands for, so that the language
/// switch on it stays on that step instead of leaving it: a page answered
/// to a POST cannot be fetched again with GET.
/// A case's form posts (`/cases/new`, `/cases/{id}/comments`, …) stand
/// for the case's page (or the new-case form).
fn case_page_of_post(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/cases/")?;
    Some(match rest.split_once('/') {
        Some((id, _)) => &path[.."/cases/".len() + id.len()],
        None => path,
    })
}

/// An admin's form posts stand for the page they were on: the new-user
/// and edit forms for themselves, a user's actions (and the e-mail
/// correction) for the user's page.
fn admin_page_of_post(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/admin/users/")?;
    Some(match rest.split_once('/') {
        Some((_, "edit")) => path,
        Some((id, _)) => &path[.."/admin/users/".len() + id.len()],
        None => path,
    })
}

fn get_page_of_post(path: &str) -> &'static str {
    match path {
        // The key is shown only to the POST that made it: the choice of
        // method starts the set-up again (in the other language).
        "/enroll/totp" | "/enroll/totp/confirm" => "/enroll",
        "/enroll/email" => "/enroll/email",
        "/otp/sms" => "/enroll/sms",
        "/otp/sms/verify" => "/enroll/sms/verify",
        "/otp/voice" => "/enroll/voice",
        "/otp/voice/verify" => "/enroll/voice/verify",
        "/login/mfa" => "/login/mfa",
        "/terms" => "/terms",
        "/mfa/recovery/regenerate" | "/devices/forget" => "/",
        _ => "/login",
    }
}

fn render(t: &impl Template) -> String {
    t.render().expect("templates render")
}

page! {
    MessagePage "message.html" {
    text: &'a str,
    way: (&'static str, &'static str),
    }
}

/// Where a message page leads on (no dead ends): a refused setup or
/// password link to the page that mails a new one (SET-1; after the
/// migration window the identity entry, RST-4); a browser with a session
/// to the dashboard; anyone else to the sign-in page.
fn way_forward(lang: Lang, req: &Request) -> (&'static str, &'static str) {
    let path = req.uri().path();
    if path.starts_with("/setup") || path.starts_with("/password/reset") {
        return ("/password/forgot", t(lang, "link.get_new"));
    }
    let has_session = req
        .headers()
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("tobira-session="));
    if has_session {
        ("/", t(lang, "dashboard.back"))
    } else {
        ("/login", t(lang, "login.title"))
    }
}

pub fn message(lang: Lang, req: &Request, brand: &str, title: &str, text: &str) -> String {
    render(&MessagePage {
        head: Head::new(lang, req, brand, title),
        way: way_forward(lang, req),
        text,
    })
}

pub struct OutboxLine {
    pub channel: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub sent_at: String,
    pub links: Vec<String>,
}

page! {
    OutboxPage "outbox.html" {
    entries: Vec<OutboxLine>,
    }
}

/// `/_dev/outbox` (local mode).
pub fn outbox(req: &Request, brand: &str, entries: Vec<OutboxLine>) -> String {
    let lang = Lang::En;
    render(&OutboxPage {
        head: Head::new(lang, req, brand, "Outbox"),
        entries,
    })
}

impl<'a> Frame<'a> {
    /// The head of a page titled by the text of `title_key`.
    pub fn head(&self, title_key: &str) -> Head<'a> {
        Head::new(self.lang, self.req, self.brand, t(self.lang, title_key))
    }
}

/// What every page with a form starts from.
pub struct Frame<'a> {
    pub lang: Lang,
    pub req: &'a Request,
    pub brand: &'a str,
    pub csrf: &'a str,
    /// TOS-1, CLM-2: the documents the consent pages link.
    pub documents: &'a tobira::config::Documents,
}

#[cfg(test)]
mod way_tests {
    use super::*;

    fn req(path: &str, cookie: Option<&str>) -> Request {
        let mut b = http::Request::builder().uri(path);
        if let Some(c) = cookie {
            b = b.header(http::header::COOKIE, c);
        }
        b.body(Default::default()).unwrap()
    }

    // No dead ends: every message page leads somewhere useful.
    #[test]
    fn a_message_page_leads_on_to_a_new_link_the_dashboard_or_the_sign_in() {
        let en = Lang::En;
        let link = way_forward(en, &req("/setup?token=used", None));
        assert_eq!(link, ("/password/forgot", "Get a new link"));
        let link = way_forward(en, &req("/password/reset?token=x", None));
        assert_eq!(link.0, "/password/forgot");
        let session = Some("a=1; __Host-tobira-session=abc");
        assert_eq!(way_forward(en, &req("/cases/CS1", session)).0, "/");
        assert_eq!(way_forward(en, &req("/cases/CS1", None)).0, "/login");
        assert_eq!(
            way_forward(Lang::Ja, &req("/x", session)).1,
            "ダッシュボードへ戻る"
        );
    }
}
