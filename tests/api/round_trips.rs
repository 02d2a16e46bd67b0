//! Issue 17 item 1: the sequential store requests of each flow — what a
//! request waits for when each store request costs milliseconds (DynamoDB)
//! — measured with the counting store (requests issued together share a
//! round) and held to the table in docs/BENCHMARKS.md, row for row.

use serde_json::json;
use tobira::admin::actions::Action;
use tobira::admin::UserQuery;

use crate::cases_support::counted;
use crate::mfa_support::{full_client, totp_code, totp_enrol, Client, PW};
use crate::support::{ctx, json_req, record, Jar};

const TENANT: &str = "econ1000000001";

/// `(sequential rounds, requests)` of what `flow` did to the store; its
/// capacity units (read, write) go to `$units` under `$name`.
macro_rules! measure {
    ($counts:expr, $flow:expr) => {{
        $counts.take_depth();
        $counts.take();
        $counts.take_units();
        $flow;
        let depth = $counts.take_depth();
        let [gets, queries, writes, _] = $counts.take();
        (depth, gets + queries + writes)
    }};
}

fn row(flow: &str, (depth, total): (u64, u64)) -> String {
    format!("| {flow} | {depth} | {total} |")
}

/// The capacity units of the flow just measured, as docs/COST.md lists them.
fn cost_row(flow: &str, counts: &tobira_test_kit::Counts) -> String {
    let (rru, wru) = counts.take_units();
    format!("| {flow} | {rru} | {wru} |")
}

