//! LOG-3 and its kin: the flows that must not tell who exists make the same
//! sequence of store requests for every class of entry — on DynamoDB each
//! request is a round trip of milliseconds, so a class with one request
//! more is told apart by its time. A recording store wrapper notes each
//! request's kind (a read, a query, a one-item write, a transaction); the
//! sequences per class must be equal.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tobira::clock::Timestamp;
use tobira::ids::{LoginId, Password};
use tobira::model::{keys, UserState};
use tobira::reset::Forgot;
use tobira::store::{Cond, Item, Key, Query, Store, StoreError, Write};
use tobira_test_kit::MemoryStore;

use crate::support::{ctx, record, sample_records, test_config, Harness};

/// The store port with the kind of every request noted, in order; when
/// armed ([`Recording::conflict_next`]) the next write of several items
/// fails with a conflict, as when a parallel request won the race.
pub struct Recording {
    inner: Arc<dyn Store>,
    log: Mutex<Vec<&'static str>>,
    conflict: std::sync::atomic::AtomicBool,
}

impl Recording {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            log: Mutex::new(Vec::new()),
            conflict: Default::default(),
        }
    }
    /// Fail the next write of several items with a conflict.
    pub fn conflict_next(&self) {
        self.conflict
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }
    /// The requests `step` makes, and its outcome (a future does nothing
    /// until it is awaited, so nothing of it is noted before).
    pub async fn during<T>(
        &self,
        step: impl std::future::Future<Output = T>,
    ) -> (T, Vec<&'static str>) {
        self.take();
        let out = step.await;
        (out, self.take())
    }
    /// The requests since the last call.
    pub fn take(&self) -> Vec<&'static str> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
    fn note(&self, kind: &'static str) {
        self.log.lock().unwrap().push(kind);
    }
}

#[async_trait]
impl Store for Recording {
    async fn get(&self, key: &Key, now: Timestamp) -> Result<Option<Item>, StoreError> {
        self.note("get");
        self.inner.get(key, now).await
    }
    async fn query(&self, q: &Query, now: Timestamp) -> Result<Vec<Item>, StoreError> {
        self.note("query");
        self.inner.query(q, now).await
    }
    async fn write(&self, writes: Vec<Write>, now: Timestamp) -> Result<(), StoreError> {
        // DynamoDB: one item is an UpdateItem/DeleteItem, more a transaction.
        self.note(if writes.len() == 1 {
            "write"
        } else {
            "transaction"
        });
        let conflict = writes.len() > 1
            && self
                .conflict
                .swap(false, std::sync::atomic::Ordering::SeqCst);
        if conflict {
            return Err(StoreError::Conflict);
        }
        self.inner.write(writes, now).await
    }
    async fn increment(&self, key: &Key, now: Timestamp) -> Result<u64, StoreError> {
        self.note("increment");
        self.inner.increment(key, now).await
    }
}

fn recorded() -> (Harness, Arc<Recording>) {
    let mut config = test_config();
    // Today (the test clock) is inside the migration window.
    let today = crate::support::T0.jst_date();
    config.migration_window = Some((today.clone(), today));
    let memory = Arc::new(MemoryStore::default());
    let rec = Arc::new(Recording::new(memory.clone()));
    (Harness::over(config, rec.clone(), memory), rec)
}

fn pw(s: &str) -> Password {
    Password::parse(s).unwrap()
}

/// A forgotten-password entry of a login ID and an e-mail address.
fn forgot<'a>(login_id: &'a str, email: &'a str) -> Forgot<'a> {
    Forgot {
        login_id,
        email,
        ..Forgot::default()
    }
}

/// Put a user into `state` directly (as an admin's disable would).
async fn set_state(h: &Harness, login: &str, state: UserState) {
    let l = LoginId::parse(login).unwrap();
    let (mut u, v) = h.app.user_by_login(&l).await.unwrap().unwrap();
    u.state = state;
    let w = Write::put(keys::user(&u.id), &u, None, Cond::Version(v));
    h.app.store.write(vec![w], h.app.now()).await.unwrap();
}

