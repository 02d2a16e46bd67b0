//! CASE-6 under attack, on the embedded store and on DynamoDB: a forged
//! confirmation link, a replay that would remove a registered file, a form
//! used for a second file, a case closed meanwhile, another case of the same
//! user, a disabled user, invisible characters in a name, the desk's event
//! run twice; and the local store's own guards (its signatures, a key
//! written once, the number of fields).

use std::sync::Arc;

use serde_json::json;
use tobira::cases::{Confirmation, Move};
use tobira::files::FileStore;
use tobira::model::UserState;
use tobira_local::files::Uploaded;
use tobira_local::sqlite::SqliteStore;
use tobira_web::i18n::Lang;

use crate::attachments_support::*;
use crate::cases_support::*;
use crate::support::{ctx, Harness};

/// The state and key the store's redirect carries back.
fn redirected(up: Uploaded) -> (String, String) {
    let Uploaded::Redirect(location) = up else {
        panic!("a redirect")
    };
    let query = location.split_once('?').unwrap().1;
    let q: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
    let get = |n: &str| q.iter().find(|(k, _)| k == n).unwrap().1.clone();
    (get("state"), get("key"))
}

fn page(key: &str, state: &str) -> (String, String) {
    (key.to_string(), state.to_string())
}

async fn case_6_refusals_on(h: Harness) {
    let a = member(&h.app, "guard-a@example.com", TENANT_A, false, Lang::Ja).await;
    let case = h
        .app
        .create_case(&a, &inquiry("添付", "b"), &ctx())
        .await
        .unwrap();
    let other = h
        .app
        .create_case(&a, &inquiry("別件", "b"), &ctx())
        .await
        .unwrap();
    let id = case.id.as_str();
    let confirm_page = |(key, state): (String, String)| {
        let (h, a, id) = (&h, &a, id.to_string());
        async move {
            let c = Confirmation {
                key: &key,
                state: Some(&state),
                ..Default::default()
            };
            h.app.confirm_attachment(a, &id, &c, None, &ctx()).await
        }
    };

    // The page's form: the store sends the browser back with its state.
    let t = h.app.attachment_form(&a, id, true).await.unwrap();
    let up = upload(&h, &t.form, "report.pdf", b"the report")
        .await
        .unwrap();
    let (state, key) = redirected(up);
    assert_eq!(
        t.confirm,
        format!("/cases/{id}/uploads/confirm?state={state}")
    );
    // A link from anyone else carries no state of this upload's: nothing
    // happens, the upload stays.
    for forged in ["", "x", &state[1..]] {
        let r = confirm_page(page(&key, forged)).await;
        assert_eq!(
            code(r),
            (400, "attachment_state_invalid".into()),
            "{forged}"
        );
    }
    assert!(h.files.head(&key).await.unwrap().is_some());
    // The key names this case: not another case of the same user.
    let r = h
        .app
        .confirm_attachment(&a, &other.id, &confirmation(&key), None, &ctx())
        .await;
    assert_eq!(code(r), (400, "attachment_key_invalid".into()));
    confirm_page(page(&key, &state)).await.unwrap();

    // A replay that fails a check of the file (a wrong ETag) is refused as
    // a replay, and the registered file stays.
    let replay = Confirmation {
        key: &key,
        etag: Some("\"0000\""),
        state: Some(&state),
        ..Default::default()
    };
    let r = h
        .app
        .confirm_attachment(&a, id, &replay, None, &ctx())
        .await;
    assert_eq!(code(r), (409, "attachment_already_added".into()));
    let d = h.app.case_detail(&a, id).await.unwrap();
    let file = &d.thread.last().unwrap().attachments[0];
    let (link, _) = h
        .app
        .attachment_link(&a, id, &file.id, &ctx())
        .await
        .unwrap();
    assert_eq!(fetch(&h, &link).await.0, b"the report");

    // The same form for a second file: refused, left for the sweep.
    let second = upload(&h, &t.form, "second.pdf", b"two").await.unwrap();
    let (_, second) = redirected(second);
    let r = confirm_page(page(&second, &state)).await;
    assert_eq!(code(r), (409, "attachment_form_used".into()));
    assert!(h.files.head(&second).await.unwrap().is_some());
    // The same name again: locally a key is written once.
    let again = upload(&h, &t.form, "report.pdf", b"swapped").await;
    assert_eq!(again.unwrap_err().0, 403);
    assert_eq!(fetch(&h, &link).await.0, b"the report");

    // Invisible characters in a name: refused, removed.
    let t2 = h.app.attachment_form(&a, id, false).await.unwrap();
    let (rtl, _) = uploaded(&h, &t2, "invoice\u{202E}fdp.exe", b"x").await;
    let r = h
        .app
        .confirm_attachment(&a, id, &confirmation(&rtl), None, &ctx())
        .await;
    assert_eq!(code(r), (400, "attachment_name_invalid".into()));
    assert!(h.files.head(&rtl).await.unwrap().is_none());

    // A disabled user: no form, no confirmation, no link.
    let mut gone = a.clone();
    gone.state = UserState::Disabled;
    assert_eq!(code(h.app.attachment_form(&gone, id, true).await).0, 403);
    let t3 = h.app.attachment_form(&a, id, false).await.unwrap();
    let (late, _) = uploaded(&h, &t3, "late.pdf", b"late").await;
    let r = h
        .app
        .confirm_attachment(&gone, id, &confirmation(&late), None, &ctx())
        .await;
    assert_eq!(code(r).0, 403);
    assert_eq!(
        code(h.app.attachment_link(&gone, id, &file.id, &ctx()).await).0,
        403
    );

    // The desk's event run twice attaches its file once.
    let desk = json!({
        "action": "case-update", "number": case.number,
        "attach": { "key": format!("att/{TENANT_A}/{id}/desk/r.pdf") },
    });
    tobira_migrate_batch::handle(&h.app, desk.clone())
        .await
        .unwrap();
    let twice = tobira_migrate_batch::handle(&h.app, desk)
        .await
        .unwrap_err();
    assert_eq!(twice.code(), "attachment_already_added");

    // Closed after its form was issued: refused, the upload left alone.
    h.app
        .move_case(&a, id, Move::Close, None, &ctx())
        .await
        .unwrap();
    let r = h
        .app
        .confirm_attachment(&a, id, &confirmation(&late), None, &ctx())
        .await;
    assert_eq!(code(r), (409, "case_closed".into()));
    assert!(h.files.head(&late).await.unwrap().is_some());
    let entries = h.app.case_detail(&a, id).await.unwrap().thread;
    let files: usize = entries.iter().map(|e| e.attachments.len()).sum();
    assert_eq!(files, 2, "the report and the desk's file");
}

