//! Tenant administration (ADM): the user list on every store, and what one
//! page of a large tenant costs the store.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use tobira::account::{Change, Made};
use tobira::admin::directory::{Status, PAGE_SIZE, READ_BUDGET};
use tobira::admin::{user_writes, UserPage, UserQuery};
use tobira::clock::Timestamp;
use tobira::directory::Entry;
use tobira::model::User;
use tobira::store::{Cond, Item, Key, Query, Store, StoreError, Write};
use tobira::App;
use tobira_local::sqlite::SqliteStore;
use tobira_test_kit::MemoryStore;

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

fn statuses(page: &UserPage) -> Vec<(String, Status)> {
    page.items
        .iter()
        .map(|i| (i.login_id.clone(), i.status))
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
        .find(|i| i.login_id == "admin@a.example")
        .unwrap();
    assert_eq!(one.email, "admin@a.example");
    assert_eq!(one.name, "Test User");
    assert_eq!(one.phone, "0312345678");
    assert_eq!(serde_json::to_value(one.role).unwrap(), "admin");

    // Each status on its own.
    for (status, expected) in [
        ("active", vec!["active@a.example", "admin@a.example"]),
        ("locked", vec!["locked@a.example"]),
        ("pending", vec!["pending@a.example", "zenkaku@a.example"]),
        ("disabled", vec!["disabled@a.example"]),
    ] {
        let page = list(
            &h.app,
            &admin,
            UserQuery {
                status: Some(status),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let mut got: Vec<String> = page.items.iter().map(|i| i.login_id.clone()).collect();
        got.sort();
        assert_eq!(got, expected, "status={status}");
    }
    // Search: name, e-mail or login ID, width- and case-folded.
    for (q, expected) in [
        ("yamada", "zenkaku@a.example"),
        ("ＬＯＣＫＥＤ", "locked@a.example"),
    ] {
        let page = list(
            &h.app,
            &admin,
            UserQuery {
                q: Some(q),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let got: Vec<&str> = page.items.iter().map(|i| i.login_id.as_str()).collect();
        assert_eq!(got, [expected], "q={q}");
    }
    // Another tenant is not there; a general user lists nothing.
    let other = list(
        &h.app,
        &admin,
        UserQuery {
            tenant_id: Some(TENANT_B),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(other.unwrap_err().code(), "not_found");
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
    adm_5_on(harness_over(Arc::new(crate::support::dynamo_store().await))).await;
}

/// The store port with its requests counted.
struct Counted {
    inner: Arc<dyn Store>,
    requests: AtomicU64,
    items_read: AtomicU64,
}

#[async_trait]
impl Store for Counted {
    async fn get(&self, key: &Key, now: Timestamp) -> Result<Option<Item>, StoreError> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        self.items_read.fetch_add(1, Ordering::SeqCst);
        self.inner.get(key, now).await
    }
    async fn get_many(
        &self,
        keys: &[Key],
        now: Timestamp,
    ) -> Result<Vec<Option<Item>>, StoreError> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        self.items_read
            .fetch_add(keys.len() as u64, Ordering::SeqCst);
        self.inner.get_many(keys, now).await
    }
    async fn query(&self, q: &Query, now: Timestamp) -> Result<Vec<Item>, StoreError> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let out = self.inner.query(q, now).await?;
        self.items_read
            .fetch_add(out.len() as u64, Ordering::SeqCst);
        Ok(out)
    }
    async fn write(&self, writes: Vec<Write>, now: Timestamp) -> Result<(), StoreError> {
        self.inner.write(writes, now).await
    }
    async fn increment(&self, key: &Key, now: Timestamp) -> Result<u64, StoreError> {
        self.inner.increment(key, now).await
    }
}

impl Counted {
    fn take(&self) -> (u64, u64) {
        (
            self.requests.swap(0, Ordering::SeqCst),
            self.items_read.swap(0, Ordering::SeqCst),
        )
    }
}

// ADM-5: one page of a 10,000-user tenant is one query of the directory
// and one batched read of the page's lock counters, whatever the tenant's
// size; a search or a filter reads at most READ_BUDGET entries a request.
#[tokio::test]
async fn adm_5_a_page_of_a_10000_user_tenant_reads_one_page_not_the_tenant() {
    let memory = Arc::new(MemoryStore::default());
    let counted = Arc::new(Counted {
        inner: memory.clone(),
        requests: AtomicU64::new(0),
        items_read: AtomicU64::new(0),
    });
    let h = harness_over(counted.clone());
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
    counted.take();
    let first = list(&h.app, &admin, UserQuery::default()).await.unwrap();
    assert_eq!(first.items.len(), PAGE_SIZE);
    assert_eq!(
        counted.take(),
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
        .all(|i| !first.items.iter().any(|f| f.id == i.id)));
    assert_eq!(counted.take().0, 2);
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
    assert_eq!(counted.take(), (1, READ_BUDGET as u64));
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
            assert!(seen.insert(i.id.clone()), "{} twice", i.id);
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 10_001);
}
