//! Attachments (CASE-6) on the embedded store and on DynamoDB, with the
//! local file store as the browser meets it: the store's signed form, the
//! upload straight to the store, the confirmation, the download link.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tobira::cases::{Author, Confirmation};
use tobira::files::{FileStore, UploadForm};
use tobira::model::User;
use tobira_local::files::Uploaded;
use tobira_local::sqlite::SqliteStore;
use tobira_web::i18n::Lang;

use crate::attachments_support::*;
use crate::cases_support::*;
use crate::support::{body_text, ctx, Harness};

const REPORT: &[u8] = b"%PDF-1.4 monthly report\n\x00\x01\x02 binary bytes \xff";

async fn thread_files(h: &Harness, u: &User, id: &str) -> Vec<String> {
    let d = h.app.case_detail(u, id).await.unwrap();
    d.thread
        .iter()
        .flat_map(|c| c.attachments.iter().map(|a| a.name.clone()))
        .collect()
}

async fn case_6_on(h: Harness) {
    let a = member(&h.app, "files-a@example.com", TENANT_A, false, Lang::Ja).await;
    let a2 = member(&h.app, "files-a2@example.com", TENANT_A, false, Lang::Ja).await;
    let b = member(&h.app, "files-b@example.com", TENANT_B, false, Lang::Ja).await;
    let case = h
        .app
        .create_case(&a, &inquiry("ログの提出", "ログを添付します。"), &ctx())
        .await
        .unwrap();
    let id = case.id.as_str();

    // The form pins the user's prefix on this case of their tenant.
    let t = h.app.attachment_form(&a, id, false).await.unwrap();
    let prefix = format!("att/{TENANT_A}/{id}/{}/", a.id);
    let key_field = &t.form.fields[0];
    assert_eq!(key_field.0, "key");
    assert!(key_field.1.starts_with(&prefix) && key_field.1.ends_with("/${filename}"));
    assert_eq!(t.max_bytes, 2 * 1024 * 1024 * 1024);

    // Upload, confirm: on the thread with the store's size, the type from
    // the name's extension, a Japanese name intact.
    let name = "月次レポート 11月.pdf";
    let (key, etag) = uploaded(&h, &t, name, REPORT).await;
    let c = Confirmation {
        key: &key,
        size: Some(REPORT.len() as u64),
        etag: Some(&etag),
        state: None,
    };
    let entry = h
        .app
        .confirm_attachment(&a, id, &c, Some("ログです"), &ctx())
        .await
        .unwrap();
    assert_eq!(
        (entry.by, entry.body.as_str()),
        (Author::Customer, "ログです")
    );
    let file = &entry.attachments[0];
    assert_eq!(
        (file.name.as_str(), file.size, file.content_type.as_str()),
        (name, Some(REPORT.len() as u64), "application/pdf")
    );
    // A replay (reload, back) registers nothing more; ten at once, one.
    assert_eq!(
        code(h.app.confirm_attachment(&a, id, &c, None, &ctx()).await),
        (409, "attachment_already_added".into())
    );
    let t2 = h.app.attachment_form(&a, id, false).await.unwrap();
    let (key2, _) = uploaded(&h, &t2, "ログ.txt", b"log line\n").await;
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (app, a, id, key2) = (h.app.clone(), a.clone(), id.to_string(), key2.clone());
        tasks.push(tokio::spawn(async move {
            let c = confirmation(&key2);
            app.confirm_attachment(&a, &id, &c, None, &ctx()).await
        }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => won += 1,
            Err(e) => assert_eq!(e.code(), "attachment_already_added"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(thread_files(&h, &a, id).await, [name, "ログ.txt"]);

    // Download: a short-lived link; the bytes and the name as uploaded.
    let (link, expires) = h
        .app
        .attachment_link(&a2, id, &file.id, &ctx())
        .await
        .unwrap();
    assert_eq!(expires, h.app.now().plus(Duration::from_secs(300)));
    let (bytes, headers) = fetch(&h, &link).await;
    assert_eq!(bytes, REPORT);
    let disposition = &headers
        .iter()
        .find(|(n, _)| *n == "content-disposition")
        .unwrap()
        .1;
    assert!(disposition.starts_with("attachment; "));
    assert!(disposition.contains("filename*=UTF-8''%E6%9C%88%E6%AC%A1"));
    h.advance(Duration::from_secs(301));
    let query = link.split_once('?').unwrap().1;
    assert_eq!(h.files.download(query).unwrap_err().0, 403, "expired link");

    // Another tenant: nothing to see, nothing to confirm.
    let r = h.app.attachment_link(&b, id, &file.id, &ctx()).await;
    assert_eq!(code(r), (404, "not_found".into()));
    assert_eq!(
        code(h.app.attachment_form(&b, id, false).await),
        (404, "not_found".into())
    );
    let t3 = h.app.attachment_form(&a, id, false).await.unwrap();
    let (key3, _) = uploaded(&h, &t3, "a3.pdf", b"third").await;
    for (who, k) in [(&b, key3.as_str()), (&a2, key3.as_str())] {
        let r = h
            .app
            .confirm_attachment(who, id, &confirmation(k), None, &ctx())
            .await;
        assert_eq!(code(r), (400, "attachment_key_invalid".into()));
    }
    // ... and the refusal leaves another user's upload alone.
    assert!(h.files.head(&key3).await.unwrap().is_some());

    // Bad input: 400, nothing registered, the refused upload removed.
    let before = thread_files(&h, &a, id).await;
    let bad_key = format!(
        "att/{TENANT_B}/{id}/{}/01KB0000000000000000000000/x.pdf",
        a.id
    );
    for (k, expected) in [
        (bad_key.as_str(), "attachment_key_invalid"),
        ("att/../../etc/passwd", "attachment_key_invalid"),
        ("other/prefix.pdf", "attachment_key_invalid"),
        (
            &format!("{prefix}01KB0000000000000000000000/none.pdf"),
            "attachment_not_found",
        ),
    ] {
        let r = h
            .app
            .confirm_attachment(&a, id, &confirmation(k), None, &ctx())
            .await;
        assert_eq!(code(r), (400, expected.into()), "{k}");
    }
    let wrong_size = Confirmation {
        key: &key3,
        size: Some(4),
        etag: None,
        state: None,
    };
    let r = h
        .app
        .confirm_attachment(&a, id, &wrong_size, None, &ctx())
        .await;
    assert_eq!(code(r), (400, "attachment_mismatch".into()));
    // Only the client's claim is wrong: the upload stays, for a right one.
    assert!(h.files.head(&key3).await.unwrap().is_some());
    let t4 = h.app.attachment_form(&a, id, false).await.unwrap();
    let (page, _) = uploaded(&h, &t4, "page.html", b"<script>alert(1)</script>").await;
    let r = h
        .app
        .confirm_attachment(&a, id, &confirmation(&page), None, &ctx())
        .await;
    assert_eq!(code(r), (400, "attachment_type_not_allowed".into()));
    assert!(h.files.head(&page).await.unwrap().is_none(), "removed");
    assert_eq!(thread_files(&h, &a, id).await, before);

    // The store's own limits: empty, too large, outside the prefix, an
    // expired form, a form changed by the browser.
    let t5 = h.app.attachment_form(&a, id, false).await.unwrap();
    assert_eq!(
        upload(&h, &t5.form, "e.pdf", b"").await.unwrap_err().1,
        "EntityTooSmall"
    );
    let mut moved = t5.form.clone();
    moved.fields[0].1 = format!("att/{TENANT_B}/x/${{filename}}");
    assert_eq!(upload(&h, &moved, "m.pdf", b"x").await.unwrap_err().0, 403);
    let mut redirected = t5.form.clone();
    redirected.fields[2] = (
        "success_action_redirect".into(),
        "https://evil.example/".into(),
    );
    assert_eq!(
        upload(&h, &redirected, "r.pdf", b"x").await.unwrap_err().0,
        403
    );
    h.advance(Duration::from_secs(3601));
    assert_eq!(
        upload(&h, &t5.form, "late.pdf", b"x").await.unwrap_err().0,
        403
    );

    // The desk attaches its report (a file it put under the case's desk/).
    let desk_key = format!("att/{TENANT_A}/{id}/desk/2026-11/report.pdf");
    let event = json!({
        "action": "case-update", "number": case.number,
        "attach": { "key": desk_key, "name": "月次レポート2026年11月.pdf" },
        "comment": "11月分の月次レポートです。",
    });
    tobira_migrate_batch::handle(&h.app, event).await.unwrap();
    let d = h.app.case_detail(&a, id).await.unwrap();
    let last = d.thread.last().unwrap();
    assert_eq!((last.by, last.attachments[0].size), (Author::Support, None));
    assert_eq!(last.attachments[0].name, "月次レポート2026年11月.pdf");
    for bad in [
        json!({ "key": format!("att/{TENANT_B}/{id}/desk/r.pdf") }),
        json!({ "key": format!("att/{TENANT_A}/{id}/desk/../r.pdf") }),
        json!({ "key": format!("att/{TENANT_A}/{id}/desk/r.exe") }),
    ] {
        let e = json!({ "action": "case-update", "number": case.number, "attach": bad });
        let r = tobira_migrate_batch::handle(&h.app, e).await;
        assert_eq!(tobira_web::errors::status(&r.unwrap_err()), 400, "{bad}");
    }

    // Audited: each file put on the case, each link handed out.
    let kinds = h.audit_kinds(TENANT_A).await;
    let count = |k: &str| kinds.iter().filter(|x| *x == k).count();
    assert_eq!(
        (count("case.attached"), count("case.attachment.link")),
        (3, 1)
    );

    // A closed case takes no more files.
    h.app
        .move_case(&a, id, tobira::cases::Move::Close, None, &ctx())
        .await
        .unwrap();
    let r = h.app.attachment_form(&a, id, false).await;
    assert_eq!(code(r), (409, "case_closed".into()));
}

#[tokio::test]
async fn case_6_attachments_on_the_embedded_store() {
    case_6_on(harness_over(Arc::new(SqliteStore::in_memory()))).await;
}

#[tokio::test]
async fn case_6_attachments_on_dynamodb() {
    case_6_on(on_dynamodb().await).await;
}

/// The value of every hidden input of the page's upload form.
fn attach_form(html: &str) -> UploadForm {
    let start = html.find("id=\"attach-form\"").expect("an upload form");
    let form = &html[html[..start].rfind("<form").unwrap()..];
    let form = &form[..form.find("</form>").unwrap()];
    let unescape = |s: &str| {
        s.replace("&quot;", "\"")
            .replace("&#x27;", "'")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    let attr = |tag: &str, name: &str| {
        let needle = format!("{name}=\"");
        let at = tag.find(&needle)? + needle.len();
        Some(unescape(&tag[at..at + tag[at..].find('"')?]))
    };
    let action = attr(form, "action").unwrap();
    let fields = form
        .split("<input type=\"hidden\"")
        .skip(1)
        .map(|tag| (attr(tag, "name").unwrap(), attr(tag, "value").unwrap()))
        .collect();
    UploadForm { action, fields }
}

/// The page journey: the case page's form, the upload, the store's
/// redirect to the confirmation, the file on the page, its download; the
/// JSON client's; another tenant's 404.
#[tokio::test]
async fn case_6_pages_and_api_attach_and_download() {
    let h = Harness::new();
    let mut c = signed_in(&h, "attach-page@example.com", TENANT_A, "ecid9000000021").await;
    let (id, _) = create(&mut c, "添付のテスト").await;
    let page = c.get(&format!("/cases/{id}")).await;
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("form-action 'self'; connect-src 'self'"),
        "{csp}"
    );
    let html = body_text(&page);
    assert!(html.contains("enctype=\"multipart/form-data\""));
    let form = attach_form(&html);
    assert_eq!(form.action, "/_files/upload");

    let location = match upload(&h, &form, "請求書.pdf", REPORT).await.unwrap() {
        Uploaded::Redirect(l) => l,
        other => panic!("{other:?}"),
    };
    let confirm = location.strip_prefix("https://portal.example.com").unwrap();
    assert!(confirm.starts_with(&format!("/cases/{id}/uploads/confirm?state=")));
    assert!(confirm.contains("&bucket=local&key=att%2F"), "{confirm}");
    // The bounce keeps the state (and the key): what it sends on works.
    let state = confirm
        .split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    // Without the session cookie (held back after the store's redirect),
    // the page sends the browser on from the portal's own origin.
    let mut stranger = crate::mfa_support::Client::new(&h);
    let bounce = stranger.get(confirm).await;
    assert_eq!(bounce.status(), 200);
    let bounce = body_text(&bounce);
    assert!(
        bounce.contains("http-equiv=\"refresh\"") && bounce.contains("b=1"),
        "{bounce}"
    );
    assert!(bounce.contains(&format!("state={state}")), "{bounce}");
    let again = stranger.get(&format!("{confirm}&b=1")).await;
    assert_eq!(again.headers()["location"], "/login");
    // With it: on the case.
    let done = c.get(confirm).await;
    assert_eq!(done.status(), 303);
    assert_eq!(
        done.headers()["location"],
        &format!("/cases/{id}?notice=attachment_added")
    );
    let html = body_text(&c.get(&format!("/cases/{id}")).await);
    assert!(html.contains("請求書.pdf"), "{html}");
    let href_at = html.find(&format!("/cases/{id}/attachments/")).unwrap();
    let href = &html[href_at..href_at + html[href_at..].find('"').unwrap()];
    // A reload of the confirmation changes nothing.
    assert_eq!(
        c.get(confirm).await.headers()["location"],
        &format!("/cases/{id}")
    );

    let to_file = c.get(href).await;
    assert_eq!(to_file.status(), 303);
    let link = to_file.headers()["location"].to_str().unwrap().to_string();
    assert!(link.starts_with("/_files/get?"));
    assert_eq!(fetch(&h, &link).await.0, REPORT);

    // The JSON client: a form (201 from the store), confirm, a link.
    let (s, t) = c.post(&format!("/api/cases/{id}/uploads"), json!({})).await;
    assert_eq!(s, 201, "{t}");
    let fields: Vec<(String, String)> = serde_json::from_value(t["fields"].clone()).unwrap();
    assert!(fields.contains(&("success_action_status".into(), "201".into())));
    let form = UploadForm {
        action: t["action"].as_str().unwrap().into(),
        fields,
    };
    let Uploaded::Created { key, etag } = upload(&h, &form, "log.csv", b"a,b\n").await.unwrap()
    else {
        panic!("201");
    };
    let body = json!({ "key": key, "etag": etag, "size": 4, "note": "CSVです" });
    let (s, entry) = c.post(&format!("/api/cases/{id}/attachments"), body).await;
    assert_eq!(s, 201, "{entry}");
    assert_eq!(entry["attachments"][0]["content_type"], "text/csv");
    assert!(
        entry["attachments"][0].get("key").is_none(),
        "the key stays inside"
    );
    let file = entry["attachments"][0]["id"].as_str().unwrap();
    let (s, got) = get_json(&mut c, &format!("/api/cases/{id}/attachments/{file}")).await;
    assert_eq!(s, 200, "{got}");
    assert_eq!(fetch(&h, got["url"].as_str().unwrap()).await.0, b"a,b\n");
    let (s, bad) = c
        .post(
            &format!("/api/cases/{id}/attachments"),
            json!({ "key": "x", "extra": 1 }),
        )
        .await;
    assert_eq!((s, bad["error"].as_str()), (400, Some("invalid_json")));

    // Another tenant's user: 404 for the download, page and API.
    let mut other = signed_in(&h, "attach-other@example.com", TENANT_B, "ecid9000000022").await;
    assert_eq!(other.get(href).await.status(), 404);
    let (s, _) = get_json(&mut other, &format!("/api/cases/{id}/attachments/{file}")).await;
    assert_eq!(s, 404);
    let (s, _) = other
        .post(&format!("/api/cases/{id}/uploads"), json!({}))
        .await;
    assert_eq!(s, 404);
}

/// CASE-6: the confirmation checks the store's figures itself — an empty
/// or too large object, a name that cannot be kept — and removes it.
#[tokio::test]
async fn case_6_confirmation_checks_what_the_store_holds() {
    let (h, store, u, id, prefix) = named_sizes().await;
    for (name, expected) in [
        ("empty.pdf", "attachment_empty"),
        ("big.pdf", "attachment_too_large"),
        ("bad\u{7}.pdf", "attachment_name_invalid"),
        ("noext", "attachment_type_not_allowed"),
        ("tag\u{E0041}.pdf", "attachment_name_invalid"),
        ("joined\u{200D}.pdf", "attachment_name_invalid"),
    ] {
        let key = format!("{prefix}{name}");
        let r = h
            .app
            .confirm_attachment(&u, &id, &confirmation(&key), None, &ctx())
            .await;
        assert_eq!(code(r), (400, expected.into()), "{name}");
        assert_eq!(store.deleted.lock().unwrap().last(), Some(&key), "removed");
    }
    let ok = format!("{prefix}ok.pdf");
    let etag_differs = Confirmation {
        key: &ok,
        size: Some(10),
        etag: Some("\"other\""),
        state: None,
    };
    let r = h
        .app
        .confirm_attachment(&u, &id, &etag_differs, None, &ctx())
        .await;
    assert_eq!(code(r), (400, "attachment_mismatch".into()));
    let d = h.app.case_detail(&u, &id).await.unwrap();
    assert!(d.thread.is_empty(), "nothing registered");
    // Only the client's claim was wrong: the upload stays for a right one.
    assert!(!store.deleted.lock().unwrap().contains(&ok));
}

/// CASE-6: confirmations at once — of one upload, and of two files posted
/// with one form: one is registered, the others are refused as such, and
/// the registered file is never put back to pending (which would let the
/// lifecycle rule remove it).
#[tokio::test]
async fn case_6_parallel_confirmations_never_release_the_registered_file() {
    let (h, store, u, id, prefix) = named_sizes().await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (app, u, id) = (h.app.clone(), u.clone(), id.clone());
        let key = format!("{prefix}{}.pdf", if i % 3 == 0 { "other" } else { "ok" });
        tasks.push(tokio::spawn(async move {
            let c = confirmation(&key);
            let r = app.confirm_attachment(&u, &id, &c, None, &ctx()).await;
            (key, r.map(|_| ()).map_err(|e| e.code()))
        }));
    }
    let mut won = Vec::new();
    let mut refused = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            (key, Ok(())) => won.push(key),
            (key, Err(code)) => refused.push((key, code)),
        }
    }
    assert_eq!(won.len(), 1, "{refused:?}");
    for (key, code) in &refused {
        let expected = match *key == won[0] {
            true => "attachment_already_added",
            false => "attachment_form_used",
        };
        assert_eq!(*code, expected, "{key}");
    }
    let kept = store.kept.lock().unwrap().clone();
    assert!(kept.contains(&(won[0].clone(), true)));
    assert!(!kept.contains(&(won[0].clone(), false)), "{kept:?}");
    let d = h.app.case_detail(&u, &id).await.unwrap();
    assert_eq!(d.thread.len(), 1);
}
