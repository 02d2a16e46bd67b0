//! Tenant administration (ADM): the user list on every store, and what one
//! page of a large tenant costs the store.

use std::sync::Arc;

use serde_json::Value;
use tobira::account::{Change, Made};
use tobira::admin::directory::{Status, PAGE_SIZE, READ_BUDGET};
use tobira::admin::{user_writes, UserPage, UserQuery};
use tobira::directory::Entry;
use tobira::model::User;
use tobira::store::{Cond, Store};
use tobira::App;
use tobira_local::sqlite::SqliteStore;

use crate::cases_support::harness_over;
use crate::support::{ctx, record, Harness};

const TENANT_A: &str = "econ7000000001";
const TENANT_B: &str = "econ7000000002";

fn admin_record(login: &str, ecid: &str, tenant: &str) -> Value {
    let mut r = record(login, ecid, tenant);
    r["role"] = "admin".into();
    r
}

async fn activate(h: &Harness, login: &str) {
    h.activate(login, "Correct-Horse-9-Battery").await;
}

async fn list(app: &App, admin: &User, q: UserQuery<'_>) -> tobira::Result<UserPage> {
    app.list_users(admin, &q).await
}

/// The sorted login IDs of the page `q` answers.
async fn logins(app: &App, admin: &User, q: UserQuery<'_>) -> Vec<String> {
    let page = list(app, admin, q).await.unwrap();
    let mut got: Vec<String> = page.items.iter().map(|i| i.user.login_id.clone()).collect();
    got.sort();
    got
}

fn statuses(page: &UserPage) -> Vec<(String, Status)> {
    page.items
        .iter()
        .map(|i| (i.user.login_id.clone(), i.status))
        .collect()
}

/// A tenant with an admin, two active users (one locked out), two pending
/// (one with a full-width name), one disabled; another tenant beside it.
async fn tenant_of_every_status(h: &Harness) -> User {
    let mut records = vec![
        admin_record("admin@a.example", "ecid7000000001", TENANT_A),
        record("active@a.example", "ecid7000000002", TENANT_A),
        record("locked@a.example", "ecid7000000003", TENANT_A),
        record("pending@a.example", "ecid7000000004", TENANT_A),
        record("zenkaku@a.example", "ecid7000000005", TENANT_A),
        record("disabled@a.example", "ecid7000000006", TENANT_A),
        record("other@b.example", "ecid7000000007", TENANT_B),
    ];
    records[4]["name"] = "ＹＡＭＡＤＡ Ｔａｒｏ".into();
    h.migrate(&records).await;
    for login in [
        "admin@a.example",
        "active@a.example",
        "locked@a.example",
        "disabled@a.example",
    ] {
        activate(h, login).await;
    }
    for _ in 0..5 {
        assert!(h
            .login("locked@a.example", "wrong-password-1")
            .await
            .is_err());
    }
    let (mut user, v) = h.find_user("disabled@a.example").await.unwrap();
    let c = ctx();
    let applied = h
        .app
        .apply_change(&mut user, v, Change::Disabled, Made::by(&c));
    h.app
        .store
        .write(applied.writes, h.app.now())
        .await
        .unwrap();
    h.user("admin@a.example").await
}

