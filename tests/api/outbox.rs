//! Issue 17 item 5: notices that are never lost. A notice is an outbox item
//! written with the change that causes it; the sender delivers it with
//! retries and gives it up as a dead letter only after every try. Proved
//! with the failing mailer on the embedded store and on DynamoDB.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tobira::outbox::{backoff, Delivered, MAX_ATTEMPTS};
use tobira_local::sqlite::SqliteStore;
use tobira_web::i18n::Lang;

use crate::cases_support::{harness_over, inquiry, member, on_dynamodb};
use crate::support::{ctx, json_req, Harness};

const TENANT: &str = "econ1000000001";

fn notices_to(h: &Harness, to: &str) -> usize {
    h.outbox.mails().iter().filter(|m| m.to == to).count()
}

/// CASE-5's notice through a mail service outage: delayed, then sent once.
async fn a_fault_delays_and_loses_nothing(h: Harness) {
    let login = "outage@example.com";
    let u = member(&h.app, login, TENANT, false, Lang::Ja).await;
    h.outbox.set_failing(true);
    let case = h
        .app
        .create_case(&u, &inquiry("s", "b"), &ctx())
        .await
        .unwrap();
    let d = h.deliver().await;
    assert_eq!((d.sent, d.retrying, d.dead), (0, 1, 0));
    h.advance(Duration::from_secs(29));
    assert_eq!(
        h.deliver().await,
        Delivered::default(),
        "not due before 30 s"
    );
    h.outbox.set_failing(false);
    h.advance(Duration::from_secs(1));
    assert_eq!(h.deliver().await.sent, 1);
    let mail = h.newest_mail(login, &case.number).await;
    assert!(mail.subject.contains(&case.number));
    h.advance(Duration::from_secs(3 * 3600));
    assert_eq!(h.deliver().await, Delivered::default());
    assert_eq!(notices_to(&h, login), 1, "sent once");
}

// CASE-5
#[tokio::test]
async fn case_5_a_mail_fault_delays_the_notice_and_loses_none_on_the_embedded_store() {
    a_fault_delays_and_loses_nothing(harness_over(Arc::new(SqliteStore::in_memory()))).await;
}

// CASE-5
#[tokio::test]
async fn case_5_a_mail_fault_delays_the_notice_and_loses_none_on_dynamodb() {
    a_fault_delays_and_loses_nothing(on_dynamodb().await).await;
}

/// Every try fails: a dead letter and an audit record, nothing else left.
async fn given_up_after_every_try(h: Harness) {
    let login = "dead@example.com";
    let u = member(&h.app, login, TENANT, false, Lang::Ja).await;
    h.outbox.set_failing(true);
    h.app
        .create_case(&u, &inquiry("s", "b"), &ctx())
        .await
        .unwrap();
    for n in 1..=MAX_ATTEMPTS {
        let d = h.deliver().await;
        let want = if n == MAX_ATTEMPTS {
            (0, 0, 1)
        } else {
            (0, 1, 0)
        };
        assert_eq!((d.sent, d.retrying, d.dead), want, "try {n}");
        h.advance(backoff(n));
    }
    h.outbox.set_failing(false);
    h.advance(Duration::from_secs(24 * 3600));
    assert_eq!(
        h.deliver().await,
        Delivered::default(),
        "nothing left to send"
    );
    let dead = h.app.dead_notices(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].kind.as_str(), dead[0].to.as_str()),
        ("case.created", login)
    );
    assert_eq!(dead[0].attempts, MAX_ATTEMPTS);
    let kinds = h.audit_kinds(TENANT).await;
    assert!(
        kinds.contains(&"notice.undelivered".to_string()),
        "{kinds:?}"
    );
    // The operator's list, through the function's event.
    let r = tobira_migrate_batch::handle(&h.app, json!({ "action": "dead-notices" }))
        .await
        .unwrap();
    assert_eq!(r["notices"][0]["to"], login);
    assert!(r["notices"][0].get("text").is_none(), "never the body");
}

// CASE-5
#[tokio::test]
async fn case_5_a_notice_is_given_up_after_eight_tries_as_a_dead_letter_on_the_embedded_store() {
    given_up_after_every_try(harness_over(Arc::new(SqliteStore::in_memory()))).await;
}

// CASE-5
#[tokio::test]
async fn case_5_a_notice_is_given_up_after_eight_tries_as_a_dead_letter_on_dynamodb() {
    given_up_after_every_try(on_dynamodb().await).await;
}

