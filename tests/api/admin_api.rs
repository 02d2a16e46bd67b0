//! The `manage-users` routes (ADM-3, ADM-5, ADM-7) through the handler:
//! a full session of an active admin, inside the admin's tenant only.

use serde_json::{json, Value};
use tobira::model::Role;

use crate::cases_support::{get_json, signed_in};
use crate::mfa_support::Client;
use crate::support::Harness;

const TENANT_A: &str = "econ7300000001";
const TENANT_B: &str = "econ7300000002";

/// Write a user back with a change, as an admin's edit would.
pub(crate) async fn change_user(
    h: &Harness,
    login: &str,
    f: impl FnOnce(&mut tobira::model::User),
) {
    let (mut u, v) = h.find_user(login).await.unwrap();
    f(&mut u);
    let writes = tobira::directory::user_writes(&u, tobira::store::Cond::Version(v));
    h.app
        .store
        .write(writes.to_vec(), h.app.now())
        .await
        .unwrap();
}

/// Give a signed-in user the admin role.
pub(crate) async fn make_admin(h: &Harness, login: &str) {
    change_user(h, login, |u| u.role = Role::Admin).await;
}

/// `admin@a.example` (an admin) and `member@a.example` of `tenant`, both
/// signed in, their ecids `<ecid>1` and `<ecid>2`.
pub(crate) async fn admin_and_member<'h>(
    h: &'h Harness,
    tenant: &str,
    ecid: &str,
) -> (Client<'h>, Client<'h>) {
    let admin = signed_in(h, "admin@a.example", tenant, &format!("{ecid}1")).await;
    make_admin(h, "admin@a.example").await;
    let member = signed_in(h, "member@a.example", tenant, &format!("{ecid}2")).await;
    (admin, member)
}

/// A user an admin creates in tenant A, with the required fields only.
fn created_in_a(name: &'static str, email: &'static str) -> tobira::admin::NewUser<'static> {
    tobira::admin::NewUser {
        tenant_id: TENANT_A,
        name,
        email,
        phone: "0312345678",
        ..Default::default()
    }
}

