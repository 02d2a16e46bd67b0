//! Tenant administration (ADM-3, ADM-7, ADM-8): disable, enable, unlock
//! and reset factors, through the account-state home.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use tobira::admin::actions::{Action, Actor};
use tobira::admin::directory::Status;
use tobira::clock::Timestamp;
use tobira::model::{Role, User, UserState};
use tobira::session::Stage;
use tobira::store::{Item, Key, Query, Store, StoreError, Write};
use tobira::App;

use crate::cases_support::harness_over;
use crate::support::{ctx, record, Harness};

const TENANT: &str = "econ7200000001";
const OTHER: &str = "econ7200000002";
const PASSWORD: &str = "Correct-Horse-9-Battery";

fn with_role(login: &str, ecid: &str, tenant: &str, role: &str) -> Value {
    let mut r = record(login, ecid, tenant);
    r["role"] = role.into();
    r
}

/// Two admins and a member in one tenant, an admin in another; all set up.
async fn tenant(h: &Harness) -> (User, User, User, User) {
    h.migrate(&[
        with_role("one@t.example", "ecid7200000001", TENANT, "admin"),
        with_role("two@t.example", "ecid7200000002", TENANT, "admin"),
        with_role("member@t.example", "ecid7200000003", TENANT, "general"),
        with_role("boss@o.example", "ecid7200000004", OTHER, "admin"),
    ])
    .await;
    for login in [
        "one@t.example",
        "two@t.example",
        "member@t.example",
        "boss@o.example",
    ] {
        h.activate(login, PASSWORD).await;
    }
    (
        h.user("one@t.example").await,
        h.user("two@t.example").await,
        h.user("member@t.example").await,
        h.user("boss@o.example").await,
    )
}

async fn act(app: &App, admin: &User, target: &User, action: Action) -> tobira::Result<Status> {
    app.act_on_user(Actor::Admin(admin), &target.id, action, &ctx())
        .await
}

// ADM-3: disabling ends the user's sessions at once and refuses sign-in;
// enabling lets the password in again but revives no old session.
async fn adm_3_disable_and_enable_on(h: Harness) {
    let (one, _, member, _) = tenant(&h).await;
    let before = h.login("member@t.example", PASSWORD).await.unwrap();
    assert_eq!(
        act(&h.app, &one, &member, Action::Disable).await.unwrap(),
        Status::Disabled
    );
    let stages = [Stage::Mfa, Stage::Enroll, Stage::Terms, Stage::Full];
    let ended = h.app.signed(Some(&before.session), &stages).await;
    assert_eq!(
        ended.err().map(|e| e.code()),
        Some("not_signed_in"),
        "the session ended with the disabling"
    );
    assert_eq!(
        h.login("member@t.example", PASSWORD)
            .await
            .unwrap_err()
            .code(),
        "invalid_credentials"
    );
    // Twice is once.
    assert_eq!(
        act(&h.app, &one, &member, Action::Disable).await.unwrap(),
        Status::Disabled
    );
    assert_eq!(
        act(&h.app, &one, &member, Action::Enable).await.unwrap(),
        Status::Active
    );
    assert!(h.app.signed(Some(&before.session), &stages).await.is_err());
    assert!(h.login("member@t.example", PASSWORD).await.is_ok());
    let kinds = h.audit_kinds(TENANT).await;
    for kind in ["account.disabled", "account.enabled"] {
        assert_eq!(
            kinds.iter().filter(|k| *k == kind).count(),
            1,
            "{kind}: {kinds:?}"
        );
    }
    // ADM-8: the actor is on the record.
    let detail = h.audit_detail(TENANT, "account.disabled").await;
    assert_eq!(detail, Some(format!("by admin {}", one.id)));
}

// ADM-3
#[tokio::test]
async fn adm_3_disable_ends_sessions_and_enable_lets_the_password_in_again() {
    adm_3_disable_and_enable_on(Harness::new()).await;
}

// ADM-3
#[tokio::test]
async fn adm_3_disable_ends_sessions_and_enable_lets_the_password_in_again_on_dynamodb() {
    adm_3_disable_and_enable_on(crate::cases_support::on_dynamodb().await).await;
}

// ADM-3: no admin disables themselves or the tenant's last admin; another
// tenant's users are not there; a general user is refused.
#[tokio::test]
async fn adm_3_never_oneself_never_the_last_admin_only_in_the_own_tenant() {
    let h = Harness::new();
    let (one, two, member, boss) = tenant(&h).await;
    let before = h.memory.snapshot();
    for (admin, target, code) in [
        (&one, &one, "own_account"),
        (&one, &boss, "not_found"),
        (&member, &two, "forbidden"),
    ] {
        let refused = act(&h.app, admin, target, Action::Disable).await;
        assert_eq!(refused.unwrap_err().code(), code);
    }
    let ops = Actor::Ops { reason: " " };
    let r = h
        .app
        .act_on_user(ops, &member.id, Action::Disable, &ctx())
        .await;
    assert_eq!(r.unwrap_err().code(), "invalid_reason");
    assert_eq!(h.memory.snapshot(), before, "nothing written");
    // One admin disables the other; the last one cannot then be disabled,
    // not even by an operator.
    act(&h.app, &one, &two, Action::Disable).await.unwrap();
    let ops = Actor::Ops {
        reason: "ticket 42",
    };
    let r = h
        .app
        .act_on_user(ops, &one.id, Action::Disable, &ctx())
        .await;
    assert_eq!(r.unwrap_err().code(), "last_admin");
    assert_eq!(h.user("one@t.example").await.state, UserState::Active);
}

