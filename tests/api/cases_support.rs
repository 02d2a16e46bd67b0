//! What the tests of support cases (CASE-1..5, MIG-13) share: two tenants,
//! their members, the API calls and the desk's event.

use std::sync::Arc;

use serde_json::{json, Value};
use tobira::cases::{CasePage, DeskUpdate, Kind, ListQuery, NewCase, Status};
use tobira::ids::{Ecid, Email, LoginId, PersonName, TenantId};
use tobira::model::{keys, User, UserState};
use tobira::store::{Cond, Store, Write};
use tobira::App;
use tobira_test_kit::MemoryStore;
use tobira_web::i18n::Lang;

use crate::mfa_support::{full_client, totp_enrol, Client, PW};
use crate::support::{body_json, test_config, Harness};

pub const TENANT_A: &str = "econ9000000001";

pub const TENANT_B: &str = "econ9000000002";

pub fn new_case(subject: &str) -> Value {
    json!({
        "kind": "inquiry",
        "category": "サービスについて",
        "subject": subject,
        "body": "先月分の請求書を再発行していただけますか。",
    })
}

/// An inquiry in the category every configuration has ("その他"), for the
/// domain calls.
pub fn inquiry<'a>(subject: &'a str, body: &'a str) -> NewCase<'a> {
    NewCase {
        kind: Kind::Inquiry,
        category: "その他",
        subject,
        body,
    }
}

/// An active member of `tenant` written straight into the store (for the
/// domain-level tests that run on DynamoDB as well).
pub async fn member(app: &App, login: &str, tenant: &str, legacy: bool, lang: Lang) -> User {
    let now = app.now();
    let mut u = User::pending(
        format!(
            "U{}",
            login.len() * 1000 + login.bytes().map(usize::from).sum::<usize>()
        ),
        TenantId::parse(tenant).unwrap(),
        LoginId::parse(login).unwrap(),
        Email::parse(login).unwrap(),
        PersonName::parse("Case Tester").unwrap(),
        now,
    );
    u.state = UserState::Active;
    u.lang = lang;
    if legacy {
        u.ecid = Some(Ecid::parse("ecid9000000042").unwrap());
    }
    app.store
        .write(
            vec![Write::put(keys::user(&u.id), &u, None, Cond::Absent)],
            now,
        )
        .await
        .unwrap();
    u
}

/// A signed-in (full session) client of a new user in `tenant`.
pub async fn signed_in<'a>(h: &'a Harness, login: &str, tenant: &str, ecid: &str) -> Client<'a> {
    h.active_user_in(login, PW, tenant, ecid).await;
    let (secret, _) = totp_enrol(h, login).await;
    full_client(h, login, &secret).await
}

pub async fn create(c: &mut Client<'_>, subject: &str) -> (String, String) {
    let (s, b) = c.post("/api/cases", new_case(subject)).await;
    assert_eq!(s, 201, "{b}");
    (
        b["id"].as_str().unwrap().to_string(),
        b["number"].as_str().unwrap().to_string(),
    )
}

pub async fn list(h: &Harness, u: &User, q: ListQuery<'_>) -> CasePage {
    h.app.list_cases(u, &q).await.unwrap()
}

pub fn numbers(p: &CasePage) -> Vec<String> {
    p.items.iter().map(|i| i.number.clone()).collect()
}

pub async fn get_json(c: &mut Client<'_>, path: &str) -> (u16, Value) {
    let r = c.get(path).await;
    (r.status().as_u16(), body_json(&r))
}

/// The subjects of every mail sent about the case with this number.
pub async fn mails_about(h: &Harness, number: &str) -> Vec<String> {
    h.mails()
        .await
        .into_iter()
        .filter(|m| m.subject.contains(number))
        .map(|m| m.subject)
        .collect()
}

/// The desk's update that sets a status, with or without a comment.
pub fn set_status(status: Status, comment: Option<&str>) -> DeskUpdate<'_> {
    DeskUpdate {
        status: Some(status),
        comment,
        ..Default::default()
    }
}

/// The desk's event, as an operator invokes migrate-batch.
pub async fn desk(h: &Harness, number: &str, status: Option<&str>, comment: Option<&str>) -> Value {
    let mut e = json!({ "action": "case-update", "number": number });
    if let Some(s) = status {
        e["status"] = json!(s);
    }
    if let Some(c) = comment {
        e["comment"] = json!(c);
    }
    tobira_migrate_batch::handle(&h.app, e).await.unwrap()
}

pub fn harness_over(store: Arc<dyn Store>) -> Harness {
    Harness::over(test_config(), store, Arc::new(MemoryStore::default()))
}

/// A harness over DynamoDB on the emulator.
pub async fn on_dynamodb() -> Harness {
    harness_over(Arc::new(crate::support::dynamo_store().await))
}

/// A harness over the in-memory store behind a wrapper that counts the
/// store requests (the memory store itself, to write around the count).
pub fn counted() -> (
    Harness,
    Arc<tobira_test_kit::MemoryStore>,
    Arc<tobira_test_kit::Counts>,
) {
    let memory = Arc::new(tobira_test_kit::MemoryStore::default());
    let counts = Arc::new(tobira_test_kit::Counts::default());
    let h = harness_over(Arc::new(tobira_test_kit::Counting {
        inner: memory.clone(),
        counts: counts.clone(),
    }));
    (h, memory, counts)
}