fn ids(page: &Value) -> Vec<String> {
    let mut v: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["login_id"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

// ADM-5, ADM-3: the admin's routes answer an admin, in the admin's tenant.
#[tokio::test]
async fn adm_5_adm_3_the_admin_api_serves_admins_in_their_own_tenant_only() {
    let h = Harness::new();
    let (mut admin, mut member) = admin_and_member(&h, TENANT_A, "ecid730000000").await;
    let mut other = signed_in(&h, "boss@b.example", TENANT_B, "ecid7300000003").await;
    make_admin(&h, "boss@b.example").await;
    let member_id = h.user("member@a.example").await.id;

    let (s, page) = get_json(&mut admin, "/api/admin/users").await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(ids(&page), ["admin@a.example", "member@a.example"]);
    assert_eq!(page["next_cursor"], Value::Null);
    let (s, page) = get_json(&mut admin, "/api/admin/users?status=disabled").await;
    assert_eq!((s, ids(&page).len()), (200, 0), "{page}");
    let (s, e) = get_json(&mut admin, "/api/admin/users?status=asleep").await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_status")));

    // One user: the profile, no secret.
    let (s, one) = get_json(&mut admin, &format!("/api/admin/users/{member_id}")).await;
    assert_eq!(s, 200, "{one}");
    assert_eq!(one["status"], "active");
    assert_eq!(one["methods"], json!(["totp"]));
    let text = one.to_string();
    for secret in ["password_hash", "$argon2", "token", "secret"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }

    // A general user: 403 everywhere; another tenant's admin: 404.
    let (s, _) = get_json(&mut member, "/api/admin/users").await;
    assert_eq!(s, 403);
    let path = format!("/api/admin/users/{member_id}/disable");
    assert_eq!(member.post(&path, json!({})).await.0, 403);
    let (s, _) = get_json(&mut other, &format!("/api/admin/users/{member_id}")).await;
    assert_eq!(s, 404);
    assert_eq!(other.post(&path, json!({})).await.0, 404);
    let (s, listed) = get_json(
        &mut other,
        &format!("/api/admin/users?tenant_id={TENANT_A}"),
    )
    .await;
    assert_eq!(s, 404, "{listed}");
    assert_eq!(
        h.user("member@a.example").await.state,
        tobira::model::UserState::Active
    );

    // The admin disables the member: the member's session ends at once.
    let (s, acted) = admin.post(&path, json!({})).await;
    assert_eq!((s, &acted["status"]), (200, &json!("disabled")), "{acted}");
    let (s, _) = get_json(&mut member, "/api/me").await;
    assert_eq!(s, 401);
    // ADM-8: the user's detail says who changed it last, and what.
    let (_, one) = get_json(&mut admin, &format!("/api/admin/users/{member_id}")).await;
    assert_eq!(one["last_change"]["what"], "account.disabled", "{one}");
    assert_eq!(one["last_change"]["by"], "admin@a.example", "{one}");
    let (s, acted) = admin
        .post(&format!("/api/admin/users/{member_id}/enable"), json!({}))
        .await;
    assert_eq!((s, &acted["status"]), (200, &json!("active")), "{acted}");
    // Never oneself.
    let own = h.user("admin@a.example").await.id;
    let (s, e) = admin
        .post(&format!("/api/admin/users/{own}/disable"), json!({}))
        .await;
    assert_eq!((s, e["error"].as_str()), (409, Some("own_account")));
    // A body is refused.
    let (s, _) = admin
        .post(
            &format!("/api/admin/users/{member_id}/unlock"),
            json!({ "x": 1 }),
        )
        .await;
    assert_eq!(s, 400);
}

fn new_user(email: &str) -> Value {
    json!({
        "name": "山田 花子", "email": email, "title": "課長", "phone": "03-1234-5678",
        "mobile": "090-1234-5678", "lang": "en", "time_zone": "Europe/London",
        "mfa_method": "email", "role": "general", "group": "情報システム部", "comment": "4月入社"
    })
}

// ADM-1, ADM-2: an admin creates a user with every field; the login ID is
// the e-mail (the default policy) and the registration mail states it;
// bad input is refused and writes nothing; a general user is refused.
#[tokio::test]
async fn adm_1_adm_2_an_admin_creates_a_user_with_every_field() {
    let h = Harness::new();
    let mut admin = signed_in(&h, "admin@a.example", TENANT_A, "ecid7300000011").await;
    make_admin(&h, "admin@a.example").await;
    let before = h.memory.snapshot();
    for (field, value, code) in [
        ("time_zone", json!("Mars/Olympus"), "invalid_time_zone"),
        ("role", json!("owner"), "invalid_role"),
        ("mfa_method", json!("sms"), "invalid_method"),
        ("email", json!("no-at-sign"), "invalid_email"),
        ("lang", json!("fr"), "invalid_lang"),
        ("comment", json!("x".repeat(1001)), "too_long"),
        ("unknown", json!(1), "invalid_json"),
    ] {
        let mut body = new_user("new@a.example");
        body[field] = value;
        let (s, e) = admin.post("/api/admin/users", body).await;
        assert_eq!((s, e["error"].as_str()), (400, Some(code)), "{field}: {e}");
    }
    assert_eq!(h.memory.snapshot(), before, "bad input writes nothing");

    let (s, made) = admin
        .post("/api/admin/users", new_user("New@A.example"))
        .await;
    assert_eq!(s, 201, "{made}");
    assert_eq!(made["login_id"], "New@A.example");
    let mail = h.newest_mail("New@A.example", "New@A.example").await;
    assert!(mail.text.contains("expires"), "{}", mail.text);
    let id = made["id"].as_str().unwrap();
    let (s, one) = get_json(&mut admin, &format!("/api/admin/users/{id}")).await;
    assert_eq!(s, 200, "{one}");
    assert_eq!(one["last_change"]["what"], "admin.user_created", "{one}");
    for (k, v) in [
        ("status", "pending"),
        ("lang", "en"),
        ("time_zone", "Europe/London"),
        ("title", "課長"),
        ("mobile", "09012345678"),
        ("phone", "0312345678"),
        ("group", "情報システム部"),
        ("comment", "4月入社"),
    ] {
        assert_eq!(one[k], v, "{k}: {one}");
    }
    // The same login ID again: 409; a general user: 403.
    let (s, e) = admin
        .post("/api/admin/users", new_user("new@a.example"))
        .await;
    assert_eq!((s, e["error"].as_str()), (409, Some("login_taken")), "{e}");
    let mut member = signed_in(&h, "member@a.example", TENANT_A, "ecid7300000012").await;
    let (s, _) = member
        .post("/api/admin/users", new_user("x@a.example"))
        .await;
    assert_eq!(s, 403);
}

// ADM-2: with the `.cs` policy, the login ID is the e-mail cut to 37
// characters with `.cs` added; two admins creating one login ID at once:
// exactly one wins.
#[tokio::test]
async fn adm_2_the_cs_policy_and_one_login_id_for_two_admins_at_once() {
    let mut config = crate::support::test_config();
    config.login_id_policy = tobira::config::LoginIdPolicy::EmailCs;
    let h = Harness::with_config(config);
    let mut one = signed_in(&h, "one@a.example", TENANT_A, "ecid7300000021").await;
    make_admin(&h, "one@a.example").await;
    let mut two = signed_in(&h, "two@a.example", TENANT_A, "ecid7300000022").await;
    make_admin(&h, "two@a.example").await;
    let long = format!("{}@example.co.jp", "k".repeat(30));
    let (s, made) = one.post("/api/admin/users", new_user(&long)).await;
    assert_eq!(s, 201, "{made}");
    assert_eq!(made["login_id"], format!("{}.cs", &long[..37]));
    let (a, b) = tokio::join!(
        one.post("/api/admin/users", new_user("race@a.example")),
        two.post("/api/admin/users", new_user("race@a.example"))
    );
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{} {}", a.1, b.1);
}

// ADM-2: ten creations of one login ID at the same moment on DynamoDB:
// exactly one user is created, every other answer is `login_taken`.
#[tokio::test]
async fn adm_2_parallel_creations_of_one_login_id_create_one_user_on_dynamodb() {
    let h = crate::cases_support::on_dynamodb().await;
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let app = h.app.clone();
            tokio::spawn(async move {
                let new = created_in_a("Same Person", "same@a.example");
                app.create_user(&new, &crate::support::ctx()).await
            })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => created += 1,
            Err(e) => assert_eq!(e.code(), "login_taken"),
        }
    }
    assert_eq!(created, 1);
}

