//! The `manage-users` function: tenant administration (ADM) — the admin's
//! list of the tenant's users, one user's detail, and what an admin does to
//! a user (disable, enable, unlock, reset factors). Every route needs a full
//! session (SES-2) and the admin role; the tenant is the session user's,
//! never a request field, and a user of another tenant is 404.

use serde::Deserialize;
use tobira::admin::actions::{Action, Actor};
use tobira::admin::create::ProfileFields;
use tobira::admin::{NewUser, UserQuery, UserUpdate};
use tobira::i18n::Lang;
use tobira::model::Role;
use tobira::model::User;
use tobira::session::Stage;
use tobira::setup::IdentityFix;
use tobira::{App, Error};
use tobira_web::call::Call;
use tobira_web::errors;
use tobira_web::or_refuse;
use tobira_web::pages::UserForm;
use tobira_web::web::{self, Response};

use pages::Again;

mod history;
mod pages;

tobira_web::handler!(routes);

/// The function's routes: one handler per use case.
async fn routes(app: &App, call: &Call<'_>) -> Response {
    let req = call.req;
    let path = req.uri().path().to_string();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    // ADM-6: the sign-in history (`history.rs`).
    if let Some(answer) = history::route(app, call, &parts).await {
        return answer;
    }
    // The pages' paths are the API's without `/api` (but a page creates at
    // `/admin/users/new` and edits at `/admin/users/{id}/edit`).
    let parts = match parts.as_slice() {
        ["api", rest @ ..] => rest,
        all => all,
    };
    match (req.method().as_str(), parts, call.is_json()) {
        ("GET", ["admin", "users"], true) => list(app, call).await,
        ("GET", ["admin", "users"], false) => pages::list(app, call).await,
        ("POST", ["admin", "users"], true) | ("POST", ["admin", "users", "new"], false) => {
            create(app, call).await
        }
        ("GET", ["admin", "users", "new"], false) => {
            pages::new_user(app, call, &UserForm::default(), None).await
        }
        ("GET", ["admin", "users", id], true) => detail(app, call, id).await,
        ("GET", ["admin", "users", id], false) => pages::user(app, call, id, None).await,
        ("POST", ["admin", "users", id], true)
        | ("POST", ["admin", "users", id, "edit"], false) => update(app, call, id).await,
        ("GET", ["admin", "users", id, "edit"], false) => {
            pages::edit_user(app, call, id, None, None).await
        }
        ("POST", ["admin", "users", id, action], _) => act(app, call, id, action).await,
        _ => errors::not_found(app, req),
    }
}

/// The signed-in admin (SES-2: a full session only; 403 for anyone else),
/// before any input is read: nobody else learns what the input would need.
/// The domain checks the role again.
async fn signed(app: &App, call: &Call<'_>) -> Result<User, Error> {
    let user = app.signed(call.session(), &[Stage::Full]).await?.user;
    tobira::admin::require_admin(&user)?;
    Ok(user)
}

/// ADM-5: a page of the tenant's users.
async fn list(app: &App, call: &Call<'_>) -> Response {
    let result = async {
        let admin = signed(app, call).await?;
        let [q, status, cursor, tenant_id] =
            ["q", "status", "cursor", "tenant_id"].map(|k| web::query_param(call.req, k));
        let query = UserQuery {
            tenant_id: tenant_id.as_deref(),
            q: q.as_deref(),
            status: status.as_deref(),
            cursor: cursor.as_deref(),
        };
        Ok((200, app.list_users(&admin, &query).await?))
    }
    .await;
    errors::api(result, call.lang)
}

/// ADM-1's fields as the API takes them (unknown fields refused).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateInput {
    name: String,
    email: String,
    #[serde(default)]
    title: Option<String>,
    phone: String,
    #[serde(default)]
    mobile: Option<String>,
    lang: String,
    time_zone: String,
    mfa_method: String,
    role: String,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    login_id: Option<String>,
}

/// ADM-1, ADM-2: create a user of the admin's tenant; the registration
/// mail goes out (RST-4). A page goes on to the new user, or shows the
/// form again as sent with the refusal.
async fn create(app: &App, call: &Call<'_>) -> Response {
    let admin = match pages::admin(app, call).await {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let input: CreateInput = or_refuse!(app, call, call.input(app));
    let result = async {
        if input.time_zone.trim().is_empty() {
            return Err(Error::invalid("invalid_time_zone"));
        }
        let lang = lang_of(&input.lang)?;
        let role = role_of(&input.role)?;
        let new = NewUser {
            tenant_id: admin.tenant_id.as_str(),
            name: &input.name,
            email: &input.email,
            phone: &input.phone,
            lang,
            method: Some(&input.mfa_method),
            role,
            profile: ProfileFields {
                title: input.title.as_deref(),
                mobile: input.mobile.as_deref(),
                time_zone: Some(&input.time_zone),
                group: input.group.as_deref(),
                comment: input.comment.as_deref(),
            },
            login_id: input.login_id.as_deref(),
            created_by: None,
        };
        app.admin_create_user(&admin, &new, &call.ctx).await
    }
    .await;
    if call.is_json() {
        let made = result
            .map(|(id, login_id)| (201, serde_json::json!({ "id": id, "login_id": login_id })));
        return errors::api(made, call.lang);
    }
    match result {
        Ok((id, _)) => web::redirect(&format!("/admin/users/{id}?notice=user_created")),
        Err(e @ (Error::Invalid { .. } | Error::Conflict { .. })) => {
            pages::new_user(app, call, &input.form(), Some(&e)).await
        }
        Err(e) => call.refuse(app, &e),
    }
}

/// What an admin may change (every field optional; unknown ones refused).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateInput {
    name: Option<String>,
    phone: Option<String>,
    lang: Option<String>,
    role: Option<String>,
    mfa_method: Option<String>,
    title: Option<String>,
    mobile: Option<String>,
    time_zone: Option<String>,
    group: Option<String>,
    comment: Option<String>,
    login_id: Option<String>,
}