async fn adm_5_on(h: Harness) {
    let admin = tenant_of_every_status(&h).await;
    let page = list(&h.app, &admin, UserQuery::default()).await.unwrap();
    let mut seen = statuses(&page);
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        seen,
        [
            ("active@a.example".to_string(), Status::Active),
            ("admin@a.example".to_string(), Status::Active),
            ("disabled@a.example".to_string(), Status::Disabled),
            ("locked@a.example".to_string(), Status::Locked),
            ("pending@a.example".to_string(), Status::Pending),
            ("zenkaku@a.example".to_string(), Status::Pending),
        ],
        "the own tenant only, each with its status now"
    );
    assert_eq!(page.next_cursor, None);
    let one = page
        .items
        .iter()
        .find(|i| i.user.login_id == "admin@a.example")
        .unwrap();
    assert_eq!(one.user.email, "admin@a.example");
    assert_eq!(one.user.name, "Test User");
    assert_eq!(one.user.phone, "0312345678");
    assert_eq!(serde_json::to_value(one.user.role).unwrap(), "admin");

    // Each status on its own.
    for (status, expected) in [
        ("active", vec!["active@a.example", "admin@a.example"]),
        ("locked", vec!["locked@a.example"]),
        ("pending", vec!["pending@a.example", "zenkaku@a.example"]),
        ("disabled", vec!["disabled@a.example"]),
    ] {
        let q = UserQuery {
            status: Some(status),
            ..Default::default()
        };
        let got = logins(&h.app, &admin, q).await;
        assert_eq!(got, expected, "status={status}");
    }
    // Search: name, e-mail or login ID, width- and case-folded.
    for (q, expected) in [
        ("yamada", "zenkaku@a.example"),
        ("ＬＯＣＫＥＤ", "locked@a.example"),
    ] {
        let search = UserQuery {
            q: Some(q),
            ..Default::default()
        };
        assert_eq!(logins(&h.app, &admin, search).await, [expected], "q={q}");
    }
    // Another tenant is not there; a general user lists nothing.
    let other = UserQuery {
        tenant_id: Some(TENANT_B),
        ..Default::default()
    };
    let refused = list(&h.app, &admin, other).await.unwrap_err();
    assert_eq!(refused.code(), "not_found");
    let general = h.user("active@a.example").await;
    assert_eq!(
        list(&h.app, &general, UserQuery::default())
            .await
            .unwrap_err()
            .code(),
        "forbidden"
    );
    // Every entry says what its user record says (both are written in one
    // write by every change of the account).
    for login in [
        "admin@a.example",
        "active@a.example",
        "locked@a.example",
        "pending@a.example",
        "zenkaku@a.example",
        "disabled@a.example",
    ] {
        let user = h.user(login).await;
        let key = tobira::model::keys::tenant_member(&user.tenant_id, &user.id);
        let item = h.app.store.get(&key, h.app.now()).await.unwrap().unwrap();
        assert_eq!(item.parse::<Entry>().unwrap(), Entry::of(&user), "{login}");
    }
    // Bad input: 400, nothing read.
    for (q, code) in [
        (
            UserQuery {
                status: Some("asleep"),
                ..Default::default()
            },
            "invalid_status",
        ),
        (
            UserQuery {
                cursor: Some("not-a-cursor"),
                ..Default::default()
            },
            "invalid_cursor",
        ),
        (
            UserQuery {
                q: Some(&"x".repeat(101)),
                ..Default::default()
            },
            "too_long",
        ),
    ] {
        assert_eq!(list(&h.app, &admin, q).await.unwrap_err().code(), code);
    }
}

// ADM-5
#[tokio::test]
async fn adm_5_user_list_with_status_and_search_on_the_memory_store() {
    adm_5_on(Harness::new()).await;
}

// ADM-5
#[tokio::test]
async fn adm_5_user_list_with_status_and_search_on_the_embedded_store() {
    adm_5_on(harness_over(Arc::new(SqliteStore::in_memory()))).await;
}

// ADM-5
#[tokio::test]
async fn adm_5_user_list_with_status_and_search_on_dynamodb() {
    adm_5_on(crate::cases_support::on_dynamodb().await).await;
}

// ADM-5: one page of a 10,000-user tenant is one query of the directory
// and one batched read of the page's lock counters, whatever the tenant's
// size; a search or a filter reads at most READ_BUDGET entries a request.
#[tokio::test]
async fn adm_5_a_page_of_a_10000_user_tenant_reads_one_page_not_the_tenant() {
    let (h, memory, counted) = crate::cases_support::counted();
    h.migrate(&[admin_record(
        "admin@big.example",
        "ecid7100000000",
        TENANT_A,
    )])
    .await;
    activate(&h, "admin@big.example").await;
    let admin = h.user("admin@big.example").await;
    // 10,000 more users, written directly as the use cases write them.
    let now = h.app.now();
    for chunk in (1..=10_000u32).collect::<Vec<_>>().chunks(25) {
        let mut writes = Vec::new();
        for n in chunk {
            let mut u = admin.clone();
            u.id = format!("01KAY{n:021}");
            u.login_id = tobira::ids::LoginId::parse(&format!("user{n}@big.example")).unwrap();
            u.email = tobira::ids::Email::parse(&format!("user{n}@big.example")).unwrap();
            u.role = tobira::model::Role::General;
            writes.extend(user_writes(&u, Cond::Absent));
        }
        memory.write(writes, now).await.unwrap();
    }
    counted.take_reads();
    let first = list(&h.app, &admin, UserQuery::default()).await.unwrap();
    assert_eq!(first.items.len(), PAGE_SIZE);
    assert_eq!(
        counted.take_reads(),
        (2, 2 * (PAGE_SIZE + 1) as u64),
        "one query, one batch"
    );
    let second = list(
        &h.app,
        &admin,
        UserQuery {
            cursor: first.next_cursor.as_deref(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(second.items.len(), PAGE_SIZE);
    assert!(second
        .items
        .iter()
        .all(|i| !first.items.iter().any(|f| f.user.id == i.user.id)));
    assert_eq!(counted.take_reads().0, 2);
    // A search nobody matches reads one budget, then hands back a cursor.
    let none = list(
        &h.app,
        &admin,
        UserQuery {
            q: Some("nobody"),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(none.items.is_empty() && none.next_cursor.is_some());
    assert_eq!(counted.take_reads(), (1, READ_BUDGET as u64));
    // Walking every page sees each user once.
    let mut seen = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = list(
            &h.app,
            &admin,
            UserQuery {
                cursor: cursor.as_deref(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        for i in &page.items {
            assert!(seen.insert(i.user.id.clone()), "{} twice", i.user.id);
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 10_001);
}
