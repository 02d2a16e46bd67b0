//! The tenant admin's pages (ADM-1..5, ADM-8) without JavaScript: the
//! list, a user with its actions, the new-user and edit forms. Only an
//! admin is served (a general user gets the 403 page), only inside the
//! admin's tenant (another tenant's user is 404), and a refused form shows
//! the error with what was typed and writes nothing.

use crate::admin_api::{admin_and_member, make_admin};
use crate::cases_support::signed_in;
use crate::mfa_support::{Client, PW};
use crate::support::{body_text, get, hidden, Harness};

const TENANT_A: &str = "econ7400000001";
const TENANT_B: &str = "econ7400000002";

/// A page's status and HTML.
async fn page(c: &mut Client<'_>, path: &str) -> (u16, String) {
    let r = c.get(path).await;
    (r.status().as_u16(), body_text(&r))
}

/// A form post from the page at `from` (its CSRF token): status, where
/// it redirects (if it does) and the HTML.
async fn post(
    c: &mut Client<'_>,
    from: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String, String) {
    let (_, html) = page(c, from).await;
    let csrf = hidden(&html, "csrf");
    let r = c.h.send(c.jar.form(path, &csrf, fields)).await;
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (r.status().as_u16(), location, body_text(&r))
}

/// `login`, signed in to `tenant` (`ecid`) and made an admin.
async fn admin_in<'h>(h: &'h Harness, login: &str, tenant: &str, ecid: &str) -> Client<'h> {
    let admin = signed_in(h, login, tenant, ecid).await;
    make_admin(h, login).await;
    admin
}

/// The new-user form posted with `fields`: status, where it redirects
/// and the HTML.
async fn create(c: &mut Client<'_>, fields: &[(&str, &str)]) -> (u16, String, String) {
    let form = "/admin/users/new";
    post(c, form, form, fields).await
}

/// A button of the user's page (`action`): back on the page with
/// `?notice={notice}`; that page's HTML.
async fn act(c: &mut Client<'_>, user_page: &str, action: &str, notice: &str) -> String {
    let (s, to, _) = post(c, user_page, &format!("{user_page}/{action}"), &[]).await;
    assert_eq!(
        (s, to.as_str()),
        (303, &*format!("{user_page}?notice={notice}"))
    );
    page(c, &to).await.1
}

/// Every field of the new-user form.
fn new_user<'a>(name: &'a str, email: &'a str, login_id: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("email", email),
        ("title", "課長"),
        ("phone", "03-1234-5678"),
        ("mobile", ""),
        ("lang", "ja"),
        ("time_zone", "Asia/Tokyo"),
        ("mfa_method", "email"),
        ("role", "general"),
        ("group", "情報システム部"),
        ("comment", ""),
        ("login_id", login_id),
    ]
}

// ADM-5, ADM-3: the pages serve an admin of the tenant: a general user
// gets the 403 page on every one of them and changes nothing; another
// tenant's admin finds no user (404); nobody signed in is sent to sign in.
#[tokio::test]
async fn adm_5_adm_3_admin_pages_serve_the_tenants_admins_only() {
    let h = Harness::new();
    let (mut admin, mut member) = admin_and_member(&h, TENANT_A, "ecid740000000").await;
    let mut other = admin_in(&h, "boss@b.example", TENANT_B, "ecid7400000003").await;
    let id = h.user("member@a.example").await.id;
    let user_page = format!("/admin/users/{id}");

    // The admin: the list (with search and filter), the user, the forms.
    let (s, html) = page(&mut admin, "/admin/users").await;
    assert_eq!(s, 200);
    assert!(
        html.contains("data-login-id=\"member@a.example\"")
            && crate::support::only_portal_script(&html)
    );
    assert!(html.contains(&format!("href=\"{user_page}\"")));
    let (_, html) = page(&mut admin, "/admin/users?q=MEMBER").await;
    assert!(html.contains("data-login-id=\"member@a.example\""));
    assert!(!html.contains("data-login-id=\"admin@a.example\""));
    let (_, html) = page(&mut admin, "/admin/users?status=disabled").await;
    assert!(html.contains("id=\"no-users\""), "{html}");
    let (s, html) = page(&mut admin, "/admin/users?status=asleep").await;
    assert_eq!(s, 400);
    assert!(html.contains("id=\"form-error\""));
    let (s, html) = page(&mut admin, &user_page).await;
    assert_eq!(s, 200);
    assert!(html.contains("data-status=\"active\"") && html.contains("id=\"action-disable\""));
    assert!(html.contains(&format!("href=\"/admin/sign-ins?user_id={id}\"")));
    assert_eq!(page(&mut admin, "/admin/users/new").await.0, 200);
    let (s, html) = page(&mut admin, &format!("{user_page}/edit")).await;
    assert_eq!(s, 200);
    // A user without a zone of their own keeps none when the form is saved.
    assert!(
        html.contains("<option value=\"\" selected>Asia/Tokyo ("),
        "{html}"
    );
    // The dashboard links an admin (only) to the users and the sign-ins.
    let (_, dash) = page(&mut admin, "/").await;
    assert!(dash.contains("href=\"/admin/users\"") && dash.contains("href=\"/admin/sign-ins\""));
    let (_, dash) = page(&mut member, "/").await;
    assert!(!dash.contains("href=\"/admin/users\""));

    // A general user: the 403 page everywhere, and no change.
    for path in [
        "/admin/users".to_string(),
        "/admin/users/new".into(),
        user_page.clone(),
        format!("{user_page}/edit"),
    ] {
        let (s, html) = page(&mut member, &path).await;
        assert_eq!(s, 403, "{path}");
        assert!(!html.contains("member@a.example"), "{path}");
    }
    let fields = new_user("侵入 太郎", "intruder@a.example", "");
    for (path, fields) in [
        ("/admin/users/new".to_string(), fields.as_slice()),
        (format!("{user_page}/disable"), &[]),
        (format!("{user_page}/edit"), &[("title", "x")]),
    ] {
        let (s, _, _) = post(&mut member, "/", &path, fields).await;
        assert_eq!(s, 403, "{path}");
    }
    assert!(h.find_user("intruder@a.example").await.is_none());
    let (_, html) = page(&mut admin, &user_page).await;
    assert!(html.contains("data-status=\"active\""));

    // Another tenant's admin: no such user.
    assert_eq!(page(&mut other, &user_page).await.0, 404);
    assert_eq!(page(&mut other, &format!("{user_page}/edit")).await.0, 404);
    let (s, _, _) = post(&mut other, "/", &format!("{user_page}/disable"), &[]).await;
    assert_eq!(s, 404);
    let (_, html) = page(&mut other, "/admin/users").await;
    assert!(!html.contains("member@a.example"));

    // Nobody signed in: to the sign-in page.
    let r = h.send(get("/admin/users")).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login");
}