#[tokio::test]
async fn case_6_refusals_on_the_embedded_store() {
    case_6_refusals_on(harness_over(Arc::new(SqliteStore::in_memory()))).await;
}

#[tokio::test]
async fn case_6_refusals_on_dynamodb() {
    case_6_refusals_on(on_dynamodb().await).await;
}

/// CASE-6: the local store takes only the forms and links it signed, as
/// they were signed, and a bounded number of fields.
#[tokio::test]
async fn case_6_local_store_takes_only_what_it_signed() {
    let h = Harness::new();
    let a = member(&h.app, "signed@example.com", TENANT_A, false, Lang::En).await;
    let case = h
        .app
        .create_case(&a, &inquiry("s", "b"), &ctx())
        .await
        .unwrap();
    let t = h.app.attachment_form(&a, &case.id, false).await.unwrap();
    let field = |name: &str| t.form.fields.iter().position(|(k, _)| k == name).unwrap();
    for (name, value) in [
        ("policy", "e30"),
        ("signature", "AAAA"),
        ("Content-Type", "text/html"),
        ("success_action_status", "200"),
    ] {
        let mut form = t.form.clone();
        form.fields[field(name)].1 = value.into();
        let r = upload(&h, &form, "a.pdf", b"x").await;
        assert_eq!(r.unwrap_err().0, 403, "{name}");
    }
    let mut crowded = t.form.clone();
    // Parts are counted, not names: the same name twenty times too.
    for _ in 0..20 {
        crowded
            .fields
            .insert(0, ("x-ignore-same".into(), "v".into()));
    }
    let r = upload(&h, &crowded, "a.pdf", b"x").await;
    assert_eq!(r.unwrap_err().1, "MalformedPOSTRequest");

    let (key, _) = uploaded(&h, &t, "a.pdf", b"bytes").await;
    let c = confirmation(&key);
    let entry = h
        .app
        .confirm_attachment(&a, &case.id, &c, None, &ctx())
        .await
        .unwrap();
    let (link, _) = h
        .app
        .attachment_link(&a, &case.id, &entry.attachments[0].id, &ctx())
        .await
        .unwrap();
    let query = link.split_once('?').unwrap().1;
    assert!(h.files.download(query).is_ok());
    for (from, to) in [("a.pdf", "b.pdf"), ("application%2Fpdf", "text%2Fhtml")] {
        let changed = query.replacen(from, to, 1);
        assert_ne!(changed, query);
        assert_eq!(h.files.download(&changed).unwrap_err().0, 403, "{to}");
    }
}
