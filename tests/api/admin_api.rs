//! The `manage-users` routes (ADM-3, ADM-5, ADM-7) through the handler:
//! a full session of an active admin, inside the admin's tenant only.

use serde_json::{json, Value};
use tobira::model::Role;

use crate::cases_support::{get_json, signed_in};
use crate::support::Harness;

const TENANT_A: &str = "econ7300000001";
const TENANT_B: &str = "econ7300000002";

/// Give a signed-in user the admin role, as an admin's edit would.
async fn make_admin(h: &Harness, login: &str) {
    let (mut u, v) = h.find_user(login).await.unwrap();
    u.role = Role::Admin;
    let writes = tobira::directory::user_writes(&u, tobira::store::Cond::Version(v));
    h.app
        .store
        .write(writes.to_vec(), h.app.now())
        .await
        .unwrap();
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
    let mut admin = signed_in(&h, "admin@a.example", TENANT_A, "ecid7300000001").await;
    make_admin(&h, "admin@a.example").await;
    let mut member = signed_in(&h, "member@a.example", TENANT_A, "ecid7300000002").await;
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
