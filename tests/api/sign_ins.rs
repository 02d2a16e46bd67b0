//! ADM-6: the sign-in history — one's own and the admin's view of the
//! tenant — as JSON and CSV, in the viewer's time zone; how its events are
//! stored (a month is one query; unknown login IDs spread over shards).

use std::time::Duration;

use serde_json::Value;
use tobira::ids::{LoginId, Password};
use tobira::model::User;
use tobira::store::Store;
use tobira::Ctx;

use crate::admin_api::{admin_and_member, change_user, make_admin};
use crate::cases_support::{counted, get_json, on_dynamodb, signed_in};
use crate::mfa_support::{Client, PW};
use crate::support::{ctx, Harness};

const TENANT_A: &str = "econ7400000001";
const TENANT_B: &str = "econ7400000002";

fn pw(s: &str) -> Password {
    Password::parse(s).unwrap()
}

/// A sign-in with a wrong password (the history's failure).
async fn wrong_password(h: &Harness, login: &str) {
    let _ = h.app.login(login, &pw("Wrong-Pass1"), &ctx()).await;
}

fn from_agent(agent: &str) -> Ctx {
    Ctx {
        user_agent: agent.into(),
        ..ctx()
    }
}

/// The UTC offset of the first row's time (`+09:00`).
fn first_offset(page: &Value) -> &str {
    let time = page["items"][0]["time"].as_str().unwrap_or_default();
    &time[time.len().saturating_sub(6)..]
}

fn outcomes(page: &Value) -> Vec<(String, String)> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let s = |k: &str| i[k].as_str().unwrap_or("").to_string();
            (s("event"), s("outcome"))
        })
        .collect()
}

// ADM-6: a user's own history, newest first, in their own time zone.
#[tokio::test]
async fn adm_6_a_user_sees_their_own_sign_ins_in_their_time_zone() {
    let h = Harness::new();
    let mut me = signed_in(&h, "me@a.example", TENANT_A, "ecid7400000001").await;
    wrong_password(&h, "me@a.example").await;
    let (s, page) = get_json(&mut me, "/api/me/sign-ins").await;
    assert_eq!(s, 200, "{page}");
    let o = outcomes(&page);
    assert_eq!(o[0], ("password".into(), "failure".into()), "{page}");
    assert!(
        o.contains(&("second_factor".into(), "success".into())),
        "{page}"
    );
    assert!(o.contains(&("password".into(), "success".into())), "{page}");
    assert_eq!(page["time_zone"], "Asia/Tokyo");
    assert_eq!(first_offset(&page), "+09:00", "{page}");
    assert_eq!(page["items"][0]["login_id"], "me@a.example");
    assert_eq!(page["items"][0]["ip"], "192.0.2.10");

    // ADM-1's time zone is the viewer's.
    change_user(&h, "me@a.example", |u| {
        u.profile.time_zone = Some("America/New_York".into())
    })
    .await;
    let (_, page) = get_json(&mut me, "/api/me/sign-ins").await;
    assert_eq!(page["time_zone"], "America/New_York");
    assert_eq!(first_offset(&page), "-05:00", "{page}");

    // Another user's sign-ins are not in it.
    let mut other = signed_in(&h, "other@a.example", TENANT_A, "ecid7400000002").await;
    let (_, theirs) = get_json(&mut other, "/api/me/sign-ins").await;
    assert!(theirs.to_string().contains("other@a.example"));
    assert!(!theirs.to_string().contains("me@a.example"), "{theirs}");
}