#[tokio::test]
async fn store_round_trips_of_each_flow_are_the_documented_ones() {
    let (h, memory, counts) = counted();
    h.hold_notices
        .store(true, std::sync::atomic::Ordering::Relaxed);
    for (login, ecid) in [
        ("active@example.com", "ecid8000000001"),
        ("locked@example.com", "ecid8000000002"),
        ("disabled@example.com", "ecid8000000003"),
        ("admin@example.com", "ecid8000000005"),
    ] {
        h.active_user_in(login, PW, TENANT, ecid).await;
    }
    let (secret, _) = totp_enrol(&h, "active@example.com").await;
    h.migrate(&[record("pending@example.com", "ecid8000000004", TENANT)])
        .await;
    let mut admin = record("boss@example.com", "ecid8000000006", TENANT);
    admin["role"] = "admin".into();
    h.migrate(&[admin]).await;
    h.activate("boss@example.com", PW).await;
    for _ in 0..5 {
        Client::new(&h)
            .login("locked@example.com", "Wrong-Pass-123")
            .await;
    }
    h.app
        .ops_act_on_login("disabled@example.com", "test", Action::Disable, &ctx())
        .await
        .unwrap();

    let mut rows = Vec::new();
    let mut costs = Vec::new();
    let classes = [
        ("a login ID nobody holds", "nobody@example.com", PW),
        ("a wrong password", "active@example.com", "Wrong-Pass-123"),
        ("a locked account", "locked@example.com", PW),
        ("a disabled account", "disabled@example.com", PW),
        ("an account not yet set up", "pending@example.com", PW),
    ];
    let mut failures = Vec::new();
    for (class, login, pw) in classes {
        let mut c = Client::new(&h);
        let m = measure!(counts, {
            let (s, _) = c.login(login, pw).await;
            assert_eq!(s, 401, "{class}");
        });
        failures.push(m);
        rows.push(row(&format!("password sign-in, {class}"), m));
        costs.push(cost_row(&format!("password sign-in, {class}"), &counts));
    }
    // LOG-3: every failure class makes the same requests in as many rounds:
    // the login ID; the user and the counter at once; the counter's write
    // (the hash beside it); the refusal's record after the hash.
    assert!(failures.iter().all(|m| *m == failures[0]), "{failures:?}");
    assert_eq!(failures[0].0, 4, "three rounds before the hash, one after");

    let mut c = Client::new(&h);
    let m = measure!(counts, {
        let (s, b) = c.login("active@example.com", PW).await;
        assert_eq!((s, b["next"].as_str()), (200, Some("mfa")));
    });
    rows.push(row(
        "password sign-in, right password (second factor next)",
        m,
    ));
    costs.push(cost_row(
        "password sign-in, right password (second factor next)",
        &counts,
    ));
    let m = measure!(counts, {
        let (s, _) = c.mfa("totp", &totp_code(&h, &secret, 1)).await;
        assert_eq!(s, 200);
    });
    rows.push(row("second factor (TOTP code)", m));
    costs.push(cost_row("second factor (TOTP code)", &counts));

    let forgot = json!({ "login_id": "active@example.com", "email": "active@example.com" });
    let m = measure!(counts, {
        let r = h
            .send(json_req(
                "POST",
                "/api/password/forgot",
                &forgot.to_string(),
            ))
            .await;
        assert_eq!(r.status(), 202);
    });
    rows.push(row("forgot password (RST-1)", m));
    costs.push(cost_row("forgot password (RST-1)", &counts));

    let token = h.setup_token("pending@example.com").await;
    let verify = json!({ "token": token, "email": "pending@example.com", "name": "Test User", "phone": "0312345678" });
    let mut jar = Jar::default();
    let m = measure!(counts, {
        let r = h
            .send(json_req("POST", "/api/setup/verify", &verify.to_string()))
            .await;
        assert_eq!(r.status(), 200);
        jar.take(&r);
    });
    rows.push(row("setup: identity check (SET-2)", m));
    costs.push(cost_row("setup: identity check (SET-2)", &counts));
    let password = json!({ "password": "Kumo-Tori-Ame7" });
    let m = measure!(counts, {
        let r = h
            .send(jar.apply(json_req(
                "POST",
                "/api/setup/password",
                &password.to_string(),
            )))
            .await;
        assert_eq!(r.status(), 200);
    });
    rows.push(row("setup: first password (SET-3)", m));
    costs.push(cost_row("setup: first password (SET-3)", &counts));

    let (admin_secret, _) = totp_enrol(&h, "admin@example.com").await;
    let mut c = full_client(&h, "admin@example.com", &admin_secret).await;
    let case = json!({ "kind": "inquiry", "category": "その他", "subject": "s", "body": "b" });
    let m = measure!(counts, {
        let (s, _) = c.post("/api/cases", case.clone()).await;
        assert_eq!(s, 201);
    });
    rows.push(row("case creation (CASE-1)", m));
    costs.push(cost_row("case creation (CASE-1)", &counts));

    let boss = h.find_user("boss@example.com").await.unwrap().0;
    let m = measure!(counts, {
        h.app
            .list_users(&boss, &UserQuery::default())
            .await
            .unwrap();
    });
    rows.push(row("admin list page (ADM-5)", m));
    costs.push(cost_row("admin list page (ADM-5)", &counts));

    // SET-1: the migration's mail job, per user: the setup link and its
    // mail queued in one write.
    h.migrate(&[record("late@example.com", "ecid8000000007", TENANT)])
        .await;
    let late = h.find_user("late@example.com").await.unwrap().0;
    let m = measure!(counts, {
        h.app.send_setup_link(&late.id, &ctx()).await.unwrap();
    });
    rows.push(row("setup link of one migrated user (SET-1)", m));
    costs.push(cost_row("setup link of one migrated user (SET-1)", &counts));

    // The outbox's sender, as the stream invokes it: one link mail (the
    // setup link just queued, left waiting by `hold_notices`), which reads
    // its link before it is sent.
    let queued: Vec<tobira::store::Key> = memory
        .snapshot()
        .into_iter()
        .filter(|i| tobira::outbox::is_outbox_key(&i.key))
        .filter(|i| {
            i.parse::<tobira::outbox::Notice>()
                .is_ok_and(|n| n.kind == "setup.link")
        })
        .map(|i| i.key)
        .collect();
    assert!(!queued.is_empty(), "a link mail waits in the outbox");
    let one = &queued[..1];
    let m = measure!(counts, {
        let d = h.app.deliver_keys(one, &ctx()).await.unwrap();
        assert_eq!(d.sent, 1);
    });
    rows.push(row("the sender: one link mail, as the stream names it", m));
    costs.push(cost_row(
        "the sender: one link mail, as the stream names it",
        &counts,
    ));

    let cost =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/COST.md")).unwrap();
    let missing: Vec<&String> = costs
        .iter()
        .filter(|r| !cost.contains(r.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/COST.md lacks these rows (or has other figures):\n{}",
        costs.join("\n")
    );
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/BENCHMARKS.md"))
        .unwrap();
    let missing: Vec<&String> = rows.iter().filter(|r| !doc.contains(r.as_str())).collect();
    assert!(
        missing.is_empty(),
        "docs/BENCHMARKS.md lacks these rows (or has other figures):\n{}",
        rows.join("\n")
    );
}