// ADM-3, ADM-8: the user's page disables, enables and unlocks, each back
// on the page with a notice, the status and who changed it last.
#[tokio::test]
async fn adm_3_adm_8_the_user_page_disables_enables_and_unlocks() {
    let h = Harness::new();
    let (mut admin, _) = admin_and_member(&h, TENANT_A, "ecid740000001").await;
    let id = h.user("member@a.example").await.id;
    let user_page = format!("/admin/users/{id}");

    let html = act(&mut admin, &user_page, "disable", "user_disabled").await;
    assert!(html.contains("id=\"form-notice\"") && html.contains("data-status=\"disabled\""));
    assert!(html.contains("id=\"action-enable\"") && !html.contains("id=\"action-disable\""));
    assert!(html.contains("<span id=\"last-change-by\">admin@a.example</span>"));
    assert_eq!(Client::new(&h).login("member@a.example", PW).await.0, 401);

    let html = act(&mut admin, &user_page, "enable", "user_enabled").await;
    assert!(html.contains("data-status=\"active\""));

    // LOG-2: five wrong passwords lock the member; the admin sees it.
    for _ in 0..5 {
        Client::new(&h)
            .login("member@a.example", "Wrong-Pass-1")
            .await;
    }
    let (_, html) = page(&mut admin, "/admin/users?status=locked").await;
    assert!(
        html.contains("data-login-id=\"member@a.example\""),
        "{html}"
    );
    let (_, html) = page(&mut admin, &user_page).await;
    assert!(html.contains("data-status=\"locked\"") && html.contains("id=\"action-unlock\""));
    let html = act(&mut admin, &user_page, "unlock", "user_unlocked").await;
    assert!(html.contains("data-status=\"active\""));
    assert_eq!(Client::new(&h).login("member@a.example", PW).await.0, 200);

    // The admin's own page offers no "disable"; the refusal of a stale
    // form is the page again with the error (409), nothing changed.
    let own = h.user("admin@a.example").await.id;
    let own_page = format!("/admin/users/{own}");
    let (_, html) = page(&mut admin, &own_page).await;
    assert!(!html.contains("id=\"action-disable\""));
    let (s, _, html) = post(&mut admin, &own_page, &format!("{own_page}/disable"), &[]).await;
    assert_eq!(s, 409);
    assert!(html.contains("id=\"form-error\"") && html.contains("data-status=\"active\""));

    // ADM-1: the times are the viewer's: Japan's by default, else the
    // admin's own time zone.
    let (_, html) = page(&mut admin, &user_page).await;
    assert!(html.contains(" JST") && !html.contains(" EST"), "{html}");
    crate::admin_api::change_user(&h, "admin@a.example", |u| {
        u.profile.time_zone = Some("America/New_York".into())
    })
    .await;
    let (_, html) = page(&mut admin, &user_page).await;
    assert!(html.contains(" EST") && !html.contains(" JST"), "{html}");
}