// ADM-6: the admin's view: the tenant, one user, nobody of another
// tenant; a general user is refused.
#[tokio::test]
async fn adm_6_an_admin_sees_the_tenant_and_one_user_but_no_other_tenant() {
    let h = Harness::new();
    let (mut admin, mut member) = admin_and_member(&h, TENANT_A, "ecid740000001").await;
    let _stranger = signed_in(&h, "stranger@b.example", TENANT_B, "ecid7400000013").await;
    let member_id = h.user("member@a.example").await.id;
    let stranger_id = h.user("stranger@b.example").await.id;

    let (s, page) = get_json(&mut admin, "/api/admin/sign-ins").await;
    assert_eq!(s, 200, "{page}");
    let text = page.to_string();
    assert!(text.contains("member@a.example") && text.contains("admin@a.example"));
    assert!(!text.contains("stranger@b.example"), "{text}");

    let (s, one) = get_json(
        &mut admin,
        &format!("/api/admin/sign-ins?user_id={member_id}"),
    )
    .await;
    assert_eq!(s, 200, "{one}");
    let logins: Vec<&str> = one["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["login_id"].as_str().unwrap())
        .collect();
    assert!(!logins.is_empty() && logins.iter().all(|l| *l == "member@a.example"));

    let (s, e) = get_json(
        &mut admin,
        &format!("/api/admin/sign-ins?user_id={stranger_id}"),
    )
    .await;
    assert_eq!((s, e["error"].as_str()), (404, Some("not_found")));
    let (s, _) = get_json(&mut member, "/api/admin/sign-ins").await;
    assert_eq!(s, 403);
    // The page too: the 403 page, as on every admin page.
    assert_eq!(member.get("/admin/sign-ins").await.status(), 403);
    assert_eq!(admin.get("/admin/sign-ins").await.status(), 200);
    // The general user's own history is theirs to see.
    let (s, _) = get_json(&mut member, "/api/me/sign-ins").await;
    assert_eq!(s, 200);
}

// ADM-6: bad ranges, cursors and formats are 400 in the caller's language.
#[tokio::test]
async fn adm_6_bad_dates_cursors_and_formats_are_refused() {
    let h = Harness::new();
    let mut me = signed_in(&h, "me@a.example", TENANT_A, "ecid7400000021").await;
    for (q, code) in [
        ("from=2026-13-01", "invalid_date"),
        ("to=yesterday", "invalid_date"),
        ("from=2026-12-02&to=2026-12-01", "invalid_date_range"),
        ("from=2024-01-01&to=2026-12-01", "invalid_date_range"),
        ("cursor=2026-11.nothing", "invalid_cursor"),
        ("format=xlsx", "invalid_format"),
    ] {
        let (s, e) = get_json(&mut me, &format!("/api/me/sign-ins?{q}&lang=en")).await;
        assert_eq!((s, e["error"].as_str()), (400, Some(code)), "{q}: {e}");
        assert!(e["message"].as_str().unwrap().is_ascii(), "{e}");
    }
}

async fn csv(c: &mut Client<'_>, path: &str) -> (u16, String, Option<String>) {
    let r = c.get(path).await;
    let link = r
        .headers()
        .get("link")
        .map(|v| v.to_str().unwrap().to_string());
    let ct = r.headers().get("content-type").unwrap().to_str().unwrap();
    assert!(ct.starts_with("text/csv") || r.status() != 200, "{ct}");
    let body = String::from_utf8(r.body().to_vec()).unwrap();
    (r.status().as_u16(), body, link)
}

// ADM-6: the CSV: a BOM, a header in the viewer's language with the zone,
// and no cell that starts a formula (the user agent is the attacker's).
#[tokio::test]
async fn adm_6_csv_has_a_bom_and_no_cell_starts_a_formula() {
    let h = Harness::new();
    let mut me = signed_in(&h, "me@a.example", TENANT_A, "ecid7400000031").await;
    let evil = from_agent("=HYPERLINK(\"http://evil.example\",\"x\")");
    let _ = h.app.login("me@a.example", &pw("Wrong-Pass1"), &evil).await;
    h.clock.advance(Duration::from_secs(1));
    let _ = h
        .app
        .login("me@a.example", &pw("Wrong-Pass2"), &from_agent("@SUM(1+1)"))
        .await;
    let (s, body, link) = csv(&mut me, "/api/me/sign-ins?format=csv&lang=ja").await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(link, None);
    assert!(body.starts_with('\u{feff}'), "no BOM");
    let lines: Vec<&str> = body.trim_start_matches('\u{feff}').split("\r\n").collect();
    assert!(
        lines[0].starts_with("\"日時 (Asia/Tokyo)\""),
        "{}",
        lines[0]
    );
    assert!(lines[1].contains("\"'@SUM(1+1)\""), "{}", lines[1]);
    assert!(
        lines[2].contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\""),
        "{}",
        lines[2]
    );
    for l in &lines[1..] {
        for cell in l.split("\",\"") {
            let v = cell.trim_start_matches('"');
            assert!(!v.starts_with(['=', '+', '-', '@']), "{v} in {l}");
        }
    }
    assert!(
        lines[1].contains("me@a.example") && lines[1].contains("失敗"),
        "{}",
        lines[1]
    );
}

