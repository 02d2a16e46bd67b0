//! The tenant admin's pages (ADM-1..5, ADM-7, ADM-8): the list of the
//! tenant's users, one user with what the admin may do to them, and the
//! form that creates or edits a user. The forms are in `admin_form.rs`.

use super::{page, render, Frame, Head};
use crate::i18n::{t, Lang};
use tobira::admin::directory::Status;
use tobira::admin::{UserDetail, UserPage};
use tobira::clock::Timestamp;
use tobira::model::Role;

/// The word of a status (the list's filter and `data-status`).
pub fn status_word(s: Status) -> &'static str {
    match s {
        Status::Active => "active",
        Status::Pending => "pending",
        Status::Disabled => "disabled",
        Status::Locked => "locked",
    }
}

/// The statuses in the order the filter offers them.
const STATUSES: [Status; 4] = [
    Status::Active,
    Status::Pending,
    Status::Locked,
    Status::Disabled,
];

pub fn status_label(lang: Lang, s: Status) -> &'static str {
    t(lang, &format!("admin.status_{}", status_word(s)))
}

pub fn role_label(lang: Lang, r: Role) -> &'static str {
    match r {
        Role::Admin => t(lang, "admin.role_admin"),
        Role::General => t(lang, "admin.role_general"),
    }
}

/// A second-factor method's name (`totp`, `email`, `sms`).
pub fn method_label(lang: Lang, m: &str) -> &'static str {
    match m {
        "totp" => t(lang, "enroll.totp"),
        "email" => t(lang, "enroll.email"),
        "sms" => t(lang, "enroll.sms"),
        "voice" => t(lang, "enroll.voice"),
        _ => "-",
    }
}

/// ADM-8: what the last change was (its audit kind), in words.
fn change_label(lang: Lang, what: &str) -> String {
    let key = match what {
        "admin.user_created" => "admin.change_created",
        "account.details_changed" => "admin.change_details",
        "account.login_id_changed" => "admin.change_login_id",
        "account.disabled" => "admin.change_disabled",
        "account.enabled" => "admin.change_enabled",
        "account.unlocked" => "admin.change_unlocked",
        "mfa.factors_reset" => "admin.change_factors_reset",
        "migration.identity_confirmed" => "admin.change_identity",
        other => return other.to_string(),
    };
    t(lang, key).to_string()
}

/// A user as a line of the list.
struct UserLine<'a> {
    id: &'a str,
    name: &'a str,
    email: &'a str,
    login_id: &'a str,
    role_label: &'static str,
    phone: &'a str,
    status: &'static str,
    status_label: &'static str,
    /// Disabled or locked: the admin may want to act.
    attention: bool,
}

page! {
    UsersPage "admin/users.html" {
    items: Vec<UserLine<'a>>,
    q: &'a str,
    tenant_id: &'a str,
    /// value, label, selected (the first: every status)
    statuses: Vec<(&'static str, &'static str, bool)>,
    next_href: Option<String>,
    paged: bool,
    first_href: String,
    notice: Option<&'a str>,
    error: Option<&'a str>,
    }
}

/// ADM-5: what the list page shows and how it was asked for.
pub struct UserList<'a> {
    pub page: &'a UserPage,
    pub q: &'a str,
    /// A status word, or empty for all.
    pub status: &'a str,
    /// ADM-4: a child tenant's ID, or empty for the admin's own.
    pub tenant_id: &'a str,
    pub paged: bool,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// `/admin/users` with the search, filter, tenant and (optionally) a cursor.
pub fn users_href(q: &str, status: &str, tenant_id: &str, cursor: Option<&str>) -> String {
    let pairs: Vec<(&str, &str)> = [("q", q), ("status", status), ("tenant_id", tenant_id)]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .chain(cursor.map(|c| ("cursor", c)))
        .collect();
    match serde_urlencoded::to_string(&pairs) {
        Ok(qs) if !qs.is_empty() => format!("/admin/users?{qs}"),
        _ => "/admin/users".into(),
    }
}