/// Every sequence equal to the first; the sequences shown on failure.
fn assert_same(flow: &str, seqs: &[(&str, Vec<&'static str>)]) {
    let first = &seqs[0].1;
    assert!(!first.is_empty(), "{flow}: nothing recorded");
    for (class, seq) in seqs {
        assert_eq!(
            seq, first,
            "{flow}: {class} differs from {}\n{seqs:#?}",
            seqs[0].0
        );
    }
}

// LOG-3
#[tokio::test]
async fn log_3_every_failure_class_makes_the_same_store_requests() {
    let (h, rec) = recorded();
    h.active_user("known@example.com", "Tobira-Door42").await;
    h.active_user("locked.user@example.com", "Tobira-Door42")
        .await;
    h.active_user("disabled@example.com", "Tobira-Door42").await;
    set_state(&h, "disabled@example.com", UserState::Disabled).await;
    h.migrate(&[record("pending@example.com", "ecid77", "econ7")])
        .await;
    for _ in 0..5 {
        let _ = h.login("locked.user@example.com", "Wrong-Pass1").await;
    }
    let classes = [
        ("unknown", "nobody@example.com", "Tobira-Door42"),
        ("wrong password", "known@example.com", "Wrong-Pass1"),
        ("locked", "locked.user@example.com", "Tobira-Door42"),
        ("disabled", "disabled@example.com", "Tobira-Door42"),
        ("pending setup", "pending@example.com", "Tobira-Door42"),
    ];
    let mut seqs = Vec::new();
    for (class, login, password) in classes {
        let (e, seq) = rec.during(h.login(login, password)).await;
        assert_eq!(e.unwrap_err(), tobira::Error::InvalidCredentials, "{class}");
        seqs.push((class, seq));
    }
    assert_same("sign-in", &seqs);
}

// SET-1, LOG-3
#[tokio::test]
async fn set_1_resend_makes_the_same_store_requests_whatever_matched() {
    let (h, rec) = recorded();
    h.migrate(&[
        record("pending@example.com", "ecid77", "econ7"),
        record("other@example.com", "ecid78", "econ7"),
    ])
    .await;
    h.active_user("active@example.com", "Tobira-Door42").await;
    h.advance(Duration::from_secs(120));
    let classes = [
        ("match", "pending@example.com", "pending@example.com"),
        ("unknown", "nobody@example.com", "nobody@example.com"),
        ("wrong e-mail", "other@example.com", "someone@example.com"),
        ("set up", "active@example.com", "active@example.com"),
        ("too soon", "pending@example.com", "pending@example.com"),
    ];
    let mut seqs = Vec::new();
    let mails = h.mails().await.len();
    for (class, login, email) in classes {
        let (r, seq) = rec
            .during(h.app.resend_setup_link(login, email, &ctx()))
            .await;
        r.unwrap();
        seqs.push((class, seq));
    }
    assert_eq!(h.mails().await.len(), mails + 1, "only the match mailed");
    assert_same("setup resend", &seqs);
}

// RST-1, RST-4, LOG-3
#[tokio::test]
async fn rst_1_forgot_password_makes_the_same_store_requests_whatever_matched() {
    let (h, rec) = recorded();
    h.migrate(&sample_records()).await;
    h.active_user("active@example.com", "Tobira-Door42").await;
    h.active_user("blocked@example.com", "Tobira-Door42").await;
    let wrong = forgot("blocked@example.com", "wrong@example.com");
    for _ in 0..5 {
        h.app.forgot_password(&wrong, &ctx()).await.unwrap();
    }
    h.advance(Duration::from_secs(120));
    let taro = "taro.yamada@example.co.jp";
    let classes = [
        (
            "match (reset link)",
            "active@example.com",
            "active@example.com",
        ),
        ("unknown", "nobody@example.com", "nobody@example.com"),
        ("wrong e-mail", "active@example.com", "wrong@example.com"),
        ("blocked", "blocked@example.com", "blocked@example.com"),
        ("too soon", "active@example.com", "active@example.com"),
        ("match (setup link in the window)", taro, taro),
    ];
    let mut seqs = Vec::new();
    for (class, login, email) in classes {
        let f = forgot(login, email);
        let (r, seq) = rec.during(h.app.forgot_password(&f, &ctx())).await;
        r.unwrap();
        seqs.push((class, seq));
    }
    assert_same("forgot password", &seqs);
    h.assert_mailed("active@example.com", "/password/reset?token=")
        .await;
}

// CLM-1, LOG-3
#[tokio::test]
async fn clm_1_every_claim_class_makes_the_same_store_requests() {
    let (h, rec) = recorded();
    h.migrate(&sample_records()).await;
    // The sha512 account holds two service IDs; set it up (a password).
    set_up_legacy(&h, "legacy.sha512@example.jp").await;
    for _ in 0..3 {
        let _ = h
            .app
            .claim("ca1234567893", &pw("Wrong-Pass9"), None, &ctx())
            .await;
    }
    let classes = [
        ("unknown", "zz0000000000", "Legacy-Pass1"),
        ("wrong password", "ca1234567890", "Wrong-Pass9"),
        (
            "set up, right legacy password",
            "ca1234567891",
            "Legacy-Pass2",
        ),
        ("blocked", "ca1234567893", "Legacy-Pass3"),
    ];
    let mut seqs = Vec::new();
    for (class, sid, password) in classes {
        let password = pw(password);
        let (e, seq) = rec.during(h.app.claim(sid, &password, None, &ctx())).await;
        let e = e.unwrap_err();
        assert!(
            matches!(
                e,
                tobira::Error::InvalidCredentials | tobira::Error::Throttled { .. }
            ),
            "{class}: {e:?}"
        );
        seqs.push((class, seq));
    }
    assert_same("claim", &seqs);
}

/// A migrated legacy account that went through setup: it has a portal
/// password (and so its legacy password is no credential any more).
pub async fn set_up_legacy(h: &Harness, login: &str) {
    let l = LoginId::parse(login).unwrap();
    let (u, _) = h.app.user_by_login(&l).await.unwrap().unwrap();
    let token = h.setup_token(u.email.as_str()).await;
    let grant = h
        .app
        .verify_identity(&token, u.email.as_str(), u.name.as_str(), &u.phone, &ctx())
        .await
        .unwrap();
    h.app
        .set_initial_password(&grant.0, &pw("Portal-Gate58"), &ctx())
        .await
        .unwrap();
}

// RST-4, LOG-3
#[tokio::test]
async fn rst_4_identity_entry_makes_the_same_store_requests_whatever_matched() {
    // No migration window: migrated users pending setup use the identity entry.
    let memory = Arc::new(MemoryStore::default());
    let rec = Arc::new(Recording::new(memory.clone()));
    let h = Harness::over(test_config(), rec.clone(), memory);
    h.migrate(&sample_records()).await;
    let taro = "taro.yamada@example.co.jp";
    let classes = [
        ("match", taro, "山田　太郎", "03-1234-5678"),
        (
            "unknown",
            "nobody@example.com",
            "山田　太郎",
            "03-1234-5678",
        ),
        ("wrong name", taro, "山田 太郎", "03-1234-5678"),
        ("wrong phone", taro, "山田　太郎", "03-0000-0000"),
    ];
    let mut seqs = Vec::new();
    let mails = h.mails().await.len();
    for (class, login, name, phone) in classes {
        let f = Forgot {
            name: Some(name),
            phone: Some(phone),
            ..forgot(login, taro)
        };
        let (r, seq) = rec.during(h.app.forgot_password(&f, &ctx())).await;
        r.unwrap();
        seqs.push((class, seq));
    }
    assert_eq!(h.mails().await.len(), mails + 1, "only the match mailed");
    assert_same("identity entry", &seqs);
}

// LOG-3: earlier failures, the owner's or a prober's, leave the same trace
// for a login ID that exists and one that does not: both counters live
// alike, and every refusal is one transaction of two items, whether or not
// it starts a lock.
#[tokio::test]
async fn log_3_earlier_failures_do_not_tell_known_from_unknown() {
    let (h, rec) = recorded();
    h.active_user("known@example.com", "Tobira-Door42").await;
    for login in ["known@example.com", "nobody@example.com"] {
        for _ in 0..4 {
            let _ = h.login(login, "Wrong-Pass1").await;
        }
    }
    h.advance(Duration::from_secs(21 * 60));
    let mut seqs = Vec::new();
    for login in ["known@example.com", "nobody@example.com"] {
        let (e, seq) = rec.during(h.login(login, "Wrong-Pass1")).await;
        assert_eq!(e.unwrap_err(), tobira::Error::InvalidCredentials);
        seqs.push((login, seq));
    }
    // The owner failed four times; the fifth (now) locks: the same requests.
    h.active_user("the.owner@example.com", "Tobira-Door42")
        .await;
    for _ in 0..4 {
        let _ = h.login("the.owner@example.com", "Wrong-Pass1").await;
    }
    let (_, seq) = rec
        .during(h.login("the.owner@example.com", "Wrong-Pass1"))
        .await;
    seqs.push(("owner's fifth failure", seq));
    // Each of the three started a lock (4 failures live a day): the same
    // requests, the LOG-5 notice last — its record and its outbox item, or
    // its record and a check when nobody is mailed: one transaction either
    // way, held or not.
    assert_same("sign-in after earlier failures", &seqs);
    assert_eq!(seqs[0].1.last(), Some(&"transaction"), "{seqs:#?}");
    // A failure that locks nothing makes the same requests but that record.
    let (_, first) = rec
        .during(h.login("someone.new@example.com", "Wrong-Pass1"))
        .await;
    assert_eq!(first, seqs[0].1[..seqs[0].1.len() - 1], "{first:?}");
}