/// A tenant of `users` users whose history holds `per_user` events each,
/// spread over November (written as the attempts write them).
async fn busy_month(
    h: &Harness,
    store: &dyn Store,
    users: u32,
    per_user: u32,
    user_agent: &str,
) -> User {
    h.clock
        .set(tobira::clock::Timestamp::from_secs(1_793_491_200)); // 2026-11-01 00:00 UTC
    let admin = h.user("admin@a.example").await;
    let agent = from_agent(user_agent);
    for round in 0..per_user {
        for chunk in (0..users).collect::<Vec<_>>().chunks(50) {
            let mut writes = Vec::new();
            for n in chunk {
                let mut u = admin.clone();
                u.id = format!("01KB{n:022}");
                u.login_id = LoginId::parse(&format!("user{n}@a.example")).unwrap();
                let kind = if round % 2 == 0 {
                    "login.password_ok"
                } else {
                    "mfa.success"
                };
                writes.extend(h.app.sign_in_event(&agent, kind, Some(&u), None));
            }
            store.write(writes, h.app.now()).await.unwrap();
            h.clock.advance(Duration::from_secs(20));
        }
    }
    h.clock
        .set(tobira::clock::Timestamp::from_secs(1_795_262_400));
    admin
}

/// Every part of the month's CSV, following the `Link` headers: the rows
/// (each must come once) and the number of parts. Each part must fit
/// Lambda's 6 MB answer as Lambda sends it: a JSON string, where every `"`,
/// CR and LF is escaped.
async fn month_csv(admin: &mut Client<'_>) -> (std::collections::BTreeSet<String>, usize) {
    let mut path = "/api/admin/sign-ins?from=2026-11-01&to=2026-11-30&format=csv".to_string();
    let (mut rows, mut parts) = (std::collections::BTreeSet::new(), 0);
    loop {
        let (s, body, link) = csv(admin, &path).await;
        assert_eq!(s, 200);
        let in_lambda = serde_json::to_string(&body).unwrap().len();
        assert!(
            in_lambda < 5_500_000,
            "{in_lambda} bytes in Lambda's answer"
        );
        parts += 1;
        println!(
            "part {parts}: {} bytes, {in_lambda} as a JSON string",
            body.len()
        );
        for l in body.split("\r\n").skip(1).filter(|l| !l.is_empty()) {
            assert!(rows.insert(l.to_string()), "twice: {l}");
        }
        match link {
            Some(l) => path = l[1..l.find('>').unwrap()].to_string(),
            None => return (rows, parts),
        }
    }
}

// ADM-6: a month of a 1,000-user tenant: one query per page, and the CSV
// comes in parts that each fit Lambda's 6 MB answer, every row once.
#[tokio::test]
async fn adm_6_a_month_of_a_1000_user_tenant_is_one_query_and_exports_in_parts() {
    let (h, memory, counts) = counted();
    let mut admin = signed_in(&h, "admin@a.example", TENANT_A, "ecid7400000041").await;
    make_admin(&h, "admin@a.example").await;
    let browser = format!(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) {}",
        "x".repeat(100)
    );
    let viewer = busy_month(&h, memory.as_ref(), 1000, 44, &browser).await;

    let month = tobira::history::HistoryQuery {
        from: Some("2026-11-01"),
        to: Some("2026-11-30"),
        ..Default::default()
    };
    counts.take();
    let page = h.app.tenant_sign_ins(&viewer, &month).await.unwrap();
    assert_eq!(page.items.len(), tobira::history::PAGE_SIZE);
    // The viewer's own user, and one query of the month.
    assert_eq!(counts.take(), [0, 1, 0, 0]);

    let (rows, parts) = month_csv(&mut admin).await;
    println!("{} rows in {parts} parts", rows.len());
    assert!(parts >= 2, "{parts} parts");
    assert!(rows.len() >= 44_000, "{} rows", rows.len());
}