/// ADM-5: a page of the tenant's users.
pub fn admin_users(f: &Frame<'_>, l: &UserList<'_>) -> String {
    let lang = f.lang;
    let mut statuses = vec![("", t(lang, "admin.status_all"), l.status.is_empty())];
    statuses.extend(STATUSES.iter().map(|s| {
        let word = status_word(*s);
        (word, status_label(lang, *s), word == l.status)
    }));
    render(&UsersPage {
        head: f.head("admin.users_title"),
        items: l
            .page
            .items
            .iter()
            .map(|u| UserLine {
                id: &u.user.id,
                name: &u.user.name,
                email: &u.user.email,
                login_id: &u.user.login_id,
                role_label: role_label(lang, u.user.role),
                phone: &u.user.phone,
                status: status_word(u.status),
                status_label: status_label(lang, u.status),
                attention: matches!(u.status, Status::Disabled | Status::Locked),
            })
            .collect(),
        q: l.q,
        tenant_id: l.tenant_id,
        statuses,
        next_href: l
            .page
            .next_cursor
            .as_deref()
            .map(|c| users_href(l.q, l.status, l.tenant_id, Some(c))),
        paged: l.paged,
        first_href: users_href(l.q, l.status, l.tenant_id, None),
        notice: l.notice,
        error: l.error,
    })
}

page! {
    UserPageView "admin/user.html" {
    csrf: &'a str,
    id: &'a str,
    name: &'a str,
    status: &'static str,
    status_label: &'static str,
    attention: bool,
    /// label, element id, value
    rows: Vec<(&'static str, &'static str, String)>,
    /// ADM-8: what, by whom, when
    last_change: Option<(String, &'a str, String)>,
    /// path word, label, hint, secondary
    actions: Vec<(&'static str, &'static str, &'static str, bool)>,
    can_edit: bool,
    notice: Option<&'a str>,
    error: Option<&'a str>,
    }
}

/// What the detail page shows of a user, and to whom.
pub struct UserView<'a> {
    pub user: &'a UserDetail,
    /// The user is in the admin's own tenant (a child tenant's user may
    /// only have their link resent, ADM-4).
    pub own_tenant: bool,
    /// The admin's own account (never disabled by oneself).
    pub is_self: bool,
    /// The viewer's time zone (ADM-1): the times are shown in it.
    pub zone: &'a str,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
}

fn at(ms: i64, zone: &str) -> String {
    Timestamp::from_millis(ms).in_zone(zone)
}

fn or_dash(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "-".into())
}

/// The actions that apply to a user of this status (ADM-3, ADM-4, ADM-7).
fn actions(lang: Lang, v: &UserView<'_>) -> Vec<(&'static str, &'static str, &'static str, bool)> {
    let status = v.user.status;
    let words: &[&'static str] = match (v.own_tenant, status) {
        (false, Status::Pending) => &["resend-setup"],
        (false, _) => &[],
        (true, Status::Pending) => &["resend-setup", "disable"],
        (true, Status::Active) => &["reset-factors", "disable"],
        (true, Status::Locked) => &["unlock", "reset-factors", "disable"],
        (true, Status::Disabled) => &["enable"],
    };
    words
        .iter()
        .filter(|w| !(v.is_self && **w == "disable"))
        .map(|w| {
            let key = w.replace('-', "_");
            (
                *w,
                t(lang, &format!("admin.action_{key}")),
                t(lang, &format!("admin.action_{key}_hint")),
                *w == "disable" || *w == "reset-factors",
            )
        })
        .collect()
}