/// Four senders at once (the stream, the schedule, a retry): each notice
/// goes out once.
async fn parallel_senders_send_once(h: Harness) {
    let mut subjects = Vec::new();
    for i in 0..12 {
        let login = format!("parallel{i}@example.com");
        let u = member(&h.app, &login, TENANT, false, Lang::En).await;
        let c = h
            .app
            .create_case(&u, &inquiry("s", "b"), &ctx())
            .await
            .unwrap();
        subjects.push(c.number);
    }
    let (a, b, c, d) = tokio::join!(h.deliver(), h.deliver(), h.deliver(), h.deliver());
    assert_eq!(a.sent + b.sent + c.sent + d.sent, 12);
    h.advance(Duration::from_secs(3 * 3600));
    assert_eq!(h.deliver().await, Delivered::default());
    let mails = h.outbox.mails();
    assert_eq!(mails.len(), 12, "each once");
    for n in &subjects {
        assert_eq!(
            mails.iter().filter(|m| m.subject.contains(n)).count(),
            1,
            "{n}"
        );
    }
}

// CASE-5
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn case_5_parallel_senders_send_each_notice_once_on_the_embedded_store() {
    parallel_senders_send_once(harness_over(Arc::new(SqliteStore::in_memory()))).await;
}

// CASE-5
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn case_5_parallel_senders_send_each_notice_once_on_dynamodb() {
    parallel_senders_send_once(on_dynamodb().await).await;
}

fn forgot(login: &str) -> lambda_http::Request {
    let body = json!({ "login_id": login, "email": login }).to_string();
    json_req("POST", "/api/password/forgot", &body)
}

// RST-1, MSG-2: "forgot password" answers without the mail service; the
// link follows by the outbox, which never holds a usable token.
#[tokio::test]
async fn rst_1_forgot_password_does_not_wait_for_the_mail_service_and_the_outbox_holds_no_token() {
    let h = Harness::new();
    let login = "forgetful@example.com";
    h.active_user(login, "Kumo-Tori-Ame7").await;
    h.hold_notices.store(true, Ordering::Relaxed);
    let before = h.outbox.mails().len();
    assert_eq!(h.send(forgot(login)).await.status(), 202);
    assert_eq!(h.outbox.mails().len(), before, "the request sent nothing");
    let stored = h.memory.snapshot();
    let token = h.link_token(login, "/password/reset").await;
    assert!(
        stored.iter().all(|i| !i.data.contains(&token)),
        "the store never held the link's token"
    );
    let pw = tobira::ids::Password::parse("Neue-Wolke-93").unwrap();
    h.app.reset_password(&token, &pw, &ctx()).await.unwrap();
    h.deliver().await; // its notice
                       // The same with the mail service down: the answer is the same, and
                       // the link arrives once the service is back.
    h.advance(Duration::from_secs(2 * 24 * 3600));
    h.outbox.set_failing(true);
    assert_eq!(h.send(forgot(login)).await.status(), 202);
    assert_eq!(h.deliver().await.retrying, 1);
    h.outbox.set_failing(false);
    h.advance(Duration::from_secs(30));
    assert_eq!(h.deliver().await.sent, 1);
    let again = h.link_token(login, "/password/reset").await;
    assert_ne!(again, token);
}

// RST-1: a link whose mail could not go out before the link expired is
// given up, not sent.
#[tokio::test]
async fn rst_1_a_link_past_its_time_is_given_up_not_sent() {
    let h = Harness::new();
    let login = "late@example.com";
    h.active_user(login, "Kumo-Tori-Ame7").await;
    h.hold_notices.store(true, Ordering::Relaxed);
    h.outbox.set_failing(true);
    assert_eq!(h.send(forgot(login)).await.status(), 202);
    assert_eq!(h.deliver().await.retrying, 1);
    h.outbox.set_failing(false);
    h.advance(h.app.config.reset_link_ttl);
    assert_eq!(h.deliver().await.dead, 1);
    assert!(!h
        .outbox
        .mails()
        .iter()
        .any(|m| m.to == login && m.text.contains("/password/reset?token=")));
    let dead = h.app.dead_notices(10).await.unwrap();
    assert_eq!(
        (dead[0].kind.as_str(), dead[0].reason.as_str()),
        ("password.link", "expired")
    );
}

// CASE-5: the table's stream names new outbox items; migrate-batch sends them.
#[tokio::test]
async fn case_5_migrate_batch_delivers_the_notices_a_stream_names() {
    let h = Harness::new();
    let login = "streamed@example.com";
    let u = member(&h.app, login, TENANT, false, Lang::Ja).await;
    let case = h
        .app
        .create_case(&u, &inquiry("s", "b"), &ctx())
        .await
        .unwrap();
    let item = h
        .memory
        .snapshot()
        .into_iter()
        .find(|i| tobira::outbox::is_outbox_key(&i.key))
        .expect("the notice waits in the outbox");
    let mut event: serde_json::Value =
        serde_json::from_str(include_str!("../../events/migrate-batch/stream.json")).unwrap();
    event["Records"][0]["dynamodb"]["Keys"] =
        json!({ "pk": { "S": item.key.pk }, "sk": { "S": item.key.sk } });
    let r = tobira_migrate_batch::handle(&h.app, event.clone())
        .await
        .unwrap();
    assert_eq!(
        (r["action"].as_str(), r["sent"].as_u64()),
        (Some("deliver-notices"), Some(1))
    );
    h.assert_mailed(login, &case.number).await;
    // Again (a stream delivers at least once): nothing more.
    let r = tobira_migrate_batch::handle(&h.app, event).await.unwrap();
    assert_eq!(r["sent"], 0);
    assert_eq!(notices_to(&h, login), 1);
    // A record without keys is refused.
    let bad = json!({ "Records": [{ "eventSource": "aws:dynamodb", "dynamodb": {} }] });
    let e = tobira_migrate_batch::handle(&h.app, bad).await.unwrap_err();
    assert_eq!(e.code(), "invalid_event");
}