// ADM-1, ADM-2, ADM-3: an admin edits a user: details, role and login ID;
// the new login ID is mailed and signs in, the old one does not; never
// oneself demoted, never the last admin; a taken login ID is refused and
// nothing changes.
#[tokio::test]
async fn adm_2_an_admin_edits_details_role_and_login_id() {
    let h = Harness::new();
    let mut admin = signed_in(&h, "admin@a.example", TENANT_A, "ecid7300000031").await;
    make_admin(&h, "admin@a.example").await;
    let _member = signed_in(&h, "member@a.example", TENANT_A, "ecid7300000032").await;
    let member = h.user("member@a.example").await;
    let path = format!("/api/admin/users/{}", member.id);

    let (s, one) = admin
        .post(
            &path,
            json!({ "title": "部長", "time_zone": "America/New_York", "comment": "" }),
        )
        .await;
    assert_eq!(s, 200, "{one}");
    assert_eq!(
        (&one["title"], &one["time_zone"]),
        (&json!("部長"), &json!("America/New_York"))
    );
    let changed = h.audit_detail(TENANT_A, "account.details_changed").await;
    let changed = changed.unwrap_or_default();
    assert!(changed.starts_with("title,time_zone;"), "{changed}");

    // Bad input and a taken login ID change nothing.
    let before = h.memory.snapshot();
    for (body, status, code) in [
        (
            json!({ "time_zone": "Nowhere/Else" }),
            400,
            "invalid_time_zone",
        ),
        (json!({ "role": "owner" }), 400, "invalid_role"),
        (json!({ "email": "x@a.example" }), 400, "invalid_json"),
        (json!({ "login_id": "ADMIN@a.example" }), 409, "login_taken"),
    ] {
        let (s, e) = admin.post(&path, body.clone()).await;
        assert_eq!(
            (s, e["error"].as_str()),
            (status, Some(code)),
            "{body}: {e}"
        );
    }
    assert_eq!(h.memory.snapshot(), before, "refusals write nothing");

    // A new login ID: mailed, the new one signs in, the old one not.
    let (s, one) = admin
        .post(&path, json!({ "login_id": "renamed@a.example" }))
        .await;
    assert_eq!(
        (s, &one["login_id"]),
        (200, &json!("renamed@a.example")),
        "{one}"
    );
    h.assert_mailed("member@a.example", "renamed@a.example")
        .await;
    assert!(h
        .login("renamed@a.example", crate::mfa_support::PW)
        .await
        .is_ok());
    assert!(h
        .login("member@a.example", crate::mfa_support::PW)
        .await
        .is_err());

    // Promote, then never oneself or the last admin demoted.
    let (s, _) = admin.post(&path, json!({ "role": "admin" })).await;
    assert_eq!(s, 200);
    let own = format!("/api/admin/users/{}", h.user("admin@a.example").await.id);
    let (s, e) = admin.post(&own, json!({ "role": "general" })).await;
    assert_eq!((s, e["error"].as_str()), (409, Some("own_account")));
    let (s, one) = admin.post(&path, json!({ "role": "general" })).await;
    assert_eq!((s, &one["role"]), (200, &json!("general")), "{one}");
}