// ADM-1, ADM-2: the new-user form: a refusal (400, 409) shows the form
// again with what was typed and writes nothing; a user created goes to
// their page, with the registration mail sent (RST-4) and the admin as the
// last change (ADM-8).
#[tokio::test]
async fn adm_1_adm_2_the_new_user_form_creates_or_shows_the_refusal() {
    let h = Harness::new();
    let mut admin = admin_in(&h, "admin@a.example", TENANT_A, "ecid7400000021").await;
    let (s, html) = page(&mut admin, "/admin/users/new").await;
    assert_eq!(s, 200);
    assert!(
        html.contains("<option value=\"Asia/Tokyo\" selected>Asia/Tokyo</option>"),
        "{html}"
    );
    assert!(html.contains("value=\"totp\"") && !html.contains("value=\"sms\""));
    let mails = h.mails().await.len();

    let bad = new_user("山田 花子", "not-an-address", "");
    let (s, _, html) = create(&mut admin, &bad).await;
    assert_eq!(s, 400);
    assert!(html.contains("id=\"form-error\"") && html.contains("value=\"山田 花子\""));
    assert!(html.contains("value=\"not-an-address\""));
    let taken = new_user("山田 花子", "hanako@a.example", "admin@a.example");
    let (s, _, html) = create(&mut admin, &taken).await;
    assert_eq!(s, 409);
    assert!(html.contains("id=\"form-error\"") && html.contains("value=\"hanako@a.example\""));
    assert!(h.find_user("hanako@a.example").await.is_none());
    assert_eq!(h.mails().await.len(), mails, "a refusal mails nothing");

    let good = new_user("山田 花子", "hanako@a.example", "");
    let (s, to, _) = create(&mut admin, &good).await;
    assert_eq!(s, 303);
    let id = h.user("hanako@a.example").await.id;
    assert_eq!(to, format!("/admin/users/{id}?notice=user_created"));
    h.assert_mailed("hanako@a.example", "/password/reset?token=")
        .await;
    let (_, html) = page(&mut admin, &to).await;
    assert!(html.contains("id=\"form-notice\"") && html.contains("data-status=\"pending\""));
    assert!(html.contains("課長") && html.contains("情報システム部"));
    assert!(html.contains("<span id=\"last-change-by\">admin@a.example</span>"));
    assert!(html.contains("id=\"action-resend-setup\""));
}

// ADM-2, ADM-4: the edit form saves every field and the login ID; a login
// ID another user holds is 409 with the form as typed; a pending user's
// address is corrected and a new link goes to it.
#[tokio::test]
async fn adm_2_adm_4_the_edit_form_saves_or_shows_the_refusal() {
    let h = Harness::new();
    let mut admin = admin_in(&h, "admin@a.example", TENANT_A, "ecid7400000031").await;
    let made = new_user("山田 花子", "hanako@a.example", "");
    let (s, _, _) = create(&mut admin, &made).await;
    assert_eq!(s, 303);
    let id = h.user("hanako@a.example").await.id;
    let edit = format!("/admin/users/{id}/edit");
    let (s, html) = page(&mut admin, &edit).await;
    assert_eq!(s, 200);
    assert_eq!(hidden(&html, "title"), "課長");
    assert!(
        html.contains("id=\"identity-form\""),
        "a pending user's address may be corrected"
    );

    let mut fields = vec![
        ("name", "山田 花子"),
        ("phone", "0312345678"),
        ("lang", "en"),
        ("role", "general"),
        ("mfa_method", ""),
        ("title", "部長"),
        ("mobile", "090-0000-1111"),
        ("time_zone", "Europe/London"),
        ("group", "営業部"),
        ("comment", "異動"),
        ("login_id", "admin@a.example"),
    ];
    let (s, _, html) = post(&mut admin, &edit, &edit, &fields).await;
    assert_eq!(s, 409);
    assert!(html.contains("id=\"form-error\"") && html.contains("value=\"部長\""));
    assert_eq!(
        h.user("hanako@a.example").await.profile.title.as_deref(),
        Some("課長")
    );

    fields.last_mut().unwrap().1 = "hanako.yamada";
    let (s, to, _) = post(&mut admin, &edit, &edit, &fields).await;
    assert_eq!(
        (s, to),
        (303, format!("/admin/users/{id}?notice=user_saved"))
    );
    let (_, html) = page(&mut admin, &format!("/admin/users/{id}")).await;
    assert!(
        html.contains("部長") && html.contains("Europe/London") && html.contains("hanako.yamada")
    );

    // ADM-4: the corrected address gets the new link.
    let (identity, corrected) = (format!("/admin/users/{id}/identity"), "h.yamada@a.example");
    let (s, to, _) = post(&mut admin, &edit, &identity, &[("email", corrected)]).await;
    assert_eq!(
        (s, to),
        (303, format!("/admin/users/{id}?notice=identity_corrected"))
    );
    h.assert_mailed(corrected, "/password/reset?token=").await;
    let (s, _, html) = post(&mut admin, &edit, &identity, &[("email", "nope")]).await;
    assert_eq!(s, 400);
    assert!(html.contains("id=\"form-error\"") && html.contains("id=\"identity-form\""));
}
