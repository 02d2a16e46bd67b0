//! Issue 15, item 9: every `manage-users` route that names a user answers
//! an admin of another tenant (not a parent) 404 and changes nothing, on
//! the embedded store (SQLite) and on DynamoDB (the emulator); every admin
//! route answers a general user 403.

use std::sync::Arc;

use serde_json::{json, Value};
use tobira_local::sqlite::SqliteStore;

use crate::admin_api::admin_and_member;
use crate::cases_support::{harness_over, on_dynamodb, signed_in};
use crate::support::Harness;

const TENANT_A: &str = "econ7500000001";
const TENANT_B: &str = "econ7500000002";

/// A valid body for each admin POST (so that only the tenant decides).
fn body_for(path: &str) -> Value {
    match path {
        "/api/admin/users" => json!({
            "name": "n", "email": "n@example.com", "phone": "0312345678", "lang": "ja",
            "time_zone": "Asia/Tokyo", "mfa_method": "totp", "role": "general"
        }),
        "/api/admin/users/{id}" => json!({ "title": "t" }),
        "/api/admin/users/{id}/identity" => json!({ "email": "a@example.com" }),
        _ => json!({}),
    }
}

async fn isolation_on(h: Harness) {
    let (mut admin, mut member) = admin_and_member(&h, TENANT_A, "ecid750000000").await;
    let _stranger = signed_in(&h, "stranger@b.example", TENANT_B, "ecid7500000003").await;
    let (stranger, version) = h.find_user("stranger@b.example").await.unwrap();

    let admin_routes: Vec<_> = tobira_web::routes::ROUTES
        .iter()
        .filter(|r| r.function == "manage-users" && r.path.starts_with("/api/admin/"))
        .collect();
    assert_eq!(admin_routes.len(), 11, "{admin_routes:?}");
    let mut named = 0;
    for r in &admin_routes {
        // A general user: 403 before anything else; the admin: nobody there.
        let path = r.path.replace("{id}", &stranger.id);
        member
            .refused(r.method, &path, body_for(r.path), 403, "forbidden")
            .await;
        if r.path.contains("{id}") {
            named += 1;
            admin
                .refused(r.method, &path, body_for(r.path), 404, "not_found")
                .await;
        }
    }
    assert_eq!(named, 8);
    let history = format!("/api/admin/sign-ins?user_id={}", stranger.id);
    admin
        .refused("GET", &history, Value::Null, 404, "not_found")
        .await;
    // The pages too.
    for path in ["/admin/users/{id}", "/admin/users/{id}/edit"] {
        let r = admin.get(&path.replace("{id}", &stranger.id)).await;
        assert_eq!(r.status(), 404, "{path}");
    }
    let (after, after_version) = h.find_user("stranger@b.example").await.unwrap();
    assert_eq!(
        (after_version, after.state),
        (version, stranger.state),
        "nothing changed"
    );
    // The admin's session is still signed in: the refusals were answers.
    assert_eq!(admin.me().await["stage"], "full");
}

// Issue 15 item 9 (ADM-3, ADM-5): the embedded store.
#[tokio::test]
async fn adm_3_adm_5_another_tenants_user_is_404_on_every_route_on_sqlite() {
    isolation_on(harness_over(Arc::new(SqliteStore::in_memory()))).await;
}

// Issue 15 item 9 (ADM-3, ADM-5): DynamoDB on the emulator.
#[tokio::test]
async fn adm_3_adm_5_another_tenants_user_is_404_on_every_route_on_dynamodb() {
    isolation_on(on_dynamodb().await).await;
}