// ADM-1: a general user's create is 403 before its input is read: no
// answer tells a non-admin what a field would need.
#[tokio::test]
async fn adm_1_a_general_users_create_is_forbidden_before_any_input_check() {
    let h = Harness::new();
    let mut member = signed_in(&h, "member@a.example", TENANT_A, "ecid7300000041").await;
    let (s, e) = member
        .post("/api/admin/users", json!({ "time_zone": "\u{c}" }))
        .await;
    assert_eq!((s, e["error"].as_str()), (403, Some("forbidden")), "{e}");
}

// ADM-4: a parent contract's admin sees the child tenant's users and
// resends a pending one's setup link; an unrelated tenant stays unseen;
// actions other than help stay inside the own tenant.
#[tokio::test]
async fn adm_4_a_parent_admin_helps_the_child_tenants_users() {
    const CHILD: &str = "econ7300000051";
    const STRANGER: &str = "econ7300000059";
    let h = Harness::new();
    let mut admin = signed_in(&h, "parent@a.example", TENANT_A, "ecid7300000050").await;
    make_admin(&h, "parent@a.example").await;
    let mut child = crate::support::record("child@c.example", "ecid7300000052", CHILD);
    child["parent_tenant_id"] = TENANT_A.into();
    let active_child = {
        let mut r = crate::support::record("active@c.example", "ecid7300000053", CHILD);
        r["parent_tenant_id"] = TENANT_A.into();
        r
    };
    let stranger = crate::support::record("x@s.example", "ecid7300000054", STRANGER);
    let mut child_admin = crate::support::record("boss@c.example", "ecid7300000055", CHILD);
    child_admin["parent_tenant_id"] = TENANT_A.into();
    child_admin["role"] = "admin".into();
    h.migrate(&[child, active_child, stranger, child_admin])
        .await;
    h.activate("active@c.example", crate::mfa_support::PW).await;
    let pending = h.user("child@c.example").await;
    let active = h.user("active@c.example").await;
    let other = h.user("x@s.example").await;

    // ADM-6: the parent's admin helps the child's users but does not read
    // their sign-ins (an admin sees the own tenant's history).
    let history = format!("/api/admin/sign-ins?user_id={}", active.id);
    admin
        .refused("GET", &history, json!({}), 404, "not_found")
        .await;
    // ... and the child user's page offers no way there (no dead end).
    let page = admin.get(&format!("/admin/users/{}", active.id)).await;
    let html = crate::support::body_text(&page);
    assert_eq!(page.status(), 200, "{html}");
    assert!(
        !html.contains("user-sign-ins") && !html.contains("edit-user"),
        "{html}"
    );

    let (s, page) = get_json(&mut admin, &format!("/api/admin/users?tenant_id={CHILD}")).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(
        ids(&page),
        ["active@c.example", "boss@c.example", "child@c.example"]
    );
    let (s, _) = get_json(
        &mut admin,
        &format!("/api/admin/users?tenant_id={STRANGER}"),
    )
    .await;
    assert_eq!(s, 404);
    let (s, one) = get_json(&mut admin, &format!("/api/admin/users/{}", pending.id)).await;
    assert_eq!((s, &one["tenant_id"]), (200, &json!(CHILD)), "{one}");
    let (s, _) = get_json(&mut admin, &format!("/api/admin/users/{}", other.id)).await;
    assert_eq!(s, 404);

    // A new setup link for the pending child user.
    let mails = h.mails().await.len();
    let (s, r) = admin
        .post(
            &format!("/api/admin/users/{}/resend-setup", pending.id),
            json!({}),
        )
        .await;
    assert_eq!((s, &r["status"]), (200, &json!("pending")), "{r}");
    assert_eq!(h.mails().await.len(), mails + 1);
    h.assert_mailed("child@c.example", "/setup?token=").await;
    // ADM-8: who asked for it, on the record.
    let parent_id = h.user("parent@a.example").await.id;
    assert_eq!(
        h.audit_detail(CHILD, "account.setup_resent").await,
        Some(format!("by admin {parent_id}"))
    );
    // A corrected address: the link mailed before ends, a new one goes to
    // the corrected address.
    let old = h.setup_token("child@c.example").await;
    let (s, r) = admin
        .post(
            &format!("/api/admin/users/{}/identity", pending.id),
            json!({ "email": "child.fixed@c.example" }),
        )
        .await;
    assert_eq!((s, &r["status"]), (200, &json!("pending")), "{r}");
    let fresh = h.setup_token("child.fixed@c.example").await;
    assert_ne!(old, fresh);
    // ADM-8: the admin is on the record and on the user's detail.
    let detail = h.audit_detail(CHILD, "migration.identity_confirmed").await;
    assert!(detail
        .unwrap_or_default()
        .ends_with(&format!("by admin {}", h.user("parent@a.example").await.id)));
    // A child tenant's own admin account: not the parent's to redirect.
    let boss = h.user("boss@c.example").await;
    let (s, e) = admin
        .post(
            &format!("/api/admin/users/{}/identity", boss.id),
            json!({ "email": "parent@a.example" }),
        )
        .await;
    assert_eq!((s, e["error"].as_str()), (409, Some("child_admin")), "{e}");
    let ctx = crate::support::ctx();
    let stale = h
        .app
        .verify_identity(&old, "child@c.example", "Test User", "03-1234-5678", &ctx)
        .await;
    assert_eq!(stale.err().map(|e| e.code()), Some("invalid_token"));
    // None for one set up, none for a stranger's user; and disabling is
    // not help: the child tenant's user is not the admin's.
    for (id, action, status) in [
        (&active.id, "resend-setup", 409),
        (&other.id, "resend-setup", 404),
        (&active.id, "disable", 404),
        (&active.id, "identity", 409),
        (&other.id, "identity", 404),
    ] {
        let path = format!("/api/admin/users/{id}/{action}");
        assert_eq!(admin.post(&path, json!({})).await.0, status, "{path}");
    }
}