// ADM-3: two admins disabling each other at the same moment cannot leave
// the tenant without an admin: exactly one succeeds.
async fn adm_3_two_admins_at_once_on(h: Harness) {
    let (one, two, _, _) = tenant(&h).await;
    for _ in 0..3 {
        let (a, b) = tokio::join!(
            act(&h.app, &one, &two, Action::Disable),
            act(&h.app, &two, &one, Action::Disable)
        );
        let wins = [&a, &b].iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "{a:?} {b:?}");
        let lost = if a.is_ok() { b } else { a };
        assert_eq!(lost.unwrap_err().code(), "last_admin");
        let active: Vec<UserState> = vec![
            h.user("one@t.example").await.state,
            h.user("two@t.example").await.state,
        ];
        assert_eq!(
            active.iter().filter(|s| **s == UserState::Active).count(),
            1
        );
        // Both admins again for the next round.
        let ops = tobira::admin::actions::Actor::Ops { reason: "test" };
        for u in [&one, &two] {
            h.app
                .act_on_user(ops, &u.id, Action::Enable, &ctx())
                .await
                .unwrap();
        }
    }
    assert_eq!(h.user("one@t.example").await.role, Role::Admin);
}

/// A store that lets the other task run before every request, so that
/// two use cases joined in one test interleave at each of their reads.
struct Yielding(Arc<dyn Store>);

#[async_trait]
impl Store for Yielding {
    async fn get(&self, key: &Key, now: Timestamp) -> Result<Option<Item>, StoreError> {
        tokio::task::yield_now().await;
        self.0.get(key, now).await
    }
    async fn query(&self, q: &Query, now: Timestamp) -> Result<Vec<Item>, StoreError> {
        tokio::task::yield_now().await;
        self.0.query(q, now).await
    }
    async fn write(&self, writes: Vec<Write>, now: Timestamp) -> Result<(), StoreError> {
        tokio::task::yield_now().await;
        self.0.write(writes, now).await
    }
    async fn increment(&self, key: &Key, now: Timestamp) -> Result<u64, StoreError> {
        tokio::task::yield_now().await;
        self.0.increment(key, now).await
    }
}

// ADM-3
#[tokio::test]
async fn adm_3_two_admins_disabling_each_other_at_once_leave_one() {
    let memory: Arc<dyn Store> = Arc::new(tobira_test_kit::MemoryStore::default());
    adm_3_two_admins_at_once_on(harness_over(Arc::new(Yielding(memory)))).await;
}

// ADM-3
#[tokio::test]
async fn adm_3_two_admins_disabling_each_other_at_once_leave_one_on_dynamodb() {
    adm_3_two_admins_at_once_on(crate::cases_support::on_dynamodb().await).await;
}

// ADM-3: an admin lifts a lockout (LOG-2) before its time.
#[tokio::test]
async fn adm_3_unlock_lifts_the_lock_at_once() {
    let h = Harness::new();
    let (one, _, member, _) = tenant(&h).await;
    for _ in 0..5 {
        assert!(h
            .login("member@t.example", "wrong-password-1")
            .await
            .is_err());
    }
    assert!(
        h.login("member@t.example", PASSWORD).await.is_err(),
        "locked"
    );
    assert_eq!(h.app.user_status(&member).await.unwrap(), Status::Locked);
    assert_eq!(
        act(&h.app, &one, &member, Action::Unlock).await.unwrap(),
        Status::Active
    );
    assert!(h.login("member@t.example", PASSWORD).await.is_ok());
    assert!(h
        .audit_kinds(TENANT)
        .await
        .contains(&"account.unlocked".to_string()));
}

// ADM-7: an operator resets a user's factors after a lost phone: the
// factors and recovery codes are gone, every session ends, the user is
// mailed, the reason is on the record.
#[tokio::test]
async fn adm_7_ops_reset_factors_by_login_id_with_a_reason() {
    let h = Harness::new();
    let (_, _, member, _) = tenant(&h).await;
    // The member has e-mail codes as a factor.
    let (mut u, v) = h.find_user("member@t.example").await.unwrap();
    u.methods = vec!["email".into()];
    let [put, entry] = tobira::directory::user_writes(&u, tobira::store::Cond::Version(v));
    h.app
        .store
        .write(vec![put, entry], h.app.now())
        .await
        .unwrap();
    let before = h.login("member@t.example", PASSWORD).await.unwrap();
    assert_eq!(before.methods, ["email"]);
    let (_, status) = h
        .app
        .ops_act_on_login(
            "member@t.example",
            "lost phone, ticket 7",
            Action::ResetFactors,
            &ctx(),
        )
        .await
        .unwrap();
    assert_eq!(status, Status::Active);
    let after = h.user("member@t.example").await;
    assert!(after.methods.is_empty());
    // ADM-8: the status page's "last changed by".
    let last = after.last_change.as_ref().unwrap();
    assert_eq!(
        (last.what.as_str(), last.by.as_str()),
        ("mfa.factors_reset", "operator")
    );
    let stages = [Stage::Mfa, Stage::Enroll, Stage::Terms, Stage::Full];
    assert!(h.app.signed(Some(&before.session), &stages).await.is_err());
    h.assert_mailed("member@t.example", "2段階認証").await;
    let detail = h.audit_detail(TENANT, "mfa.factors_reset").await;
    assert_eq!(detail.as_deref(), Some("by ops: lost phone, ticket 7"));
    let on_member = |e: &tobira::app::AuditEvent| e.user_id.as_deref() == Some(member.id.as_str());
    let events = h.audit_events(TENANT).await;
    assert!(events
        .iter()
        .any(|e| e.kind == "mfa.factors_reset" && on_member(e)));
    // The next sign-in enrols again (SET-4).
    assert_eq!(
        h.login("member@t.example", PASSWORD).await.unwrap().stage,
        Stage::Enroll
    );
}