/// ADM-1, ADM-2: change a user of the admin's tenant. A page goes back to
/// the user, or shows the form again as sent with the refusal.
async fn update(app: &App, call: &Call<'_>, id: &str) -> Response {
    let admin = match pages::admin(app, call).await {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let mut input: UpdateInput = or_refuse!(app, call, call.input(app));
    if !call.is_json() {
        // The form's "keep as it is" second-factor method.
        input.mfa_method = input.mfa_method.filter(|m| !m.is_empty());
    }
    let result = async {
        let upd = UserUpdate {
            name: input.name.as_deref(),
            phone: input.phone.as_deref(),
            lang: input.lang.as_deref().map(lang_of).transpose()?,
            role: input.role.as_deref().map(role_of).transpose()?,
            mfa_method: input.mfa_method.as_deref(),
            profile: ProfileFields {
                title: input.title.as_deref(),
                mobile: input.mobile.as_deref(),
                time_zone: input.time_zone.as_deref(),
                group: input.group.as_deref(),
                comment: input.comment.as_deref(),
            },
            login_id: input.login_id.as_deref(),
        };
        app.admin_update_user(&admin, id, &upd, &call.ctx).await
    }
    .await;
    if call.is_json() {
        return errors::api(result.map(|d| (200, d)), call.lang);
    }
    let typed = input.form();
    let saved = result.map(|_| "user_saved");
    pages::after_form(app, call, id, saved, Again::Edit(Some(&typed))).await
}

fn lang_of(s: &str) -> Result<Lang, Error> {
    Lang::parse(s).ok_or_else(|| Error::invalid("invalid_lang").with("field", "lang"))
}

fn role_of(s: &str) -> Result<Role, Error> {
    match s {
        "admin" => Ok(Role::Admin),
        "general" => Ok(Role::General),
        _ => Err(Error::invalid("invalid_role")),
    }
}

/// ADM-5: one user of the tenant.
async fn detail(app: &App, call: &Call<'_>, id: &str) -> Response {
    let result = async {
        let admin = signed(app, call).await?;
        Ok((200, app.user_detail(&admin, id).await?))
    }
    .await;
    errors::api(result, call.lang)
}

/// What an admin does to one user (the route table names the actions):
/// ADM-3, ADM-7 disable, enable, unlock, reset factors (an empty body);
/// ADM-4 resend the setup link (an empty body) or correct the identity of a
/// pending user. The answer is the user's status now; a page's, the user's
/// page with a notice, or the page again with the refusal.
async fn act(app: &App, call: &Call<'_>, id: &str, action: &str) -> Response {
    let admin = match pages::admin(app, call).await {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let result = async {
        let status = match action {
            "identity" => {
                /// A pending user's identity as corrected (each optional).
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                struct Corrected {
                    email: Option<String>,
                    name: Option<String>,
                    phone: Option<String>,
                }
                let input: Corrected = call.input(app)?;
                let (email, name, phone) = (input.email, input.name, input.phone);
                let fix = IdentityFix::parse(email.as_deref(), name.as_deref(), phone.as_deref())?;
                app.admin_fix_identity(&admin, id, &fix, &call.ctx).await?
            }
            "resend-setup" => {
                call.no_input(app)?;
                app.resend_setup(&admin, id, &call.ctx).await?
            }
            other => {
                call.no_input(app)?;
                let action = Action::parse(other).ok_or(Error::NotFound)?;
                app.act_on_user(Actor::Admin(&admin), id, action, &call.ctx)
                    .await?
            }
        };
        Ok(status)
    }
    .await;
    if call.is_json() {
        let acted = result.map(|status| (200, serde_json::json!({ "id": id, "status": status })));
        return errors::api(acted, call.lang);
    }
    let notice = match action {
        "identity" => "identity_corrected",
        "resend-setup" => "setup_resent",
        "enable" => "user_enabled",
        "unlock" => "user_unlocked",
        "reset-factors" => "factors_reset",
        _ => "user_disabled",
    };
    let again = match action {
        "identity" => Again::Edit(None),
        _ => Again::User,
    };
    pages::after_form(app, call, id, result.map(|_| notice), again).await
}