// ADM-4 (the domain's correction, shared with MIG-11): a pending user an
// admin created gets a corrected address; the registration link mailed to
// the old one ends and a new one goes to the corrected address.
#[tokio::test]
async fn adm_4_a_corrected_address_ends_the_old_registration_link() {
    let h = Harness::new();
    let new = created_in_a("Typo Person", "typo@a.exmaple");
    let (id, _) = h
        .app
        .create_user(&new, &crate::support::ctx())
        .await
        .unwrap();
    let old = h.link_token("typo@a.exmaple", "/password/reset").await;
    let fix = tobira::setup::IdentityFix::parse(Some("typo@a.example"), None, None).unwrap();
    h.app
        .fix_pending_identity(&id, &fix, None, &crate::support::ctx())
        .await
        .unwrap();
    let fresh = h.link_token("typo@a.example", "/password/reset").await;
    assert_ne!(old, fresh);
    let pw = "Kumo-Tori-Ame7-Hoshi";
    let ctx = crate::support::ctx();
    let used_old = h.app.reset_with_link(&old, pw, &ctx).await;
    assert_eq!(used_old.err().map(|e| e.code()), Some("invalid_token"));
    assert!(h.app.reset_with_link(&fresh, pw, &ctx).await.is_ok());
    assert_eq!(
        h.user("typo@a.exmaple").await.email.as_str(),
        "typo@a.example"
    );
}