// RST-1: a link voided before its mail went out (a newer link) is not
// mailed; the newer one is, and works.
#[tokio::test]
async fn rst_1_a_link_voided_before_its_mail_went_out_is_not_mailed() {
    let h = Harness::new();
    let login = "twice@example.com";
    h.active_user(login, "Kumo-Tori-Ame7").await;
    h.hold_notices.store(true, Ordering::Relaxed);
    let before = h.outbox.mails().len();
    assert_eq!(h.send(forgot(login)).await.status(), 202);
    h.advance(Duration::from_secs(61));
    assert_eq!(h.send(forgot(login)).await.status(), 202);
    let d = h.deliver().await;
    assert_eq!((d.sent, d.voided), (1, 1), "{d:?}");
    assert_eq!(h.outbox.mails().len(), before + 1);
    let token = h.link_token(login, "/password/reset").await;
    let pw = tobira::ids::Password::parse("Neue-Wolke-93").unwrap();
    h.app.reset_password(&token, &pw, &ctx()).await.unwrap();
}

// SET-1: a setup mail given up takes its link with it, and the user counts
// as not sent again, so the migration's mail job sends a new one.
#[tokio::test]
async fn set_1_a_setup_mail_given_up_voids_its_link_and_the_job_sends_a_new_one() {
    let h = Harness::new();
    let login = "nomail@example.com";
    h.stage(&[(login, "ecid9100000001", "t9")]).await;
    crate::support::apply_all(&h.app).await;
    h.outbox.set_failing(true);
    let r = h.app.send_setup_links(None, false, &ctx()).await.unwrap();
    assert_eq!(r.sent, 1);
    for n in 1..=MAX_ATTEMPTS {
        h.deliver().await;
        h.advance(backoff(n));
    }
    assert_eq!(h.app.dead_notices(10).await.unwrap().len(), 1);
    let setup_items = |h: &Harness| {
        h.memory
            .snapshot()
            .iter()
            .filter(|i| i.key.pk.starts_with("SETUP#"))
            .count()
    };
    assert_eq!(setup_items(&h), 0, "the link died with its mail");
    assert_eq!(h.user(login).await.setup_sent_at, None);
    h.outbox.set_failing(false);
    let r = h.app.send_setup_links(None, false, &ctx()).await.unwrap();
    assert_eq!(r.sent, 1, "the job sends it again");
    let token = h.setup_token(login).await;
    assert!(h.app.check_setup_token(&token).await.is_ok());
}

// CASE-5: an item the sender cannot read is set aside among the dead
// letters and does not hold up the notices behind it.
#[tokio::test]
async fn case_5_an_unreadable_outbox_item_is_set_aside() {
    let h = Harness::new();
    let login = "behind@example.com";
    let u = member(&h.app, login, TENANT, false, Lang::Ja).await;
    let junk = tobira::store::Write::Put {
        key: tobira::store::Key::new("OUTBOX#0", "0000000000000#junk"),
        data: "{\"not\":\"a notice\"}".into(),
        expires_at: None,
        cond: tobira::store::Cond::Absent,
    };
    h.app.store.write(vec![junk], h.app.now()).await.unwrap();
    let case = h
        .app
        .create_case(&u, &inquiry("s", "b"), &ctx())
        .await
        .unwrap();
    let d = h.deliver().await;
    assert_eq!((d.sent, d.dead), (1, 1), "{d:?}");
    h.assert_mailed(login, &case.number).await;
    assert!(h
        .memory
        .snapshot()
        .iter()
        .all(|i| !tobira::outbox::is_outbox_key(&i.key)));
}

// MSG-2: the local portal keeps its link key in the data directory, readable
// by its owner alone, so `serve`, `invoke` and a restart derive the same
// link tokens.
#[test]
fn msg_2_the_local_link_key_is_kept_in_the_data_directory_for_its_owner_alone() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("tobira-link-key-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = || tobira::Config::local("http://127.0.0.1:3000");
    let a = tobira_local::Local::open(&dir, config()).unwrap();
    let b = tobira_local::Local::open(&dir, config()).unwrap();
    assert_eq!(
        a.app.config.link_key.expose(),
        b.app.config.link_key.expose()
    );
    assert_ne!(a.app.config.link_key.expose(), config().link_key.expose());
    let mode = std::fs::metadata(dir.join("link.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let _ = std::fs::remove_dir_all(&dir);
}
