//! The admin's pages (ADM-1..5, ADM-7, ADM-8): the list, a user, the new
//! and edit forms, and the answers to their form posts. The form posts'
//! use cases are the API's handlers in `lib.rs`; this module shows pages.

use tobira::admin::directory::Status;
use tobira::admin::{UserDetail, UserQuery};
use tobira::model::User;
use tobira::session::Stage;
use tobira::{App, Error};
use tobira_web::call::Call;
use tobira_web::pages::{self, UserForm, UserList, UserView};
use tobira_web::views;
use tobira_web::web::{self, Response};

/// The signed-in admin, before any input is read (SES-2: a full session).
/// Anyone else gets their answer: the JSON client its error; a page
/// without a full session the way to sign in or to its own step, and a
/// signed-in user who is no admin the 403 page.
pub(crate) async fn admin(app: &App, call: &Call<'_>) -> Result<User, Box<Response>> {
    let user = match app.signed(call.session(), &[Stage::Full]).await {
        Ok(s) => s.user,
        Err(e) if call.is_json() => return Err(Box::new(call.refuse(app, &e))),
        Err(e) => return Err(Box::new(views::session_refused(app, call.req, &e).await)),
    };
    match tobira::admin::require_admin(&user) {
        Ok(()) => Ok(user),
        Err(e) => Err(Box::new(call.refuse(app, &e))),
    }
}

/// The admin and a user they may see (`own`: only a user of the admin's
/// own tenant), or the answer: the admin's refusal, or 404.
async fn admin_and_user(
    app: &App,
    call: &Call<'_>,
    id: &str,
    own: bool,
) -> Result<(User, UserDetail), Box<Response>> {
    let admin = admin(app, call).await?;
    let detail = match app.user_detail(&admin, id).await {
        Ok(d) if own && d.tenant_id != admin.tenant_id.as_str() => Err(Error::NotFound),
        other => other,
    };
    match detail {
        Ok(d) => Ok((admin, d)),
        Err(e) => Err(Box::new(views::not_shown(app, call, &e))),
    }
}