// ADM-6: an attacker's user agent of quotes (each is 4 bytes in Lambda's
// answer) cannot push a part of the CSV past Lambda's limit.
#[tokio::test]
async fn adm_6_a_csv_of_quoted_user_agents_still_fits_lambdas_answer() {
    let (h, memory, _) = counted();
    let mut admin = signed_in(&h, "admin@a.example", TENANT_A, "ecid7400000071").await;
    make_admin(&h, "admin@a.example").await;
    busy_month(&h, memory.as_ref(), 100, 80, &"\"".repeat(256)).await;
    let (rows, parts) = month_csv(&mut admin).await;
    assert!(parts >= 3, "{parts} parts");
    assert!(rows.len() >= 8_000, "{} rows", rows.len());
}

// ADM-6 / LOG-3: attempts on login IDs nobody holds spread over the day's
// shards, and write as many items as attempts on a held one.
#[tokio::test]
async fn adm_6_spraying_unknown_login_ids_heats_no_single_partition() {
    let (h, memory, counts) = counted();
    h.active_user_in("known@a.example", PW, TENANT_A, "ecid7400000051")
        .await;
    counts.take();
    wrong_password(&h, "known@a.example").await;
    let known = counts.take();
    wrong_password(&h, "ghost@a.example").await;
    let unknown = counts.take();
    assert_eq!(
        known[2..],
        unknown[2..],
        "writes and items: {known:?} {unknown:?}"
    );
    for n in 0..200 {
        wrong_password(&h, &format!("ghost{n}@a.example")).await;
    }
    let mut per_partition = std::collections::BTreeMap::<String, usize>::new();
    for item in memory.snapshot() {
        if item.key.pk.starts_with("AUDIT#-#") || item.key.pk.starts_with("SIGNIN#-#") {
            *per_partition.entry(item.key.pk.clone()).or_default() += 1;
        }
    }
    assert_eq!(
        per_partition.len(),
        2 * tobira::trail::SHARDS as usize,
        "{per_partition:?}"
    );
    assert!(per_partition.values().all(|n| *n < 50), "{per_partition:?}");
}

// ADM-6 on DynamoDB (the emulator): the admin's view and one's own.
#[tokio::test]
async fn adm_6_sign_in_history_on_dynamodb() {
    let h = on_dynamodb().await;
    let mut admin = signed_in(&h, "admin@a.example", TENANT_A, "ecid7400000061").await;
    make_admin(&h, "admin@a.example").await;
    wrong_password(&h, "admin@a.example").await;
    let (s, page) = get_json(&mut admin, "/api/admin/sign-ins").await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(outcomes(&page)[0], ("password".into(), "failure".into()));
    let (s, mine) = get_json(&mut admin, "/api/me/sign-ins").await;
    assert_eq!((s, outcomes(&mine)), (200, outcomes(&page)));
}

// AUD-1 (no secret kept): a password typed into the login-ID field names
// no lock counter and no record — the counter of a login ID nobody holds
// is keyed by a MAC of the text.
#[tokio::test]
async fn aud_1_a_password_typed_as_the_login_id_is_kept_nowhere() {
    let (h, memory, _) = counted();
    for _ in 0..2 {
        wrong_password(&h, "Kumo-Tori-Ame7").await;
    }
    let items = memory.snapshot();
    assert!(items.iter().any(|i| i.key.pk.starts_with("LOCK#login#~")));
    for i in &items {
        let text = format!("{:?} {}", i.key, i.data).to_lowercase();
        assert!(!text.contains("kumo-tori"), "{text}");
    }
}