/// ADM-5, ADM-8: one user: the profile, the status, the last change and
/// what the admin may do.
pub fn admin_user(f: &Frame<'_>, v: &UserView<'_>) -> String {
    let lang = f.lang;
    let u = v.user;
    let p = &u.profile;
    let methods = if u.methods.is_empty() {
        t(lang, "admin.no_methods").to_string()
    } else {
        let names: Vec<&str> = u.methods.iter().map(|m| method_label(lang, m)).collect();
        names.join(", ")
    };
    let lang_name = match Lang::parse(u.lang) {
        Some(l) => lang_label(lang, l),
        None => u.lang,
    };
    let rows = vec![
        (t(lang, "admin.email"), "user-email", u.email.clone()),
        (
            t(lang, "login.login_id"),
            "user-login-id",
            u.login_id.clone(),
        ),
        (
            t(lang, "admin.role"),
            "user-role",
            role_label(lang, u.role).into(),
        ),
        (
            t(lang, "admin.title"),
            "user-title-field",
            or_dash(&p.title),
        ),
        (t(lang, "admin.group"), "user-group", or_dash(&p.group)),
        (t(lang, "admin.phone"), "user-phone", u.phone.clone()),
        (t(lang, "admin.mobile"), "user-mobile", or_dash(&p.mobile)),
        (t(lang, "admin.lang"), "user-lang", lang_name.into()),
        (
            t(lang, "admin.time_zone"),
            "user-time-zone",
            p.time_zone.clone().unwrap_or_else(|| "Asia/Tokyo".into()),
        ),
        (t(lang, "admin.methods"), "user-methods", methods),
        (
            t(lang, "admin.comment"),
            "user-comment",
            or_dash(&p.comment),
        ),
        (
            t(lang, "dashboard.tenant"),
            "user-tenant",
            u.tenant_id.clone(),
        ),
        (
            t(lang, "admin.created_at"),
            "user-created",
            at(u.created_at, v.zone),
        ),
        (
            t(lang, "admin.updated_at"),
            "user-updated",
            at(u.updated_at, v.zone),
        ),
        (
            t(lang, "admin.password_set_at"),
            "user-password-set",
            u.password_set_at
                .map_or_else(|| "-".into(), |t| at(t, v.zone)),
        ),
    ];
    render(&UserPageView {
        head: Head::new(lang, f.req, f.brand, &u.name),
        csrf: f.csrf,
        id: &u.id,
        name: &u.name,
        status: status_word(u.status),
        status_label: status_label(lang, u.status),
        attention: matches!(u.status, Status::Disabled | Status::Locked),
        rows,
        last_change: u.last_change.as_ref().map(|c| {
            (
                change_label(lang, &c.what),
                c.by.as_str(),
                c.at.in_zone(v.zone),
            )
        }),
        actions: actions(lang, v),
        can_edit: v.own_tenant,
        notice: v.notice,
        error: v.error,
    })
}

/// A mail language's name.
pub fn lang_label(lang: Lang, l: Lang) -> &'static str {
    match l {
        Lang::Ja => t(lang, "admin.lang_ja"),
        Lang::En => t(lang, "admin.lang_en"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The words the pages look up by a computed key have both languages.
    #[test]
    fn computed_keys_have_words() {
        let mut keys: Vec<String> = STATUSES
            .iter()
            .map(|s| format!("admin.status_{}", status_word(*s)))
            .collect();
        for w in [
            "disable",
            "enable",
            "unlock",
            "reset_factors",
            "resend_setup",
        ] {
            keys.push(format!("admin.action_{w}"));
            keys.push(format!("admin.action_{w}_hint"));
        }
        for lang in [Lang::Ja, Lang::En] {
            for k in &keys {
                assert_ne!(t(lang, k), "??", "{k} has no {lang:?} text");
            }
            for what in [
                "admin.user_created",
                "account.details_changed",
                "account.login_id_changed",
                "account.disabled",
                "account.enabled",
                "account.unlocked",
                "mfa.factors_reset",
                "migration.identity_confirmed",
            ] {
                assert_ne!(change_label(lang, what), "??", "{what}");
                assert_ne!(change_label(lang, what), what, "{what} has no words");
            }
        }
    }

    #[test]
    fn list_links_keep_the_search() {
        assert_eq!(users_href("", "", "", None), "/admin/users");
        assert_eq!(
            users_href("山田", "locked", "", Some("01ABC")),
            "/admin/users?q=%E5%B1%B1%E7%94%B0&status=locked&cursor=01ABC"
        );
    }
}