/// ADM-5: `GET /admin/users` — a page of the tenant's users (or of a
/// child tenant's, ADM-4), searched, filtered, a page at a time.
pub(crate) async fn list(app: &App, call: &Call<'_>) -> Response {
    let admin = match admin(app, call).await {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let [q, status, cursor, tenant_id] = ["q", "status", "cursor", "tenant_id"]
        .map(|k| web::query_param(call.req, k).unwrap_or_default());
    let query = UserQuery {
        tenant_id: Some(&tenant_id),
        q: Some(&q),
        status: Some(&status),
        cursor: Some(&cursor),
    };
    let (page, refusal) = match app.list_users(&admin, &query).await {
        Ok(p) => (p, None),
        Err(e @ (Error::Invalid { .. } | Error::NotFound)) => (Default::default(), Some(e)),
        Err(e) => return call.refuse(app, &e),
    };
    // An unknown status is shown as "all" in the filter.
    let status = if Status::parse(&status).is_some() {
        status.as_str()
    } else {
        ""
    };
    let notice = views::flash(call.req, "notice");
    views::form_page(app, call.req, refusal.as_ref(), |f, error| {
        pages::admin_users(
            f,
            &UserList {
                page: &page,
                q: &q,
                status,
                tenant_id: &tenant_id,
                paged: !cursor.is_empty(),
                notice,
                error,
            },
        )
    })
}

/// ADM-5, ADM-8: `GET /admin/users/{id}` — one user, what was last changed
/// and by whom, and the actions that apply; with the refusal when a form
/// of the page was refused.
pub(crate) async fn user(
    app: &App,
    call: &Call<'_>,
    id: &str,
    refusal: Option<&Error>,
) -> Response {
    let (admin, detail) = match admin_and_user(app, call, id, false).await {
        Ok(found) => found,
        Err(r) => return *r,
    };
    let notice = views::flash(call.req, "notice");
    views::form_page(app, call.req, refusal, |f, error| {
        pages::admin_user(
            f,
            &UserView {
                user: &detail,
                own_tenant: detail.tenant_id == admin.tenant_id.as_str(),
                is_self: detail.id == admin.id,
                zone: tobira::history::zone_of(&admin).name(),
                notice,
                error,
            },
        )
    })
}

/// ADM-1: `GET /admin/users/new` — the new-user form, empty or as sent
/// with its refusal.
pub(crate) async fn new_user(
    app: &App,
    call: &Call<'_>,
    form: &UserForm<'_>,
    refusal: Option<&Error>,
) -> Response {
    if let Err(r) = admin(app, call).await {
        return *r;
    }
    views::form_page(app, call.req, refusal, |f, error| {
        pages::admin_user_form(f, form, None, error)
    })
}

/// ADM-1, ADM-2, ADM-4: `GET /admin/users/{id}/edit` — the edit form with
/// the user's values, or the values sent (`typed`) with the refusal. Only
/// a user of the admin's own tenant is edited here.
pub(crate) async fn edit_user(
    app: &App,
    call: &Call<'_>,
    id: &str,
    typed: Option<&UserForm<'_>>,
    refusal: Option<&Error>,
) -> Response {
    let (_, detail) = match admin_and_user(app, call, id, true).await {
        Ok(found) => found,
        Err(r) => return *r,
    };
    let form = match typed {
        // The address is not a field of the edit: the user's, always.
        Some(t) => UserForm {
            email: &detail.email,
            ..t.clone()
        },
        None => UserForm::of(&detail),
    };
    let pending = detail.status == Status::Pending;
    views::form_page(app, call.req, refusal, |f, error| {
        pages::admin_user_form(f, &form, Some((&detail.id, pending)), error)
    })
}

/// The page's answer to a form post of the user's page or edit form:
/// back to the user with a notice, or the page again with the refusal
/// (400, 403, 409); a user the admin may not see is 404.
pub(crate) async fn after_form(
    app: &App,
    call: &Call<'_>,
    id: &str,
    result: Result<&'static str, Error>,
    again: Again<'_>,
) -> Response {
    match result {
        Ok(notice) => web::redirect(&format!("/admin/users/{id}?notice={notice}")),
        Err(e @ (Error::Invalid { .. } | Error::Conflict { .. } | Error::Refused { .. })) => {
            match again {
                Again::User => user(app, call, id, Some(&e)).await,
                Again::Edit(typed) => edit_user(app, call, id, typed, Some(&e)).await,
            }
        }
        Err(e) => views::not_shown(app, call, &e),
    }
}

/// Which page a refused form shows again.
pub(crate) enum Again<'a> {
    /// The user's page (an action's button).
    User,
    /// The edit form, with the values sent (none: the user's).
    Edit(Option<&'a UserForm<'a>>),
}

impl crate::CreateInput {
    /// The new-user form as sent.
    pub(crate) fn form(&self) -> UserForm<'_> {
        UserForm {
            name: &self.name,
            email: &self.email,
            title: self.title.as_deref().unwrap_or_default(),
            phone: &self.phone,
            mobile: self.mobile.as_deref().unwrap_or_default(),
            lang: &self.lang,
            time_zone: &self.time_zone,
            mfa_method: &self.mfa_method,
            role: &self.role,
            group: self.group.as_deref().unwrap_or_default(),
            comment: self.comment.as_deref().unwrap_or_default(),
            login_id: self.login_id.as_deref().unwrap_or_default(),
        }
    }
}

impl crate::UpdateInput {
    /// The edit form as sent (the e-mail is the user's: not a field).
    pub(crate) fn form(&self) -> UserForm<'_> {
        UserForm {
            name: text(&self.name),
            email: "",
            title: text(&self.title),
            phone: text(&self.phone),
            mobile: text(&self.mobile),
            lang: text(&self.lang),
            time_zone: text(&self.time_zone),
            mfa_method: text(&self.mfa_method),
            role: text(&self.role),
            group: text(&self.group),
            comment: text(&self.comment),
            login_id: text(&self.login_id),
        }
    }
}

fn text(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or_default()
}
