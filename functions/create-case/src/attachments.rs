//! CASE-6 at the edge: the upload form (the page's, or the API's for a
//! script or a client), the confirmation the file store sends the browser
//! back to, and downloads. The file itself never passes through here.

use serde::Deserialize;
use tobira::cases::{Confirmation, UploadTicket};
use tobira::{App, Error};
use tobira_web::call::Call;
use tobira_web::errors;
use tobira_web::i18n::{t, Lang};
use tobira_web::or_refuse;
use tobira_web::pages::{size_label, AttachForm};
use tobira_web::views;
use tobira_web::web::{self, Response};

use crate::{after_case_form, refused, signed};

/// The case page's form: the ticket, the `accept` list and the hint.
pub(crate) fn form_of<'a>(app: &App, ticket: &'a UploadTicket, lang: Lang) -> AttachForm<'a> {
    let p = &app.config.cases.attachments;
    let accept: Vec<String> = p.types.iter().map(|(e, _)| format!(".{e}")).collect();
    AttachForm {
        ticket,
        accept: accept.join(","),
        hint: t(lang, "case.attach_hint")
            .replace("{max}", &size_label(p.max_bytes))
            .replace("{types}", &p.extensions()),
    }
}

/// `POST /api/cases/{id}/uploads`: a form to upload one file (the
/// store answers 201; then confirm).
pub(crate) async fn api_form(app: &App, call: &Call<'_>, id: &str) -> Response {
    let result = async {
        let s = signed(app, call).await?;
        call.no_input(app)?;
        Ok((201, app.attachment_form(&s.user, id, false).await?))
    }
    .await;
    errors::api(result, call.lang)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmInput {
    key: String,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    etag: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

/// `POST /api/cases/{id}/attachments`: put an upload on the case.
pub(crate) async fn api_confirm(app: &App, call: &Call<'_>, id: &str) -> Response {
    let s = match signed(app, call).await {
        Ok(s) => s,
        Err(e) => return refused(app, call, &e).await,
    };
    let f: ConfirmInput = or_refuse!(app, call, call.input(app));
    let c = Confirmation {
        key: &f.key,
        size: f.size,
        etag: f.etag.as_deref(),
        state: None,
    };
    let result = app
        .confirm_attachment(&s.user, id, &c, f.note.as_deref(), &call.ctx)
        .await;
    errors::api(result.map(|c| (201, c)), call.lang)
}

/// `GET /cases/{id}/uploads/confirm?state=…&key=…&etag=…`: where the
/// file store sends the browser after an upload (or the upload script
/// does). The session cookie is `SameSite=Strict`, which a browser may hold
/// back after a redirect from the store's site: without a session the page
/// sends the browser here again from the portal's own page (`b=1`), which
/// carries it. A GET that changes something, so it must carry the state of
/// the user's own upload form (a MAC): a link from elsewhere confirms
/// nothing.
pub(crate) async fn confirm_page(app: &App, call: &Call<'_>, id: &str) -> Response {
    let req = call.req;
    let key = web::query_param(req, "key").unwrap_or_default();
    let etag = web::query_param(req, "etag");
    let state = web::query_param(req, "state").unwrap_or_default();
    let s = match signed(app, call).await {
        Ok(s) => s,
        Err(Error::NotSignedIn) if web::query_param(req, "b").is_none() => {
            return bounce(call, id, &state, &key, etag.as_deref());
        }
        Err(e) => return views::session_refused(app, req, &e).await,
    };
    let c = Confirmation {
        key: &key,
        size: None,
        etag: etag.as_deref(),
        state: Some(&state),
    };
    let result = app
        .confirm_attachment(&s.user, id, &c, None, &call.ctx)
        .await;
    let result = result.map(|_| "attachment_added");
    // A replayed confirmation (back, reload) shows the case as it is.
    if let Err(e @ Error::Conflict { .. }) = &result {
        if e.code() == "attachment_already_added" {
            return web::redirect(&format!("/cases/{id}"));
        }
    }
    after_case_form(app, call, id, result).await
}

/// The page that sends the browser on to the confirmation from the
/// portal's own origin (no script: a refresh, and a link).
fn bounce(call: &Call<'_>, id: &str, state: &str, key: &str, etag: Option<&str>) -> Response {
    if id.len() != 26 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return web::redirect("/cases");
    }
    let mut q = vec![("state", state), ("key", key), ("b", "1")];
    if let Some(e) = etag {
        q.push(("etag", e));
    }
    let query = serde_urlencoded::to_string(q).expect("strings encode");
    // Percent-encoded: nothing in it needs escaping in an attribute but `&`.
    let url = format!("/cases/{id}/uploads/confirm?{query}").replace('&', "&amp;");
    let lang = call.lang;
    web::html(
        200,
        format!(
            "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0; url={url}\"><title>{}</title></head><body><p>{}</p><p><a href=\"{url}\" id=\"bounce\">{}</a></p></body></html>",
            lang.code(),
            t(lang, "case.attach_bounce"),
            t(lang, "case.attach_bounce"),
            t(lang, "case.attach_bounce_link"),
        ),
    )
}

/// `GET /cases/{id}/attachments/{file}`: the page goes to a short-lived
/// link (303); the API answers it with when it expires.
pub(crate) async fn download(app: &App, call: &Call<'_>, id: &str, file: &str) -> Response {
    let s = match signed(app, call).await {
        Ok(s) => s,
        Err(e) => return refused(app, call, &e).await,
    };
    let result = app.attachment_link(&s.user, id, file, &call.ctx).await;
    match (result, call.is_json()) {
        (Ok((url, expires_at)), true) => web::json(
            200,
            &serde_json::json!({ "url": url, "expires_at": expires_at }),
        ),
        (Ok((url, _)), false) => web::redirect(&url),
        (Err(e), true) => call.refuse(app, &e),
        (Err(e), false) => views::not_shown(app, call, &e),
    }
}