// ADM-2: a pending user's new login ID ends the link mailed before and a
// new one goes out (the registration mail names the new login ID).
#[tokio::test]
async fn adm_2_a_pending_users_new_login_id_comes_with_a_new_link() {
    let h = Harness::new();
    let mut admin = signed_in(&h, "admin@a.example", TENANT_A, "ecid7300000061").await;
    make_admin(&h, "admin@a.example").await;
    let (id, _) = h
        .app
        .create_user(
            &created_in_a("Pending Person", "pending@a.example"),
            &crate::support::ctx(),
        )
        .await
        .unwrap();
    let old = h.link_token("pending@a.example", "/password/reset").await;
    let (s, one) = admin
        .post(
            &format!("/api/admin/users/{id}"),
            json!({ "login_id": "pending.cs" }),
        )
        .await;
    assert_eq!((s, &one["login_id"]), (200, &json!("pending.cs")), "{one}");
    h.assert_mailed("pending@a.example", "pending.cs").await;
    let fresh = h.link_token("pending@a.example", "/password/reset").await;
    assert_ne!(old, fresh);
    let ctx = crate::support::ctx();
    let stale = h
        .app
        .reset_with_link(&old, "Kumo-Tori-Ame7-Hoshi", &ctx)
        .await;
    assert_eq!(stale.err().map(|e| e.code()), Some("invalid_token"));
}

// ADM-4 / SET-2: an edit of a pending user's name or phone (what the
// identity check compares) ends the link mailed before; a new one follows.
#[tokio::test]
async fn adm_4_an_edit_of_a_pending_users_name_ends_the_old_link() {
    let h = Harness::new();
    let mut admin = signed_in(&h, "admin@a.example", TENANT_A, "ecid7300000071").await;
    make_admin(&h, "admin@a.example").await;
    let ctx = crate::support::ctx();
    let new = created_in_a("Nmae Typo", "typo.name@a.example");
    let (id, _) = h.app.create_user(&new, &ctx).await.unwrap();
    let old = h.link_token("typo.name@a.example", "/password/reset").await;
    let (s, one) = admin
        .post(
            &format!("/api/admin/users/{id}"),
            json!({ "name": "Name Fixed", "title": "x" }),
        )
        .await;
    assert_eq!((s, &one["name"]), (200, &json!("Name Fixed")), "{one}");
    let fresh = h.link_token("typo.name@a.example", "/password/reset").await;
    assert_ne!(old, fresh);
    let stale = h
        .app
        .reset_with_link(&old, "Kumo-Tori-Ame7-Hoshi", &ctx)
        .await;
    assert_eq!(stale.err().map(|e| e.code()), Some("invalid_token"));
    let detail = h
        .audit_detail(TENANT_A, "migration.identity_confirmed")
        .await;
    assert!(detail
        .unwrap_or_default()
        .starts_with("corrected: name,title;"));
}
