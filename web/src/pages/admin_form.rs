//! The tenant admin's user form (ADM-1, ADM-2, ADM-4): a new user, or the
//! edit of one (with a pending user's e-mail correction).

use super::admin::lang_label;
use super::{page, render, Frame, Head};
use crate::i18n::{t, Lang};
use tobira::admin::UserDetail;

/// The time zones the form offers (ADM-1: any IANA zone is taken; a user's
/// zone that is not here is offered too).
pub const TIME_ZONES: &[&str] = &[
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Shanghai",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Bangkok",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Pacific/Honolulu",
    "UTC",
];

/// The second-factor methods an admin may choose (SET-4 offers only it):
/// SMS needs a number the user proves, so it is not preset.
pub const PRESET_METHODS: [&str; 2] = ["totp", "email"];

/// What the user form holds: empty, a user's values, or as sent when
/// refused. Every field as text, as the form posts it.
#[derive(Clone, Debug, Default)]
pub struct UserForm<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub title: &'a str,
    pub phone: &'a str,
    pub mobile: &'a str,
    pub lang: &'a str,
    pub time_zone: &'a str,
    pub mfa_method: &'a str,
    pub role: &'a str,
    pub group: &'a str,
    pub comment: &'a str,
    pub login_id: &'a str,
}

impl<'a> UserForm<'a> {
    /// The values of a user, to edit.
    pub fn of(u: &'a UserDetail) -> Self {
        let p = &u.profile;
        Self {
            name: &u.name,
            email: &u.email,
            title: p.title.as_deref().unwrap_or_default(),
            phone: &u.phone,
            mobile: p.mobile.as_deref().unwrap_or_default(),
            lang: u.lang,
            time_zone: p.time_zone.as_deref().unwrap_or_default(),
            mfa_method: "",
            role: match u.role {
                tobira::model::Role::Admin => "admin",
                tobira::model::Role::General => "general",
            },
            group: p.group.as_deref().unwrap_or_default(),
            comment: p.comment.as_deref().unwrap_or_default(),
            login_id: &u.login_id,
        }
    }
}

page! {
    UserFormPage "admin/user_form.html" {
    csrf: &'a str,
    /// Empty for a new user.
    id: &'a str,
    action: String,
    heading: &'static str,
    form: &'a UserForm<'a>,
    /// value, label, selected
    langs: Vec<(&'static str, &'static str, bool)>,
    /// value, label, selected
    zones: Vec<(&'a str, String, bool)>,
    methods: Vec<(&'static str, &'static str, bool)>,
    roles: Vec<(&'static str, &'static str, bool)>,
    /// ADM-4: a pending user's e-mail, to correct (edit only).
    correct_email: Option<&'a str>,
    error: Option<&'a str>,
    }
}

/// The user form. `editing`: the user edited (their ID, and whether they
/// are still pending: then their e-mail may be corrected).
pub fn admin_user_form(
    f: &Frame<'_>,
    form: &UserForm<'_>,
    editing: Option<(&str, bool)>,
    error: Option<&str>,
) -> String {
    let lang = f.lang;
    let is_new = editing.is_none();
    let chosen_lang = if form.lang.is_empty() {
        lang.code()
    } else {
        form.lang
    };
    // A user edited who has no zone of their own (Japan's, the default)
    // keeps none: the form's empty choice, so that saving changes nothing.
    let keep_default = !is_new && form.time_zone.is_empty();
    let zone = if form.time_zone.is_empty() {
        "Asia/Tokyo"
    } else {
        form.time_zone
    };
    let mut zones: Vec<(&str, String, bool)> = TIME_ZONES
        .iter()
        .map(|z| (*z, z.to_string(), !keep_default && *z == zone))
        .collect();
    if !TIME_ZONES.contains(&zone) {
        zones.insert(0, (zone, zone.to_string(), true));
    }
    if keep_default {
        let label = format!("Asia/Tokyo ({})", t(lang, "admin.zone_default"));
        zones.insert(0, ("", label, true));
    }
    // A new user's method is chosen (required); an edit keeps the preset
    // one unless another is chosen.
    let mut methods: Vec<(&'static str, &'static str, bool)> = Vec::new();
    methods.push((
        "",
        t(
            lang,
            if is_new {
                "admin.choose"
            } else {
                "admin.method_unchanged"
            },
        ),
        form.mfa_method.is_empty(),
    ));
    methods.extend(PRESET_METHODS.iter().map(|m| {
        (
            *m,
            super::admin::method_label(lang, m),
            *m == form.mfa_method,
        )
    }));
    let role = if form.role.is_empty() {
        "general"
    } else {
        form.role
    };
    let (id, pending) = editing.unwrap_or(("", false));
    let heading = t(
        lang,
        if is_new {
            "admin.new_user"
        } else {
            "admin.edit_user"
        },
    );
    render(&UserFormPage {
        head: Head::new(lang, f.req, f.brand, heading),
        csrf: f.csrf,
        id,
        action: if is_new {
            "/admin/users/new".into()
        } else {
            format!("/admin/users/{id}/edit")
        },
        heading,
        form,
        langs: [Lang::Ja, Lang::En]
            .iter()
            .map(|l| (l.code(), lang_label(lang, *l), l.code() == chosen_lang))
            .collect(),
        zones,
        methods,
        roles: [
            ("general", "admin.role_general"),
            ("admin", "admin.role_admin"),
        ]
        .iter()
        .map(|(v, k)| (*v, t(lang, k), *v == role))
        .collect(),
        correct_email: pending.then_some(form.email),
        error,
    })
}
